import {
  DEFAULT_SPEED_MPS,
  distanceM,
  estimateEta,
  etaSpeed,
  type Fix,
  initialSpeed,
  isCarrying,
  isFinal,
  MAX_ETA_SPEED_MPS,
  MIN_ETA_SPEED_MPS,
  nextSpeed,
  type RawFix,
  ROAD_FACTOR,
  type SpeedState,
  TokenBucket,
  validateFix,
} from './tracking';

const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const SHANGHAI = { latitude: 31.2304, longitude: 121.4737 };

function raw(overrides: Partial<RawFix> = {}): RawFix {
  return { point: SHANGHAI, time: new Date(NOW), speedMps: 4, headingDeg: 90, accuracyM: 8, ...overrides };
}

function fixAt(seconds: number, point = SHANGHAI, overrides: Partial<Fix> = {}): Fix {
  return { point, time: new Date(NOW + seconds * 1000), speedMps: 0, headingDeg: 0, accuracyM: 5, ...overrides };
}

/** A point `metres` north of `from` (1° of latitude ≈ 111.2 km). */
function north(from: { latitude: number; longitude: number }, metres: number) {
  return { latitude: from.latitude + metres / 111_195, longitude: from.longitude };
}

describe('validateFix', () => {
  it('accepts a sound fix and copies it', () => {
    const input = raw();
    const verdict = validateFix(input, { nowMs: NOW });
    expect(verdict).toEqual({ ok: true, fix: { ...input, point: SHANGHAI, time: new Date(NOW) } });
    if (verdict.ok) expect(verdict.fix.point).not.toBe(input.point);
  });

  it('accepts the edges of every range: poles, the antimeridian, speed and accuracy 0, heading 360', () => {
    for (const point of [
      { latitude: 90, longitude: 0 },
      { latitude: -90, longitude: 0 },
      { latitude: 0, longitude: 180 },
      { latitude: 0, longitude: -180 },
    ]) {
      expect(validateFix(raw({ point }), { nowMs: NOW }).ok).toBe(true);
    }
    expect(validateFix(raw({ speedMps: 0, accuracyM: 0, headingDeg: 360 }), { nowMs: NOW }).ok).toBe(true);
  });

  it('refuses a missing point or time as missing_field', () => {
    expect(validateFix(raw({ point: undefined }), { nowMs: NOW })).toEqual({ ok: false, reason: 'missing_field' });
    expect(validateFix(raw({ time: undefined }), { nowMs: NOW })).toEqual({ ok: false, reason: 'missing_field' });
    expect(validateFix(raw({ time: new Date(NaN) }), { nowMs: NOW })).toEqual({ ok: false, reason: 'missing_field' });
  });

  it.each([
    ['latitude above 90', { point: { latitude: 90.0001, longitude: 0 } }],
    ['latitude below -90', { point: { latitude: -91, longitude: 0 } }],
    ['longitude above 180', { point: { latitude: 0, longitude: 180.5 } }],
    ['longitude below -180', { point: { latitude: 0, longitude: -181 } }],
    ['NaN latitude', { point: { latitude: NaN, longitude: 0 } }],
    ['infinite longitude', { point: { latitude: 0, longitude: Infinity } }],
    ['negative speed', { speedMps: -1 }],
    ['absurd speed', { speedMps: 150 }],
    ['NaN speed', { speedMps: NaN }],
    ['negative accuracy', { accuracyM: -3 }],
    ['useless accuracy', { accuracyM: 50_000 }],
    ['negative heading', { headingDeg: -1 }],
    ['heading above 360', { headingDeg: 361 }],
  ])('refuses %s as out_of_range', (_name, overrides) => {
    expect(validateFix(raw(overrides), { nowMs: NOW })).toEqual({ ok: false, reason: 'out_of_range' });
  });

  it('allows a device clock up to 30 s ahead, refuses more as time_in_future', () => {
    expect(validateFix(raw({ time: new Date(NOW + 30_000) }), { nowMs: NOW }).ok).toBe(true);
    expect(validateFix(raw({ time: new Date(NOW + 30_001) }), { nowMs: NOW })).toEqual({
      ok: false,
      reason: 'time_in_future',
    });
  });

  it('requires the time to rise strictly after the previous accepted fix', () => {
    const context = { previousMs: NOW, nowMs: NOW + 5_000 };
    expect(validateFix(raw({ time: new Date(NOW) }), context)).toEqual({ ok: false, reason: 'time_not_rising' });
    expect(validateFix(raw({ time: new Date(NOW - 1) }), context)).toEqual({ ok: false, reason: 'time_not_rising' });
    expect(validateFix(raw({ time: new Date(NOW + 1) }), context).ok).toBe(true);
  });

  it('counts a report with several faults under the first check', () => {
    const bad = raw({ point: { latitude: 99, longitude: 0 }, time: new Date(NOW + 60_000) });
    expect(validateFix(bad, { nowMs: NOW })).toEqual({ ok: false, reason: 'out_of_range' });
  });
});

describe('TokenBucket', () => {
  it('lets a burst of one second through, then the steady rate', () => {
    const bucket = new TokenBucket(10);
    const taken = Array.from({ length: 15 }, () => bucket.take(NOW)).filter(Boolean).length;
    expect(taken).toBe(10);
    expect(bucket.take(NOW + 50)).toBe(false);
    expect(bucket.take(NOW + 100)).toBe(true);
    expect(bucket.take(NOW + 100)).toBe(false);
  });

  it('never saves more than the burst, however long it was idle', () => {
    const bucket = new TokenBucket(5, 2);
    expect(bucket.take(NOW)).toBe(true);
    const later = NOW + 3_600_000;
    expect([bucket.take(later), bucket.take(later), bucket.take(later)]).toEqual([true, true, false]);
  });

  it('gains nothing from a clock that goes backwards', () => {
    const bucket = new TokenBucket(1);
    expect(bucket.take(NOW)).toBe(true);
    expect(bucket.take(NOW - 10_000)).toBe(false);
    expect(bucket.take(NOW + 999)).toBe(false);
    expect(bucket.take(NOW + 1_000)).toBe(true);
  });

  it('holds 20 reports a second from a 10/s stream well under the limit', () => {
    const bucket = new TokenBucket(20);
    let dropped = 0;
    for (let i = 0; i < 600; i++) if (!bucket.take(NOW + i * 100)) dropped++;
    expect(dropped).toBe(0);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket(0)).toThrow(/above 0/);
  });
});

describe('distanceM', () => {
  it('is zero for the same point and symmetric', () => {
    expect(distanceM(SHANGHAI, SHANGHAI)).toBe(0);
    const other = { latitude: 31.1, longitude: 121.3 };
    expect(distanceM(SHANGHAI, other)).toBeCloseTo(distanceM(other, SHANGHAI), 6);
  });

  it('matches known distances: one degree of latitude, a quarter meridian, Shanghai to Beijing', () => {
    expect(distanceM({ latitude: 0, longitude: 0 }, { latitude: 1, longitude: 0 })).toBeCloseTo(111_195, -1);
    expect(distanceM({ latitude: 0, longitude: 0 }, { latitude: 90, longitude: 0 })).toBeCloseTo(10_007_543, -2);
    const beijing = { latitude: 39.9042, longitude: 116.4074 };
    expect(distanceM(SHANGHAI, beijing) / 1000).toBeCloseTo(1067, -1);
  });

  it('takes the short way across the antimeridian', () => {
    const west = { latitude: 0, longitude: 179.9 };
    const east = { latitude: 0, longitude: -179.9 };
    expect(distanceM(west, east)).toBeCloseTo(22_239, -1);
  });

  it('treats every longitude at a pole as the same point', () => {
    expect(distanceM({ latitude: 90, longitude: 0 }, { latitude: 90, longitude: 135 })).toBeCloseTo(0, 6);
    expect(distanceM({ latitude: -90, longitude: -45 }, { latitude: -90, longitude: 170 })).toBeCloseTo(0, 6);
  });

  it('answers half the circumference for antipodal points, never NaN', () => {
    const d = distanceM({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 });
    expect(d).toBeCloseTo(Math.PI * 6_371_008.8, 0);
    expect(distanceM({ latitude: 90, longitude: 0 }, { latitude: -90, longitude: 0 })).not.toBeNaN();
  });
});

describe('speed estimate', () => {
  function ride(fixes: Fix[]): SpeedState {
    return fixes.reduce(nextSpeed, initialSpeed());
  }

  it('assumes an e-bike with no data at all', () => {
    expect(etaSpeed(initialSpeed())).toBe(DEFAULT_SPEED_MPS);
  });

  it('uses the reported speed until a speed was observed', () => {
    expect(etaSpeed(ride([fixAt(0, SHANGHAI, { speedMps: 6 })]))).toBe(6);
    // A device that says it stands still does not make the ETA infinite: the default applies.
    expect(etaSpeed(ride([fixAt(0, SHANGHAI, { speedMps: 0 })]))).toBe(DEFAULT_SPEED_MPS);
  });

  it('observes distance over time between fixes at least 3 s apart, whatever the ping rate', () => {
    // 10 fixes a second at 5 m/s for 10 s.
    const fixes = Array.from({ length: 101 }, (_, i) => fixAt(i / 10, north(SHANGHAI, i * 0.5)));
    expect(etaSpeed(ride(fixes))).toBeCloseTo(5, 1);
  });

  it('ignores zero elapsed time instead of dividing by it', () => {
    const state = ride([fixAt(0), fixAt(5, north(SHANGHAI, 30))]);
    const same = nextSpeed(state, fixAt(5, north(SHANGHAI, 500)));
    expect(same.averageMps).toBe(state.averageMps);
    expect(Number.isFinite(etaSpeed(same))).toBe(true);
  });

  it('keeps the travel speed while the courier stands still (jitter within accuracy is not speed)', () => {
    const moving = ride([fixAt(0), fixAt(10, north(SHANGHAI, 60))]);
    expect(moving.averageMps).toBeCloseTo(6, 5);
    let standing = moving;
    for (let s = 11; s < 300; s++) {
      standing = nextSpeed(standing, fixAt(s, north(north(SHANGHAI, 60), s % 2 ? 3 : -3), { accuracyM: 8 }));
    }
    expect(standing.averageMps).toBeCloseTo(6, 5);
  });

  it('smooths changes: a faster stretch moves the average part of the way', () => {
    let state = ride([fixAt(0), fixAt(10, north(SHANGHAI, 40))]);
    expect(state.averageMps).toBeCloseTo(4, 5);
    state = nextSpeed(state, fixAt(20, north(SHANGHAI, 40 + 100)));
    expect(state.averageMps).toBeGreaterThan(4);
    expect(state.averageMps).toBeLessThan(10);
  });

  it('skips glitches and long gaps', () => {
    const base = ride([fixAt(0), fixAt(10, north(SHANGHAI, 50))]);
    const jump = nextSpeed(base, fixAt(15, north(SHANGHAI, 50 + 5_000)));
    expect(jump.averageMps).toBe(base.averageMps);
    const gap = nextSpeed(base, fixAt(10 + 600, north(SHANGHAI, 5_000)));
    expect(gap.averageMps).toBe(base.averageMps);
  });

  it('keeps the ETA speed within its bounds', () => {
    expect(etaSpeed({ averageMps: 0.6, reportedMps: 0 })).toBe(MIN_ETA_SPEED_MPS);
    expect(etaSpeed({ averageMps: 65, reportedMps: 0 })).toBe(MAX_ETA_SPEED_MPS);
    expect(etaSpeed({ reportedMps: 95 })).toBe(MAX_ETA_SPEED_MPS);
  });
});

describe('estimateEta', () => {
  const origin = SHANGHAI;
  const destination = north(SHANGHAI, 2_000);
  const courier = north(SHANGHAI, -1_000);

  it('before collection goes courier → origin → destination, by road, at the given speed', () => {
    const eta = estimateEta({ status: 'ASSIGNED', courier, origin, destination, speedMps: 5, nowMs: NOW });
    const expected = Math.round(3_000 * ROAD_FACTOR);
    expect(eta!.remainingDistanceM).toBeGreaterThan(expected - 3);
    expect(eta!.remainingDistanceM).toBeLessThan(expected + 3);
    expect(eta!.eta.getTime() - NOW).toBeCloseTo((eta!.remainingDistanceM / 5) * 1000, -1);
  });

  it('after collection goes straight to the destination', () => {
    for (const status of ['PICKED_UP', 'OUT_FOR_DELIVERY'] as const) {
      const eta = estimateEta({ status, courier, origin, destination, speedMps: 5, nowMs: NOW });
      expect(eta!.remainingDistanceM).toBeCloseTo(3_000 * ROAD_FACTOR, -1);
    }
  });

  it('is now with nothing left when the courier stands at the destination', () => {
    const eta = estimateEta({
      status: 'OUT_FOR_DELIVERY',
      courier: destination,
      origin,
      destination,
      speedMps: 4,
      nowMs: NOW,
    });
    expect(eta).toEqual({ remainingDistanceM: 0, eta: new Date(NOW) });
  });

  it('never divides by a zero or absurd speed', () => {
    const still = estimateEta({ status: 'PICKED_UP', courier, origin, destination, speedMps: 0, nowMs: NOW });
    expect(still!.eta.getTime()).toBe(NOW + Math.round((still!.remainingDistanceM / DEFAULT_SPEED_MPS) * 1000));
    const crawl = estimateEta({ status: 'PICKED_UP', courier, origin, destination, speedMps: 0.01, nowMs: NOW });
    expect(crawl!.eta.getTime()).toBe(NOW + crawl!.remainingDistanceM * 1000);
  });

  it('has no ETA while no courier is on the way or once the shipment ended', () => {
    for (const status of ['AWAITING_COURIER', 'DELIVERED', 'FAILED', 'CANCELLED'] as const) {
      expect(estimateEta({ status, courier, origin, destination, speedMps: 4, nowMs: NOW })).toBeUndefined();
    }
  });
});

describe('statuses', () => {
  it('knows which statuses carry the parcel and which are final', () => {
    expect(['ASSIGNED', 'PICKED_UP', 'OUT_FOR_DELIVERY'].every((s) => isCarrying(s as never))).toBe(true);
    expect(isCarrying('AWAITING_COURIER')).toBe(false);
    expect(isCarrying('DELIVERED')).toBe(false);
    expect(['DELIVERED', 'FAILED', 'CANCELLED'].every((s) => isFinal(s as never))).toBe(true);
    expect(isFinal('OUT_FOR_DELIVERY')).toBe(false);
  });
});
