import { startMetricCapture, type MetricCapture } from './metric-capture';
import { serviceMeter, startPolledGauges } from './polled-gauge';

let capture: MetricCapture;
beforeEach(() => {
  capture = startMetricCapture();
});
afterEach(() => capture.stop());

const GAUGES = {
  'test.pending': { description: 'pending things', unit: '{thing}' },
  'test.overdue': { description: 'overdue things', unit: '{thing}' },
};

it('reads once per max age however often metrics are collected, and reports every gauge of the reading', async () => {
  let reads = 0;
  const gauges = startPolledGauges(
    serviceMeter('test'),
    GAUGES,
    async () => {
      reads++;
      return { 'test.pending': 10 * reads, 'test.overdue': reads };
    },
    { maxAgeMs: 60_000 },
  );
  try {
    expect((await capture.points('test.pending')).map((p) => p.value)).toEqual([10]);
    expect((await capture.points('test.overdue')).map((p) => p.value)).toEqual([1]);
    expect(reads).toBe(1);
  } finally {
    gauges.stop();
  }
});

it('keeps the last values when a read fails, and reads again once they are too old', async () => {
  let fail = false;
  let reads = 0;
  const gauges = startPolledGauges(
    serviceMeter('test'),
    GAUGES,
    async () => {
      reads++;
      if (fail) throw new Error('database away');
      return { 'test.pending': reads, 'test.overdue': 0 };
    },
    { maxAgeMs: 0 },
  );
  try {
    expect((await capture.points('test.pending')).map((p) => p.value)).toEqual([1]);
    fail = true;
    expect((await capture.points('test.pending')).map((p) => p.value)).toEqual([1]);
    fail = false;
    expect((await capture.points('test.pending')).map((p) => p.value)).toEqual([3]);
  } finally {
    gauges.stop();
  }
});

it('does not hold up a collection longer than waitMs for a slow read', async () => {
  const gauges = startPolledGauges(
    serviceMeter('test'),
    GAUGES,
    () => new Promise<Record<keyof typeof GAUGES, number>>(() => undefined), // never answers
    { waitMs: 50 },
  );
  try {
    const started = Date.now();
    expect(await capture.points('test.pending')).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  } finally {
    gauges.stop();
  }
});
