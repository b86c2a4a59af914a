// The outbox metrics against the real database and broker: the backlog gauge follows unsent events, the counters
// follow what the relay sent or failed to send.
import type { EventProducer } from '@o2o/kit-kafka';
import { startMetricCapture, type MetricCapture } from '@o2o/kit-telemetry';
import { waitFor } from '@o2o/kit-testing';
import { cleanUp, gatedProducer, startHarness, testEvent, type Harness } from './harness';
import { OUTBOX_BACKLOG, OUTBOX_PUBLISHED, OUTBOX_PUBLISH_FAILURES, trackOutboxBacklog } from '../src/outbox-metrics';
import { HAS_OUTBOX_ENTRIES, startOutboxRelay } from '../src/outbox-relay';

jest.setTimeout(60_000);

let h: Harness;
let capture: MetricCapture;
const cleanup: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  capture = startMetricCapture();
  h = await startHarness();
});
afterEach(async () => {
  await cleanUp([...cleanup.splice(0).reverse(), () => h.close(), () => capture.stop()]);
});

async function backlog(): Promise<number | undefined> {
  const points = await capture.points(OUTBOX_BACKLOG);
  return points.find((p) => p.attributes['o2o.outbox.collection'] === 'aggregates')?.value;
}

async function counter(name: string): Promise<Record<string, number>> {
  const points = await capture.points(name);
  return Object.fromEntries(
    points.map((p) => [
      String(p.attributes['cloudevents.event_type'] ?? p.attributes['o2o.outbox.collection']),
      p.value,
    ]),
  );
}

async function insertAggregates(count: number, eventsEach: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const key = `agg-${i}`;
    const events = Array.from({ length: eventsEach }, (_, seq) => testEvent(h.topic, key, seq));
    await h.collection.insertOne({ _id: key as never, outbox: events });
  }
}

it('reports the documents with unsent events while they wait, and zero once they are published', async () => {
  await insertAggregates(3, 2);
  const real = await h.kafka.producer();
  cleanup.push(() => real.disconnect());
  const gated = gatedProducer(real);
  cleanup.push(async () => gated.open());
  const relay = startOutboxRelay({
    collection: h.collection,
    producer: gated.producer,
    logger: h.logger,
    pollIntervalMs: 50,
  });
  cleanup.push(() => relay.stop());

  await gated.sending; // claimed and being sent, not yet acknowledged
  expect(await backlog()).toBe(3);
  expect(await counter(OUTBOX_PUBLISHED)).toEqual({});

  gated.open();
  await waitFor(async () => (await relay.pending()) === 0, { what: 'an empty outbox' });
  await waitFor(async () => (await backlog()) === 0, { what: 'the backlog gauge at zero' });
  expect(await counter(OUTBOX_PUBLISHED)).toEqual({ 'o2o.test.v1.ThingHappened': 6 });
  expect(await counter(OUTBOX_PUBLISH_FAILURES)).toEqual({});
});

it('counts failed publishes, and the events once the broker accepts them', async () => {
  await insertAggregates(1, 2);
  const real = await h.kafka.producer();
  cleanup.push(() => real.disconnect());
  let failuresLeft = 2;
  const failing: EventProducer = {
    async send(messages) {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('simulated: NOT_ENOUGH_REPLICAS');
      }
      await real.send(messages);
    },
    disconnect: async () => undefined,
  };
  const relay = startOutboxRelay({
    collection: h.collection,
    producer: failing,
    logger: h.logger,
    pollIntervalMs: 50,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  cleanup.push(() => relay.stop());

  await waitFor(async () => (await relay.pending()) === 0, { what: 'an empty outbox' });
  expect(await counter(OUTBOX_PUBLISH_FAILURES)).toEqual({ aggregates: 4 }); // two failed sends of two events
  expect(await counter(OUTBOX_PUBLISHED)).toEqual({ 'o2o.test.v1.ThingHappened': 2 });
});

it('counts the backlog itself when no relay runs (Kafka unreachable since start-up)', async () => {
  await insertAggregates(4, 1);
  await h.collection.insertOne({ _id: 'published' as never, outbox: [] });
  const tracked = trackOutboxBacklog(h.collection, HAS_OUTBOX_ENTRIES);
  cleanup.push(async () => tracked.untrack());

  expect(await backlog()).toBe(4);
  await h.collection.updateOne({ _id: 'agg-0' as never }, { $set: { outbox: [] } });
  // Counted again only after COUNT_INTERVAL_MS: a scrape every few seconds costs one query per 15 s, not one each.
  expect(await backlog()).toBe(4);
});
