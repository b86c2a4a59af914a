// Availability, nearby stock and sourcing plans (locations the caller excludes among them) over real stock in the
// real database.
import { status } from '@grpc/grpc-js';
import {
  Capability,
  Decision,
  FulfilmentType,
  LocationKind,
  LocationStatus,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { type Harness, refusal, skuCode, startHarness } from './harness';

let h: Harness;
// Shanghai: a shopper at Xintiandi; stores at 1.1 km (People's Square), 3 km (Jing'an), a dark store at 6 km,
// a warehouse 50 km out (Kunshan), and a closed store right next door.
const SHOPPER = { latitude: 31.2196, longitude: 121.4755 };
const PEOPLE_SQ = 'sh-people-sq';
const JINGAN = 'sh-jingan';
const DARK = 'sh-dark-xuhui';
const WAREHOUSE = 'ks-warehouse';
const CLOSED = 'sh-closed-xtd';
let tea: string;
let cups: string;
let pot: string;

beforeAll(async () => {
  h = await startHarness();
  await h.addLocation(PEOPLE_SQ, { point: { latitude: 31.2304, longitude: 121.4737 } });
  await h.addLocation(JINGAN, { point: { latitude: 31.2286, longitude: 121.4484 } });
  await h.addLocation(DARK, {
    kind: LocationKind.LOCATION_KIND_DARK_STORE,
    point: { latitude: 31.1886, longitude: 121.4365 },
    capabilities: { shipsParcels: false, storePickup: false, sameDayRadiusM: 8000, acceptsReturns: false },
  });
  await h.addLocation(WAREHOUSE, {
    kind: LocationKind.LOCATION_KIND_WAREHOUSE,
    point: { latitude: 31.3847, longitude: 120.9808 },
    capabilities: { shipsParcels: true, storePickup: false, sameDayRadiusM: 0, acceptsReturns: true },
  });
  await h.addLocation(CLOSED, {
    point: { latitude: 31.2198, longitude: 121.4757 },
    status: LocationStatus.LOCATION_STATUS_CLOSED,
  });
  [tea, cups, pot] = [skuCode('tea'), skuCode('cups'), skuCode('pot')];
  await h.announceSkus([tea, cups, pot]);
  await h.receive(tea, PEOPLE_SQ, 2);
  await h.receive(tea, JINGAN, 5);
  await h.receive(cups, JINGAN, 5);
  await h.receive(pot, DARK, 1);
  await h.receive(tea, WAREHOUSE, 100);
  await h.receive(cups, WAREHOUSE, 100);
  await h.receive(pot, WAREHOUSE, 100);
  await h.receive(tea, CLOSED, 50);
});
afterAll(async () => {
  await h?.close();
});

const items = (...list: [string, number][]) => list.map(([skuCode, q]) => ({ skuCode, quantity: String(q) }));

it('availability: per location, and network-wide over open locations only', async () => {
  const { skus } = await h.client.getAvailability({ skuCodes: [tea], locationIds: [] });
  expect(skus[0]?.networkAvailable).toBe(String(2 + 5 + 100));
  expect(skus[0]?.locations.map((l) => [l.locationId, l.available])).toEqual(
    [
      [WAREHOUSE, '100'],
      [PEOPLE_SQ, '2'],
      [CLOSED, '50'],
      [JINGAN, '5'],
    ].sort(([a], [b]) => (a! < b! ? -1 : 1)),
  );
});

it('nearby stock: open locations within the radius that have everything, nearest first, with distances', async () => {
  const { locations } = await h.client.findNearbyStock({
    items: items([tea, 2]),
    point: SHOPPER,
    radiusM: 10_000,
    limit: 0,
    requiredCapability: Capability.CAPABILITY_STORE_PICKUP,
  });
  expect(locations.map((l) => l.location?.id)).toEqual([PEOPLE_SQ, JINGAN]);
  const [first, second] = locations.map((l) => Number(l.distanceM));
  expect(first).toBeGreaterThan(1000);
  expect(first).toBeLessThan(1400);
  expect(second).toBeGreaterThan(first!);
  const three = await h.client.findNearbyStock({
    items: items([tea, 3]),
    point: SHOPPER,
    radiusM: 10_000,
    limit: 0,
    requiredCapability: Capability.CAPABILITY_UNSPECIFIED,
  });
  expect(three.locations.map((l) => l.location?.id)).toEqual([JINGAN]);
});

it('home delivery prefers one location for the whole order, nearest first, and says why for every location', async () => {
  const request = {
    items: items([tea, 2], [cups, 2]),
    fulfilmentType: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
    deliveryPoint: SHOPPER,
    storeLocationId: '',
    maxDistanceM: 0,
    excludeLocationIds: [],
  };
  const plan = await h.client.planFulfilment(request);
  expect(plan.feasible).toBe(true);
  expect(plan.allocations).toEqual([
    { locationId: JINGAN, items: items([tea, 2], [cups, 2]), distanceM: expect.any(String), sameDay: true },
  ]);
  const why = Object.fromEntries(plan.considered.map((c) => [c.locationId, [c.decision, c.reason]]));
  expect(why[JINGAN]).toEqual([Decision.DECISION_CHOSEN, 'nearest location with every item']);
  expect(why[CLOSED]).toEqual([Decision.DECISION_PASSED_OVER, 'location is closed']);
  expect(why[PEOPLE_SQ]?.[0]).toBe(Decision.DECISION_PASSED_OVER);
  expect(why[DARK]).toEqual([Decision.DECISION_PASSED_OVER, 'has none of the items available']);
  // Same input, same plan.
  expect(await h.client.planFulfilment(request)).toEqual(plan);
});

it('never plans at a location the caller excludes, and says why; bad exclusions are refused', async () => {
  const request = {
    items: items([tea, 2], [cups, 2]),
    fulfilmentType: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
    deliveryPoint: SHOPPER,
    storeLocationId: '',
    maxDistanceM: 0,
    excludeLocationIds: [JINGAN, 'not-a-location'],
  };
  const plan = await h.client.planFulfilment(request);
  expect(plan.feasible).toBe(true);
  // Jing'an was nearest with every item; without it the warehouse is the one location that has both.
  expect(plan.allocations.map((a) => a.locationId)).toEqual([WAREHOUSE]);
  const why = Object.fromEntries(plan.considered.map((c) => [c.locationId, [c.decision, c.reason]]));
  expect(why[JINGAN]).toEqual([Decision.DECISION_PASSED_OVER, 'excluded by the caller']);
  expect(why[WAREHOUSE]).toEqual([Decision.DECISION_CHOSEN, 'nearest location with every item']);
  expect(why['not-a-location']).toBeUndefined();

  const none = await h.client.planFulfilment({ ...request, excludeLocationIds: [JINGAN, WAREHOUSE] });
  expect(none.feasible).toBe(false);

  const bad = await refusal(
    h.client.planFulfilment({
      ...request,
      excludeLocationIds: [JINGAN, 'bad id!', ...Array.from({ length: 49 }, (_, i) => `loc-${i}`)],
    }),
  );
  expect(bad.code).toBe(status.INVALID_ARGUMENT);
  expect(decodeFieldViolations(bad.metadata).map((v) => v.field)).toEqual([
    'exclude_location_ids',
    'exclude_location_ids[1]',
  ]);
});

it('splits over the fewest locations when no single one has everything', async () => {
  const plan = await h.client.planFulfilment({
    items: items([tea, 5], [cups, 5], [pot, 1]),
    fulfilmentType: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
    deliveryPoint: SHOPPER,
    storeLocationId: '',
    maxDistanceM: 20_000,
    excludeLocationIds: [],
  });
  expect(plan.feasible).toBe(true);
  expect(plan.allocations.map((a) => a.locationId)).toEqual([JINGAN, DARK]);
  const far = plan.considered.find((c) => c.locationId === WAREHOUSE);
  expect(far?.reason).toBe('farther than 20000 m');
});

it('ship-from-store uses stores only; pick-up uses the chosen store and reports what it lacks', async () => {
  const ship = await h.client.planFulfilment({
    items: items([pot, 1]),
    fulfilmentType: FulfilmentType.FULFILMENT_TYPE_SHIP_FROM_STORE,
    deliveryPoint: SHOPPER,
    storeLocationId: '',
    maxDistanceM: 0,
    excludeLocationIds: [],
  });
  expect(ship.feasible).toBe(false);
  expect(ship.unallocated).toEqual(items([pot, 1]));
  expect(ship.considered.find((c) => c.locationId === WAREHOUSE)?.reason).toBe('is not a store');

  const pickup = await h.client.planFulfilment({
    items: items([tea, 3]),
    fulfilmentType: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
    deliveryPoint: undefined,
    storeLocationId: PEOPLE_SQ,
    maxDistanceM: 0,
    excludeLocationIds: [],
  });
  expect(pickup.feasible).toBe(false);
  expect(pickup.allocations).toEqual([
    { locationId: PEOPLE_SQ, items: items([tea, 2]), distanceM: '0', sameDay: false },
  ]);
  expect(pickup.unallocated).toEqual(items([tea, 1]));

  const warehousePickup = await h.client.planFulfilment({
    items: items([tea, 1]),
    fulfilmentType: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
    deliveryPoint: undefined,
    storeLocationId: WAREHOUSE,
    maxDistanceM: 0,
    excludeLocationIds: [],
  });
  expect(warehousePickup.considered).toEqual([
    {
      locationId: WAREHOUSE,
      decision: Decision.DECISION_PASSED_OVER,
      reason: 'does not offer store pick-up',
      distanceM: '0',
    },
  ]);
});

it('refuses bad planning input', async () => {
  const noPoint = await refusal(
    h.client.planFulfilment({
      items: items([tea, 1]),
      fulfilmentType: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
      deliveryPoint: undefined,
      storeLocationId: '',
      maxDistanceM: 0,
      excludeLocationIds: [],
    }),
  );
  expect(noPoint.code).toBe(status.INVALID_ARGUMENT);
  const noType = await refusal(
    h.client.planFulfilment({
      items: items([tea, 1]),
      fulfilmentType: FulfilmentType.FULFILMENT_TYPE_UNSPECIFIED,
      deliveryPoint: SHOPPER,
      storeLocationId: '',
      maxDistanceM: 0,
      excludeLocationIds: [],
    }),
  );
  expect(noType.code).toBe(status.INVALID_ARGUMENT);
  const unknownStore = await refusal(
    h.client.planFulfilment({
      items: items([tea, 1]),
      fulfilmentType: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
      deliveryPoint: undefined,
      storeLocationId: 'nowhere',
      maxDistanceM: 0,
      excludeLocationIds: [],
    }),
  );
  expect(unknownStore.code).toBe(status.NOT_FOUND);
});
