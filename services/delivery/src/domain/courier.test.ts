// Courier registration checks and how dispatch ranks couriers: distance, load, and who may not be offered at all.
import { boundingBox, type CourierState, distanceM, MAX_CAPACITY, rankCouriers, validateProfile } from './courier';
import { DeliveryError } from './errors';
import type { GeoPoint } from './types';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const PEOPLES_SQUARE = { latitude: 31.2304, longitude: 121.4737 };
const THE_BUND = { latitude: 31.2397, longitude: 121.4903 };

/** A point `metres` north of `from` (1° of latitude ≈ 111.195 km on the mean sphere). */
function north(from: GeoPoint, metres: number): GeoPoint {
  return { latitude: from.latitude + metres / 111_195.08, longitude: from.longitude };
}

function courier(id: string, overrides: Partial<CourierState> & { at?: GeoPoint; seenAt?: Date } = {}): CourierState {
  const { at, seenAt, ...rest } = overrides;
  return {
    id,
    name: `Courier ${id}`,
    phone: '+86 138 0000 0000',
    vehicle: 'E_BIKE',
    capacity: 2,
    available: true,
    position: { point: at ?? PEOPLES_SQUARE, time: seenAt ?? NOW, speedMps: 0, headingDeg: 0, accuracyM: 5 },
    shipmentIds: [],
    free: 2,
    version: 1,
    createdAt: NOW,
    updatedAt: NOW,
    ...rest,
  };
}

const rules = {
  radiusM: 5_000,
  loadPenaltyM: 1_000,
  freshSince: new Date(NOW.getTime() - 5 * 60_000),
  exclude: [] as string[],
};

describe('validateProfile', () => {
  const good = {
    id: 'k-1',
    name: '  Wang Fang ',
    phone: '+86 138-0000 0000',
    vehicle: 'BICYCLE' as const,
    capacity: 3,
  };

  it('accepts a sound profile and trims the name', () => {
    expect(validateProfile(good)).toEqual({
      id: 'k-1',
      name: 'Wang Fang',
      phone: '+86 138-0000 0000',
      vehicle: 'BICYCLE',
      capacity: 3,
    });
  });

  it('accepts the edges: capacity 1 and MAX_CAPACITY, 64-character ids, 100-character names', () => {
    expect(validateProfile({ ...good, capacity: 1 }).capacity).toBe(1);
    expect(validateProfile({ ...good, capacity: MAX_CAPACITY }).capacity).toBe(MAX_CAPACITY);
    expect(validateProfile({ ...good, id: 'a'.repeat(64) }).id).toHaveLength(64);
    expect(validateProfile({ ...good, id: 'a.b_c:d-e' }).id).toBe('a.b_c:d-e');
    expect(validateProfile({ ...good, name: 'n'.repeat(100) }).name).toHaveLength(100);
  });

  it.each([
    ['courier_id', { id: '' }],
    ['courier_id', { id: 'a'.repeat(65) }],
    ['courier_id', { id: 'has space' }],
    ['courier_id', { id: 'slash/no' }],
    ['name', { name: '   ' }],
    ['name', { name: 'n'.repeat(101) }],
    ['phone', { phone: '1234' }],
    ['phone', { phone: 'call me' }],
    ['phone', { phone: '1'.repeat(21) }],
    ['vehicle', { vehicle: undefined }],
    ['capacity', { capacity: 0 }],
    ['capacity', { capacity: MAX_CAPACITY + 1 }],
    ['capacity', { capacity: 1.5 }],
    ['capacity', { capacity: Number.NaN }],
  ])('names %s when it is wrong (%j)', (field, change) => {
    let thrown: unknown;
    try {
      validateProfile({ ...good, ...change });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DeliveryError);
    expect((thrown as DeliveryError).kind).toBe('invalid-argument');
    expect((thrown as DeliveryError).violations.map((v) => v.field)).toEqual([field]);
  });

  it('lists every field at fault at once', () => {
    let thrown: unknown;
    try {
      validateProfile({ id: '', name: '', phone: '', vehicle: undefined, capacity: 0 });
    } catch (error) {
      thrown = error;
    }
    const e = thrown as DeliveryError;
    expect(e.violations.map((v) => v.field)).toEqual(['courier_id', 'name', 'phone', 'vehicle', 'capacity']);
    expect(e.message).toMatch(/^Invalid request: courier_id: .* \(and 4 more\)$/);
  });
});

describe('distanceM', () => {
  it('is zero for the same point and symmetric', () => {
    expect(distanceM(PEOPLES_SQUARE, PEOPLES_SQUARE)).toBe(0);
    expect(distanceM(PEOPLES_SQUARE, THE_BUND)).toBeCloseTo(distanceM(THE_BUND, PEOPLES_SQUARE), 6);
  });

  it('knows one degree along a meridian and along the equator', () => {
    expect(distanceM({ latitude: 0, longitude: 0 }, { latitude: 1, longitude: 0 })).toBeCloseTo(111_195, 0);
    expect(distanceM({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 1 })).toBeCloseTo(111_195, 0);
    // Half the circumference between antipodes.
    expect(distanceM({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 })).toBeCloseTo(
      Math.PI * 6_371_008.8,
      0,
    );
  });

  it("measures People's Square to the Bund (East Nanjing Road end) at about 1.9 km", () => {
    // Equirectangular check: 0.0093° north ≈ 1034 m, 0.0166° east × cos 31.2° ≈ 1580 m → ≈ 1889 m.
    const d = distanceM(PEOPLES_SQUARE, THE_BUND);
    expect(d).toBeGreaterThan(1_850);
    expect(d).toBeLessThan(1_920);
  });

  it('matches the classic haversine example, Nashville to Los Angeles', () => {
    expect(
      distanceM({ latitude: 36.12, longitude: -86.67 }, { latitude: 33.94, longitude: -118.4 }) / 1000,
    ).toBeCloseTo(2886.4, 0);
  });
});

describe('boundingBox', () => {
  it.each([
    ['Shanghai', PEOPLES_SQUARE, 5_000],
    ['the equator', { latitude: 0, longitude: 10 }, 20_000],
    ['Oslo', { latitude: 59.91, longitude: 10.75 }, 3_000],
    ['the southern hemisphere', { latitude: -33.87, longitude: 151.21 }, 8_000],
  ])('around %s contains every point of the radius', (_name, center, radiusM) => {
    const box = boundingBox(center, radiusM);
    expect(box.minLat).toBeLessThan(center.latitude);
    expect(box.maxLat).toBeGreaterThan(center.latitude);
    for (let bearing = 0; bearing < 360; bearing += 15) {
      // A point at (just under) the radius in this direction, by the inverse of the spherical formulas.
      const rad = Math.PI / 180;
      const delta = (radiusM * 0.999) / 6_371_008.8;
      const lat1 = center.latitude * rad;
      const lon1 = center.longitude * rad;
      const b = bearing * rad;
      const lat2 = Math.asin(Math.sin(lat1) * Math.cos(delta) + Math.cos(lat1) * Math.sin(delta) * Math.cos(b));
      const lon2 =
        lon1 +
        Math.atan2(Math.sin(b) * Math.sin(delta) * Math.cos(lat1), Math.cos(delta) - Math.sin(lat1) * Math.sin(lat2));
      const p = { latitude: lat2 / rad, longitude: lon2 / rad };
      expect(distanceM(center, p)).toBeLessThanOrEqual(radiusM);
      expect(p.latitude).toBeGreaterThanOrEqual(box.minLat);
      expect(p.latitude).toBeLessThanOrEqual(box.maxLat);
      expect(p.longitude).toBeGreaterThanOrEqual(box.minLon);
      expect(p.longitude).toBeLessThanOrEqual(box.maxLon);
    }
  });

  it('is not much larger than the radius (the query stays selective)', () => {
    const box = boundingBox(PEOPLES_SQUARE, 5_000);
    const height = distanceM(
      { latitude: box.minLat, longitude: 121.4737 },
      { latitude: box.maxLat, longitude: 121.4737 },
    );
    expect(height).toBeGreaterThanOrEqual(9_999.99);
    expect(height).toBeLessThan(10_100);
  });
});

describe('rankCouriers', () => {
  it('puts the nearest first, with distance and load', () => {
    const ranked = rankCouriers(
      PEOPLES_SQUARE,
      [courier('far', { at: north(PEOPLES_SQUARE, 3_000) }), courier('near', { at: north(PEOPLES_SQUARE, 500) })],
      rules,
    );
    expect(ranked.map((r) => r.courierId)).toEqual(['near', 'far']);
    expect(ranked[0]).toEqual({ courierId: 'near', distanceM: 500, load: 0, score: expect.closeTo(500, 3) });
    expect(ranked[1]!.distanceM).toBe(3_000);
  });

  it('counts every shipment a courier already holds as extra distance, which can flip the order', () => {
    const loadedNear = courier('loaded-near', { at: north(PEOPLES_SQUARE, 500), capacity: 3, free: 1 });
    const idleFar = courier('idle-far', { at: north(PEOPLES_SQUARE, 2_000) });
    const ranked = rankCouriers(PEOPLES_SQUARE, [loadedNear, idleFar], rules);
    expect(ranked.map((r) => [r.courierId, r.load])).toEqual([
      ['idle-far', 0],
      ['loaded-near', 2],
    ]);
    expect(ranked[1]!.score).toBeCloseTo(500 + 2 * rules.loadPenaltyM, 3);
    // With a small penalty the nearest wins again.
    expect(rankCouriers(PEOPLES_SQUARE, [loadedNear, idleFar], { ...rules, loadPenaltyM: 100 })[0]!.courierId).toBe(
      'loaded-near',
    );
  });

  it('leaves out couriers who are off shift, full, without a fresh position, too far, or who passed on it', () => {
    const ok = courier('ok', { at: north(PEOPLES_SQUARE, 1_000) });
    const { position: _none, ...withoutPosition } = courier('no-position');
    const ranked = rankCouriers(
      PEOPLES_SQUARE,
      [
        courier('off-shift', { available: false }),
        courier('full', { free: 0 }),
        withoutPosition,
        courier('stale', { seenAt: new Date(rules.freshSince.getTime() - 1) }),
        courier('outside', { at: north(PEOPLES_SQUARE, rules.radiusM + 10) }),
        courier('declined'),
        ok,
      ],
      { ...rules, exclude: ['declined'] },
    );
    expect(ranked.map((r) => r.courierId)).toEqual(['ok']);
  });

  it('keeps a courier seen exactly at the freshness limit or exactly at the radius', () => {
    const ranked = rankCouriers(
      PEOPLES_SQUARE,
      [
        courier('edge-time', { seenAt: rules.freshSince }),
        courier('edge-radius', { at: north(PEOPLES_SQUARE, 4_999) }),
      ],
      rules,
    );
    expect(ranked.map((r) => r.courierId).sort()).toEqual(['edge-radius', 'edge-time']);
  });

  it('breaks ties by the smaller id, whatever the input order', () => {
    const a = courier('a', { at: north(PEOPLES_SQUARE, 700) });
    const b = courier('b', { at: north(PEOPLES_SQUARE, 700) });
    const c = courier('c', { at: north(PEOPLES_SQUARE, 700) });
    for (const input of [
      [a, b, c],
      [c, b, a],
      [b, c, a],
    ]) {
      expect(rankCouriers(PEOPLES_SQUARE, input, rules).map((r) => r.courierId)).toEqual(['a', 'b', 'c']);
    }
  });

  it('answers nothing when nobody qualifies', () => {
    expect(rankCouriers(PEOPLES_SQUARE, [], rules)).toEqual([]);
    expect(rankCouriers(PEOPLES_SQUARE, [courier('x', { available: false })], rules)).toEqual([]);
  });
});
