import { InventoryError } from './errors';
import { distanceMetres, isValidPoint } from './geo';
import {
  assertTakesHolds,
  changeLocation,
  hasCapability,
  type Location,
  type LocationInput,
  newLocation,
  sameLocationInput,
} from './location';
import {
  type AdjustmentReason,
  adjustOnHand,
  available,
  crossedLow,
  emptyStock,
  isLow,
  MAX_ON_HAND,
  type StockLevel,
  stockId,
} from './stock';

const now = new Date('2026-11-22T10:00:00Z');
const later = new Date('2026-11-22T11:00:00Z');

function errorOf(fn: () => unknown): InventoryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('expected an InventoryError');
}

function level(overrides: Partial<StockLevel> = {}): StockLevel {
  return { ...emptyStock('TEA-250', 'sh-01', now), onHand: 10, version: 4, ...overrides };
}

describe('stock', () => {
  it.each<[AdjustmentReason, number, number, number]>([
    ['RECEIPT', 5, 15, 5],
    ['RETURN_RESTOCK', 2, 12, 2],
    ['DAMAGE', 3, 7, -3],
    ['STORE_SALE', 10, 0, -10],
    ['COUNT', 4, 4, -6],
    ['COUNT', 25, 25, 15],
    ['COUNT', 0, 0, -10],
  ])('%s of %i from 10 on hand leaves %i (change %i)', (reason, quantity, onHand, delta) => {
    const stock = level();
    expect(adjustOnHand(stock, reason, quantity)).toEqual({ onHand, delta });
    expect(stock.onHand).toBe(10); // a proposal, not a change in place
  });

  it.each<AdjustmentReason>(['DAMAGE', 'STORE_SALE'])('%s refuses to take on hand below zero', (reason) => {
    const error = errorOf(() => adjustOnHand(level(), reason, 11));
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toBe('Cannot remove 11 of SKU "TEA-250" at location "sh-01": only 10 on hand');
  });

  it('refuses to take on hand past the most one record may hold', () => {
    expect(adjustOnHand(level({ onHand: MAX_ON_HAND - 1 }), 'RECEIPT', 1).onHand).toBe(MAX_ON_HAND);
    const error = errorOf(() => adjustOnHand(level({ onHand: MAX_ON_HAND }), 'RECEIPT', 1));
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toBe('Cannot hold more than 1000000000 of SKU "TEA-250" at location "sh-01"');
  });

  it('lets damage take on hand below what is held (the goods are gone), leaving nothing available', () => {
    const stock = level({ held: 8 });
    const { onHand } = adjustOnHand(stock, 'DAMAGE', 5);
    expect(onHand).toBe(5);
    expect(available({ ...stock, onHand })).toBe(0);
  });

  it('available is on hand less held less safety stock, and never negative', () => {
    expect(available({ onHand: 10, held: 3, safetyStock: 2 })).toBe(5);
    expect(available({ onHand: 10, held: 8, safetyStock: 2 })).toBe(0);
    expect(available({ onHand: 3, held: 5, safetyStock: 0 })).toBe(0);
    expect(available({ onHand: 1, held: 0, safetyStock: 4 })).toBe(0);
  });

  it('crossedLow only when available goes from at or above a non-zero threshold to below it', () => {
    expect(crossedLow(5, 5, 4)).toBe(true);
    expect(crossedLow(5, 9, 0)).toBe(true);
    expect(crossedLow(5, 4, 3)).toBe(false); // already low
    expect(crossedLow(5, 9, 5)).toBe(false); // at the threshold is not below it
    expect(crossedLow(5, 3, 9)).toBe(false); // going up
    expect(crossedLow(0, 9, 0)).toBe(false); // disabled
  });

  it('isLow when available is below a non-zero threshold', () => {
    expect(isLow(level({ lowStockThreshold: 5, onHand: 4 }))).toBe(true);
    expect(isLow(level({ lowStockThreshold: 5, onHand: 9, held: 3, safetyStock: 2 }))).toBe(true);
    expect(isLow(level({ lowStockThreshold: 5, onHand: 5 }))).toBe(false);
    expect(isLow(level({ lowStockThreshold: 0, onHand: 0 }))).toBe(false);
  });

  it('an empty record has nothing and version 0; its id joins SKU and location with "@"', () => {
    expect(emptyStock('TEA', 'sh-01', now)).toEqual({
      skuCode: 'TEA',
      locationId: 'sh-01',
      onHand: 0,
      held: 0,
      safetyStock: 0,
      lowStockThreshold: 0,
      version: 0,
      updatedAt: now,
    });
    expect(stockId('TEA', 'sh-01')).toBe('TEA@sh-01');
  });
});

describe('geo', () => {
  const peoplesSquare = { latitude: 31.2304, longitude: 121.4737 };
  const xintiandi = { latitude: 31.2196, longitude: 121.4755 };
  const beijing = { latitude: 39.9042, longitude: 116.4074 };

  it("puts People's Square about 1.2 km from Xintiandi", () => {
    const d = distanceMetres(peoplesSquare, xintiandi);
    expect(d).toBeGreaterThanOrEqual(1_200 * 0.95);
    expect(d).toBeLessThanOrEqual(1_200 * 1.05);
    expect(Number.isInteger(d)).toBe(true);
  });

  it('is symmetric, zero for the same point, and right at long range', () => {
    expect(distanceMetres(xintiandi, peoplesSquare)).toBe(distanceMetres(peoplesSquare, xintiandi));
    expect(distanceMetres(beijing, beijing)).toBe(0);
    const shanghaiBeijing = distanceMetres(peoplesSquare, beijing);
    expect(shanghaiBeijing).toBeGreaterThan(1_067_000 * 0.99);
    expect(shanghaiBeijing).toBeLessThan(1_067_000 * 1.01);
    // Half way round the equator: π × the mean radius (6371.0088 km).
    expect(distanceMetres({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 })).toBe(20_015_114);
  });

  it('isValidPoint takes finite latitudes in -90..90 and longitudes in -180..180', () => {
    expect(isValidPoint({ latitude: 90, longitude: -180 })).toBe(true);
    expect(isValidPoint({ latitude: 90.0001, longitude: 0 })).toBe(false);
    expect(isValidPoint({ latitude: 0, longitude: 180.5 })).toBe(false);
    expect(isValidPoint({ latitude: NaN, longitude: 0 })).toBe(false);
    expect(isValidPoint({ latitude: 0, longitude: Infinity })).toBe(false);
  });
});

function locationInput(overrides: Partial<LocationInput> = {}): LocationInput {
  return {
    name: 'People’s Square store',
    kind: 'STORE',
    point: { latitude: 31.2304, longitude: 121.4737 },
    address: {
      lines: ['100 Nanjing Road West'],
      district: 'Huangpu',
      city: 'Shanghai',
      region: 'Shanghai',
      postalCode: '200003',
      countryCode: 'CN',
    },
    timeZone: 'Asia/Shanghai',
    openingHours: [
      { weekday: 1, opens: '09:00', closes: '21:00' },
      { weekday: 6, opens: '10:00', closes: '22:00' },
    ],
    capabilities: { shipsParcels: true, storePickup: true, sameDayRadiusM: 5_000, acceptsReturns: true },
    status: 'OPEN',
    ...overrides,
  };
}

const caps = (overrides: Partial<LocationInput['capabilities']>) => ({
  ...locationInput().capabilities,
  ...overrides,
});
const hours = (weekday: number, opens = '09:00', closes = '21:00') => [{ weekday, opens, closes }];

describe('newLocation', () => {
  it('is version 1, created and updated now, with the name trimmed and opening hours by weekday', () => {
    const location = newLocation(
      'sh-01',
      locationInput({
        name: '  People’s Square store ',
        openingHours: [
          { weekday: 7, opens: '10:00', closes: '20:00' },
          { weekday: 2, opens: '09:00', closes: '21:00' },
        ],
      }),
      now,
    );
    expect(location).toMatchObject({ id: 'sh-01', version: 1, createdAt: now, updatedAt: now });
    expect(location.name).toBe('People’s Square store');
    expect(location.openingHours.map((h) => h.weekday)).toEqual([2, 7]);
  });

  it.each([
    ['an empty id', 'location_id', '', {}],
    ['an id with "@"', 'location_id', 'sh@01', {}],
    ['a blank name', 'location.name', 'sh-01', { name: '   ' }],
    ['a 201-character name', 'location.name', 'sh-01', { name: 'n'.repeat(201) }],
    ['a latitude of 91', 'location.point', 'sh-01', { point: { latitude: 91, longitude: 0 } }],
    ['a longitude of -181', 'location.point', 'sh-01', { point: { latitude: 0, longitude: -181 } }],
    ['a NaN latitude', 'location.point', 'sh-01', { point: { latitude: NaN, longitude: 0 } }],
    [
      'four address lines',
      'location.address.lines',
      'sh-01',
      { address: { ...locationInput().address, lines: ['1', '2', '3', '4'] } },
    ],
    ['an unknown time zone', 'location.time_zone', 'sh-01', { timeZone: 'Mars/Olympus_Mons' }],
    ['an empty time zone', 'location.time_zone', 'sh-01', { timeZone: '' }],
    ['weekday 0', 'location.opening_hours[0].weekday', 'sh-01', { openingHours: hours(0) }],
    ['weekday 8', 'location.opening_hours[0].weekday', 'sh-01', { openingHours: hours(8) }],
    ['weekday 1.5', 'location.opening_hours[0].weekday', 'sh-01', { openingHours: hours(1.5) }],
    [
      'the same weekday twice',
      'location.opening_hours[1].weekday',
      'sh-01',
      { openingHours: [...hours(3), ...hours(3)] },
    ],
    ['opening at 24:00', 'location.opening_hours[0].opens', 'sh-01', { openingHours: hours(1, '24:00') }],
    ['opening at 9:00', 'location.opening_hours[0].opens', 'sh-01', { openingHours: hours(1, '9:00') }],
    ['closing at 21:60', 'location.opening_hours[0].closes', 'sh-01', { openingHours: hours(1, '09:00', '21:60') }],
    [
      'a negative same-day radius',
      'location.capabilities.same_day_radius_m',
      'sh-01',
      { capabilities: caps({ sameDayRadiusM: -1 }) },
    ],
    [
      'a same-day radius over 100 km',
      'location.capabilities.same_day_radius_m',
      'sh-01',
      { capabilities: caps({ sameDayRadiusM: 100_001 }) },
    ],
    [
      'a fractional same-day radius',
      'location.capabilities.same_day_radius_m',
      'sh-01',
      { capabilities: caps({ sameDayRadiusM: 10.5 }) },
    ],
    [
      'a warehouse offering store pick-up',
      'location.capabilities.store_pickup',
      'sh-01',
      { kind: 'WAREHOUSE', capabilities: caps({ storePickup: true }) },
    ],
  ] as [string, string, string, Partial<LocationInput>][])('refuses %s, naming %s', (_case, field, id, overrides) => {
    const error = errorOf(() => newLocation(id, locationInput(overrides), now));
    expect(error.kind).toBe('invalid-argument');
    expect(error.violations.map((v) => v.field)).toEqual([field]);
  });

  it('accepts the edges: 200-character name, three address lines, radius 0 and 100 km, 00:00 to 23:59', () => {
    const input = locationInput({
      name: 'n'.repeat(200),
      address: { ...locationInput().address, lines: ['1', '2', '3'] },
      openingHours: hours(7, '00:00', '23:59'),
      capabilities: caps({ sameDayRadiusM: 100_000 }),
    });
    expect(newLocation('sh-01', input, now).version).toBe(1);
    expect(
      newLocation(
        'wh-1',
        locationInput({ kind: 'WAREHOUSE', capabilities: caps({ storePickup: false, sameDayRadiusM: 0 }) }),
        now,
      ).kind,
    ).toBe('WAREHOUSE');
  });

  it('names every problem at once', () => {
    const error = errorOf(() =>
      newLocation('', locationInput({ name: '', timeZone: 'Nowhere', point: { latitude: 100, longitude: 0 } }), now),
    );
    expect(error.violations.map((v) => v.field)).toEqual([
      'location_id',
      'location.name',
      'location.point',
      'location.time_zone',
    ]);
  });
});

describe('changeLocation', () => {
  const current: Location = { ...newLocation('sh-01', locationInput(), now), version: 2 };
  const edited = locationInput({ name: 'People’s Square flagship', status: 'PAUSED' });

  it('applies the input one version on, keeping the id and creation time', () => {
    const next = changeLocation(current, edited, 2, later);
    expect(next).toMatchObject({
      id: 'sh-01',
      name: 'People’s Square flagship',
      status: 'PAUSED',
      version: 3,
      createdAt: now,
      updatedAt: later,
    });
    expect(current.version).toBe(2);
  });

  it('skips the version check when the expected version is 0', () => {
    expect(changeLocation(current, edited, 0, later).version).toBe(3);
  });

  it('refuses a stale expected version with ABORTED', () => {
    const error = errorOf(() => changeLocation(current, edited, 1, later));
    expect(error.kind).toBe('aborted');
    expect(error.message).toBe('Location "sh-01" is at version 2, not 1: read it again and retry');
    expect(errorOf(() => changeLocation(current, edited, 3, later)).kind).toBe('aborted');
  });

  it('checks the input before the version', () => {
    const error = errorOf(() => changeLocation(current, locationInput({ name: '' }), 1, later));
    expect(error.kind).toBe('invalid-argument');
    expect(error.violations.map((v) => v.field)).toEqual(['location.name']);
  });
});

describe('sameLocationInput', () => {
  const stored = newLocation('sh-01', locationInput(), now);

  it('is true for the same content, whatever the spacing of the name or the order of the opening hours', () => {
    expect(sameLocationInput(stored, locationInput())).toBe(true);
    expect(sameLocationInput(stored, locationInput({ name: ' People’s Square store  ' }))).toBe(true);
    expect(
      sameLocationInput(stored, locationInput({ openingHours: [...locationInput().openingHours].reverse() })),
    ).toBe(true);
  });

  it.each<[string, Partial<LocationInput>]>([
    ['another name', { name: 'Jing’an store' }],
    ['another status', { status: 'CLOSED' }],
    ['another kind', { kind: 'DARK_STORE' }],
    ['another point', { point: { latitude: 31.2305, longitude: 121.4737 } }],
    ['another radius', { capabilities: caps({ sameDayRadiusM: 4_000 }) }],
    ['another postal code', { address: { ...locationInput().address, postalCode: '200001' } }],
    ['other hours', { openingHours: hours(1, '08:00') }],
  ])('is false for %s', (_case, overrides) => {
    expect(sameLocationInput(stored, locationInput(overrides))).toBe(false);
  });
});

describe('capabilities and holds', () => {
  it('hasCapability reads each capability; same day means a radius above 0', () => {
    const store = locationInput({
      capabilities: { shipsParcels: false, storePickup: true, sameDayRadiusM: 0, acceptsReturns: true },
    });
    expect(hasCapability(store, 'SHIPS_PARCELS')).toBe(false);
    expect(hasCapability(store, 'STORE_PICKUP')).toBe(true);
    expect(hasCapability(store, 'SAME_DAY_DELIVERY')).toBe(false);
    expect(hasCapability(store, 'ACCEPTS_RETURNS')).toBe(true);
    expect(hasCapability(locationInput({ capabilities: caps({ sameDayRadiusM: 1 }) }), 'SAME_DAY_DELIVERY')).toBe(true);
  });

  it('only an open location takes holds', () => {
    expect(() => assertTakesHolds(newLocation('sh-01', locationInput(), now))).not.toThrow();
    const paused = errorOf(() => assertTakesHolds(newLocation('sh-01', locationInput({ status: 'PAUSED' }), now)));
    expect(paused.kind).toBe('failed-precondition');
    expect(paused.message).toBe('Cannot hold stock at location "sh-01": it is paused');
    expect(errorOf(() => assertTakesHolds(newLocation('sh-01', locationInput({ status: 'CLOSED' }), now))).kind).toBe(
      'failed-precondition',
    );
  });
});
