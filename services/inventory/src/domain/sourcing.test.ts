import type { GeoPoint } from './geo';
import type { Capabilities, Location, LocationKind, LocationStatus } from './location';
import { type Plan, planFulfilment, type PlanRequest, type StockAt } from './sourcing';

const created = new Date('2026-11-22T10:00:00Z');
/** The shopper; locations are placed due north of it, so their distance is simply how far north they are. */
const shopper: GeoPoint = { latitude: 31.2, longitude: 121.47 };
const DEG_PER_KM = 360 / (2 * Math.PI * 6_371.0088);

function northKm(km: number): GeoPoint {
  return { latitude: shopper.latitude + km * DEG_PER_KM, longitude: shopper.longitude };
}

function location(
  id: string,
  km: number,
  overrides: { kind?: LocationKind; status?: LocationStatus; capabilities?: Partial<Capabilities> } = {},
): Location {
  return {
    id,
    name: id,
    kind: overrides.kind ?? 'STORE',
    point: northKm(km),
    address: { lines: [], district: '', city: 'Shanghai', region: '', postalCode: '', countryCode: 'CN' },
    timeZone: 'Asia/Shanghai',
    openingHours: [],
    capabilities: {
      shipsParcels: true,
      storePickup: overrides.kind !== 'WAREHOUSE',
      sameDayRadiusM: 0,
      acceptsReturns: true,
      ...overrides.capabilities,
    },
    status: overrides.status ?? 'OPEN',
    version: 1,
    createdAt: created,
    updatedAt: created,
  };
}

/** Available units from a table { locationId: { skuCode: units } }. */
function stock(table: Record<string, Record<string, number>>): StockAt {
  return (locationId, skuCode) => table[locationId]?.[skuCode] ?? 0;
}

function delivery(items: [string, number][], overrides: Partial<PlanRequest> = {}): PlanRequest {
  return {
    items: items.map(([skuCode, quantity]) => ({ skuCode, quantity })),
    type: 'HOME_DELIVERY',
    deliveryPoint: shopper,
    maxDistanceM: 0,
    ...overrides,
  };
}

function reasons(plan: Plan): Record<string, [boolean, string]> {
  return Object.fromEntries(plan.considered.map((c) => [c.locationId, [c.chosen, c.reason]]));
}

describe('planFulfilment: one location when one can do it all', () => {
  const locations = [location('near', 1), location('mid', 3), location('far', 8)];
  const table = stock({ near: { TEA: 5 }, mid: { TEA: 5, CUP: 2 }, far: { TEA: 9, CUP: 9 } });

  it('chooses the nearest location that has every item, even when a nearer one has some', () => {
    const plan = planFulfilment(
      delivery([
        ['TEA', 2],
        ['CUP', 2],
      ]),
      locations,
      table,
    );
    expect(plan.feasible).toBe(true);
    expect(plan.unallocated).toEqual([]);
    expect(plan.allocations).toEqual([
      {
        locationId: 'mid',
        items: [
          { skuCode: 'TEA', quantity: 2 },
          { skuCode: 'CUP', quantity: 2 },
        ],
        distanceM: expect.any(Number),
        sameDay: false,
      },
    ]);
    expect(plan.allocations[0]!.distanceM).toBeGreaterThan(2_950);
    expect(plan.allocations[0]!.distanceM).toBeLessThan(3_050);
  });

  it('says why each location was chosen or passed over, nearest first', () => {
    const plan = planFulfilment(
      delivery([
        ['TEA', 2],
        ['CUP', 2],
      ]),
      locations,
      table,
    );
    expect(plan.considered.map((c) => c.locationId)).toEqual(['near', 'mid', 'far']);
    expect(reasons(plan)).toEqual({
      near: [false, 'does not have every item'],
      mid: [true, 'nearest location with every item'],
      far: [false, 'a nearer location has every item'],
    });
  });

  it('says "has every item" when it was the only candidate', () => {
    const plan = planFulfilment(delivery([['TEA', 1]]), [location('only', 2)], stock({ only: { TEA: 1 } }));
    expect(reasons(plan)).toEqual({ only: [true, 'has every item'] });
  });

  it('breaks a distance tie by the smaller id', () => {
    const plan = planFulfilment(
      delivery([['TEA', 1]]),
      [location('b-store', 2), location('a-store', 2)],
      stock({ 'a-store': { TEA: 1 }, 'b-store': { TEA: 1 } }),
    );
    expect(plan.allocations.map((a) => a.locationId)).toEqual(['a-store']);
    expect(reasons(plan)['b-store']).toEqual([false, 'a nearer location has every item']);
  });

  it('passes over a location with none of the items available', () => {
    const plan = planFulfilment(
      delivery([['TEA', 1]]),
      [location('empty', 1), location('full', 2)],
      stock({ empty: { CUP: 9 }, full: { TEA: 1 } }),
    );
    expect(reasons(plan).empty).toEqual([false, 'has none of the items available']);
  });
});

describe('planFulfilment: split over the fewest locations', () => {
  it('takes the location covering the most units first, then what is still needed', () => {
    const plan = planFulfilment(
      delivery([
        ['TEA', 5],
        ['CUP', 5],
        ['POT', 1],
      ]),
      [location('near', 1), location('big', 6), location('pots', 9)],
      stock({ near: { TEA: 2 }, big: { TEA: 5, CUP: 5 }, pots: { POT: 1, TEA: 5 } }),
    );
    expect(plan.feasible).toBe(true);
    expect(plan.allocations.map((a) => [a.locationId, a.items])).toEqual([
      [
        'big',
        [
          { skuCode: 'TEA', quantity: 5 },
          { skuCode: 'CUP', quantity: 5 },
        ],
      ],
      ['pots', [{ skuCode: 'POT', quantity: 1 }]],
    ]);
    expect(reasons(plan)).toEqual({
      near: [false, 'not needed: the chosen locations cover more'],
      big: [true, 'covers 10 of the 11 units still needed'],
      pots: [true, 'covers 1 of the 1 units still needed'],
    });
  });

  it('takes part of an item from one location and the rest from another', () => {
    const plan = planFulfilment(
      delivery([['TEA', 7]]),
      [location('a', 1), location('b', 2)],
      stock({ a: { TEA: 3 }, b: { TEA: 4 } }),
    );
    expect(plan.allocations.map((a) => [a.locationId, a.items])).toEqual([
      ['b', [{ skuCode: 'TEA', quantity: 4 }]],
      ['a', [{ skuCode: 'TEA', quantity: 3 }]],
    ]);
    expect(plan.unallocated).toEqual([]);
  });

  it('on equal units prefers the location covering more items, even when farther', () => {
    const plan = planFulfilment(
      delivery([
        ['TEA', 4],
        ['CUP', 2],
        ['POT', 9],
      ]),
      [location('one-item', 1), location('two-items', 5)],
      stock({ 'one-item': { TEA: 4 }, 'two-items': { TEA: 2, CUP: 2 } }),
    );
    expect(plan.allocations[0]!.locationId).toBe('two-items');
  });

  it('on equal units and items prefers the nearer location, then the smaller id', () => {
    const request = delivery([
      ['TEA', 3],
      ['CUP', 3],
    ]);
    const table = stock({ x: { TEA: 3 }, y: { CUP: 3 }, z: { TEA: 3 } });
    const nearer = planFulfilment(request, [location('z', 1), location('x', 4), location('y', 2)], table);
    expect(nearer.allocations.map((a) => a.locationId)).toEqual(['z', 'y']);
    const tie = planFulfilment(request, [location('z', 2), location('x', 2), location('y', 2)], table);
    expect(tie.allocations.map((a) => a.locationId)).toEqual(['x', 'y']);
  });

  it('reports what no location can cover as unallocated, and the plan as infeasible', () => {
    const plan = planFulfilment(
      delivery([
        ['TEA', 5],
        ['CUP', 1],
        ['POT', 2],
      ]),
      [location('a', 1), location('b', 2)],
      stock({ a: { TEA: 3 }, b: { TEA: 1, POT: 2 } }),
    );
    expect(plan.feasible).toBe(false);
    expect(plan.allocations.map((a) => a.locationId)).toEqual(['b', 'a']);
    expect(plan.unallocated).toEqual([
      { skuCode: 'TEA', quantity: 1 },
      { skuCode: 'CUP', quantity: 1 },
    ]);
  });

  it('allocates nothing when nothing is in stock anywhere', () => {
    const plan = planFulfilment(delivery([['TEA', 1]]), [location('a', 1)], stock({}));
    expect(plan).toEqual({
      feasible: false,
      allocations: [],
      unallocated: [{ skuCode: 'TEA', quantity: 1 }],
      considered: [{ locationId: 'a', chosen: false, reason: 'has none of the items available', distanceM: 1_000 }],
    });
  });
});

describe('planFulfilment: which locations may serve a delivery', () => {
  it('passes over locations that are not open, naming their status', () => {
    const plan = planFulfilment(
      delivery([['TEA', 1]]),
      [location('paused', 1, { status: 'PAUSED' }), location('closed', 2, { status: 'CLOSED' }), location('open', 3)],
      stock({ paused: { TEA: 9 }, closed: { TEA: 9 }, open: { TEA: 1 } }),
    );
    expect(plan.allocations.map((a) => a.locationId)).toEqual(['open']);
    expect(reasons(plan)).toMatchObject({
      paused: [false, 'location is paused'],
      closed: [false, 'location is closed'],
    });
  });

  it('passes over locations beyond the maximum distance; 0 means no limit', () => {
    const locations = [location('far', 30), location('farther', 40)];
    const table = stock({ far: { TEA: 1 }, farther: { TEA: 1 } });
    const limited = planFulfilment(delivery([['TEA', 1]], { maxDistanceM: 35_000 }), locations, table);
    expect(reasons(limited).farther).toEqual([false, 'farther than 35000 m']);
    expect(limited.allocations.map((a) => a.locationId)).toEqual(['far']);
    const tooFar = planFulfilment(delivery([['TEA', 1]], { maxDistanceM: 10_000 }), locations, table);
    expect(tooFar.feasible).toBe(false);
    expect(tooFar.allocations).toEqual([]);
    const unlimited = planFulfilment(delivery([['TEA', 1]], { maxDistanceM: 0 }), [locations[1]!], table);
    expect(unlimited.feasible).toBe(true);
  });

  it('passes over a location that neither ships parcels nor delivers same day to the shopper', () => {
    const plan = planFulfilment(
      delivery([['TEA', 1]]),
      [
        location('no-courier', 1, { capabilities: { shipsParcels: false, sameDayRadiusM: 0 } }),
        location('short-radius', 2, { capabilities: { shipsParcels: false, sameDayRadiusM: 1_000 } }),
        location('courier', 3, { kind: 'DARK_STORE', capabilities: { shipsParcels: false, sameDayRadiusM: 5_000 } }),
      ],
      stock({ 'no-courier': { TEA: 1 }, 'short-radius': { TEA: 1 }, courier: { TEA: 1 } }),
    );
    expect(reasons(plan)).toEqual({
      'no-courier': [false, 'does not ship parcels or deliver same day'],
      'short-radius': [false, 'outside its same-day radius and does not ship parcels'],
      courier: [true, 'has every item'],
    });
    expect(plan.allocations[0]).toMatchObject({ locationId: 'courier', sameDay: true });
  });

  it('ship-from-store uses stores only, and home delivery any kind', () => {
    const locations = [location('wh', 1, { kind: 'WAREHOUSE' }), location('dark', 2, { kind: 'DARK_STORE' })];
    const table = stock({ wh: { TEA: 1 }, dark: { TEA: 1 } });
    const fromStore = planFulfilment(delivery([['TEA', 1]], { type: 'SHIP_FROM_STORE' }), locations, table);
    expect(fromStore.feasible).toBe(false);
    expect(reasons(fromStore)).toEqual({ wh: [false, 'is not a store'], dark: [false, 'is not a store'] });
    const home = planFulfilment(delivery([['TEA', 1]]), locations, table);
    expect(home.allocations.map((a) => a.locationId)).toEqual(['wh']);
  });
});

describe('planFulfilment: same day', () => {
  const courier = (radius: number) => location('courier', 3, { capabilities: { sameDayRadiusM: radius } });
  const table = stock({ courier: { TEA: 1 } });

  it('is same day when the delivery point is inside the radius, not when outside', () => {
    expect(planFulfilment(delivery([['TEA', 1]]), [courier(5_000)], table).allocations[0]!.sameDay).toBe(true);
    expect(planFulfilment(delivery([['TEA', 1]]), [courier(2_000)], table).allocations[0]!.sameDay).toBe(false);
    expect(planFulfilment(delivery([['TEA', 1]]), [courier(0)], table).allocations[0]!.sameDay).toBe(false);
  });

  it('is never same day without a delivery point', () => {
    const plan = planFulfilment(
      { items: [{ skuCode: 'TEA', quantity: 1 }], type: 'STORE_PICKUP', storeLocationId: 'courier', maxDistanceM: 0 },
      [courier(100_000)],
      table,
    );
    expect(plan.allocations).toEqual([
      { locationId: 'courier', items: [{ skuCode: 'TEA', quantity: 1 }], distanceM: 0, sameDay: false },
    ]);
  });
});

describe('planFulfilment: pick-up and carry-out', () => {
  const locations = [
    location('store', 5),
    location('nearer-store', 1),
    location('wh', 2, { kind: 'WAREHOUSE' }),
    location('dark', 3, { kind: 'DARK_STORE', capabilities: { storePickup: true } }),
    location('no-pickup', 4, { capabilities: { storePickup: false } }),
    location('closed', 6, { status: 'CLOSED' }),
  ];
  const table = stock({
    store: { TEA: 2 },
    'nearer-store': { TEA: 9 },
    wh: { TEA: 9 },
    dark: { TEA: 9 },
    'no-pickup': { TEA: 9 },
    closed: { TEA: 9 },
  });
  const atStore = (
    type: 'STORE_PICKUP' | 'IN_STORE_CARRY_OUT',
    storeLocationId: string,
    quantity = 1,
  ): PlanRequest => ({
    items: [{ skuCode: 'TEA', quantity }],
    type,
    storeLocationId,
    maxDistanceM: 0,
  });

  it.each(['STORE_PICKUP', 'IN_STORE_CARRY_OUT'] as const)(
    '%s looks only at the given store, and leaves what it lacks unallocated',
    (type) => {
      const plan = planFulfilment(atStore(type, 'store', 3), locations, table);
      expect(plan.feasible).toBe(false);
      expect(plan.allocations).toEqual([
        { locationId: 'store', items: [{ skuCode: 'TEA', quantity: 2 }], distanceM: 0, sameDay: false },
      ]);
      expect(plan.unallocated).toEqual([{ skuCode: 'TEA', quantity: 1 }]);
      expect(plan.considered.map((c) => c.locationId)).toEqual(['store']);
    },
  );

  it('refuses pick-up where it is not offered, and where the location is not open', () => {
    expect(planFulfilment(atStore('STORE_PICKUP', 'wh'), locations, table).considered).toEqual([
      { locationId: 'wh', chosen: false, reason: 'does not offer store pick-up', distanceM: 0 },
    ]);
    expect(reasons(planFulfilment(atStore('STORE_PICKUP', 'no-pickup'), locations, table))).toEqual({
      'no-pickup': [false, 'does not offer store pick-up'],
    });
    const closed = planFulfilment(atStore('STORE_PICKUP', 'closed'), locations, table);
    expect(closed.feasible).toBe(false);
    expect(reasons(closed)).toEqual({ closed: [false, 'location is closed'] });
  });

  it('allows pick-up at a dark store that offers it, but carry-out only in a store', () => {
    expect(planFulfilment(atStore('STORE_PICKUP', 'dark'), locations, table).feasible).toBe(true);
    const carryOut = planFulfilment(atStore('IN_STORE_CARRY_OUT', 'dark'), locations, table);
    expect(carryOut.feasible).toBe(false);
    expect(reasons(carryOut)).toEqual({ dark: [false, 'is not a store'] });
    // A store without pick-up still sells over the counter.
    expect(planFulfilment(atStore('IN_STORE_CARRY_OUT', 'no-pickup'), locations, table).feasible).toBe(true);
  });

  it('plans nothing for a store that is not among the locations', () => {
    const plan = planFulfilment(atStore('STORE_PICKUP', 'elsewhere'), locations, table);
    expect(plan).toEqual({
      feasible: false,
      allocations: [],
      unallocated: [{ skuCode: 'TEA', quantity: 1 }],
      considered: [],
    });
  });
});

describe('planFulfilment: locations the caller excludes', () => {
  const locations = [location('near', 1), location('mid', 3), location('far', 8, { status: 'CLOSED' })];
  const table = stock({ near: { TEA: 5 }, mid: { TEA: 5 }, far: { TEA: 9 } });

  it('never uses an excluded location, and says so; the next nearest is chosen', () => {
    const plan = planFulfilment(delivery([['TEA', 2]], { excludeLocationIds: ['near'] }), locations, table);
    expect(plan.feasible).toBe(true);
    expect(plan.allocations.map((a) => a.locationId)).toEqual(['mid']);
    expect(reasons(plan)).toEqual({
      near: [false, 'excluded by the caller'],
      mid: [true, 'has every item'],
      far: [false, 'location is closed'],
    });
  });

  it('reports "excluded by the caller" rather than any other reason, and ignores unknown ids', () => {
    const plan = planFulfilment(delivery([['TEA', 2]], { excludeLocationIds: ['far', 'nowhere'] }), locations, table);
    expect(reasons(plan).far).toEqual([false, 'excluded by the caller']);
    expect(plan.considered.map((c) => c.locationId)).toEqual(['near', 'mid', 'far']);
    expect(plan.allocations.map((a) => a.locationId)).toEqual(['near']);
  });

  it('is infeasible when only excluded locations have the stock, and never splits onto them', () => {
    const plan = planFulfilment(delivery([['TEA', 8]], { excludeLocationIds: ['near', 'mid'] }), locations, table);
    expect(plan.feasible).toBe(false);
    expect(plan.allocations).toEqual([]);
    expect(plan.unallocated).toEqual([{ skuCode: 'TEA', quantity: 8 }]);
    const split = planFulfilment(delivery([['TEA', 8]], { excludeLocationIds: ['mid'] }), locations, table);
    expect(split.allocations.map((a) => a.locationId)).toEqual(['near']);
    expect(split.unallocated).toEqual([{ skuCode: 'TEA', quantity: 3 }]);
  });

  it('excludes the pick-up store itself, and ignores exclusions of locations a pick-up never looks at', () => {
    const pickup = (excludeLocationIds: string[]): PlanRequest => ({
      items: [{ skuCode: 'TEA', quantity: 1 }],
      type: 'STORE_PICKUP',
      storeLocationId: 'near',
      maxDistanceM: 0,
      excludeLocationIds,
    });
    const excluded = planFulfilment(pickup(['near']), locations, table);
    expect(excluded.feasible).toBe(false);
    expect(reasons(excluded)).toEqual({ near: [false, 'excluded by the caller'] });
    expect(planFulfilment(pickup(['mid']), locations, table).feasible).toBe(true);
  });
});

describe('planFulfilment: determinism', () => {
  const locations = [
    location('a', 2),
    location('b', 2),
    location('c', 1, { capabilities: { sameDayRadiusM: 3_000 } }),
    location('d', 4, { status: 'PAUSED' }),
    location('e', 7),
    location('f', 3, { kind: 'WAREHOUSE' }),
  ];
  const table = stock({
    a: { TEA: 3, CUP: 1 },
    b: { TEA: 3, CUP: 1 },
    c: { POT: 1 },
    d: { TEA: 9, CUP: 9, POT: 9 },
    e: { CUP: 4 },
    f: { TEA: 1 },
  });

  function permutations<T>(list: T[]): T[][] {
    if (list.length <= 1) return [list];
    return list.flatMap((x, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((p) => [x, ...p]));
  }

  it('gives the same plan whatever order the locations come in', () => {
    const request = delivery([
      ['TEA', 4],
      ['CUP', 3],
      ['POT', 1],
    ]);
    const first = planFulfilment(request, locations, table);
    expect(first.allocations.map((a) => a.locationId)).toEqual(['a', 'b', 'c', 'e']);
    expect(first.feasible).toBe(true);
    for (const order of permutations(locations)) {
      expect(planFulfilment(request, order, table)).toEqual(first);
    }
  });

  it('does not change its inputs', () => {
    const request = delivery([
      ['TEA', 4],
      ['CUP', 3],
    ]);
    const before = JSON.stringify([request, locations]);
    planFulfilment(request, locations, table);
    expect(JSON.stringify([request, locations])).toBe(before);
  });
});
