// The delivery service checks ownership too (defence in depth), over real gRPC with the real Kafka, database and
// inventory: calls carrying the caller's principal (x-o2o-principal, as the gateway writes it) see only their own
// fulfilments and shipments, act only for their own locations, and make no courier calls; calls without one are
// internal and behave as before. Fulfilments are created from OrderConfirmed, which records whose order it is.
import { Metadata, status } from '@grpc/grpc-js';
import {
  type Fulfilment,
  TaskStatus,
  Vehicle,
  type WatchShipmentResponse,
} from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { PRINCIPAL_METADATA_KEY, type Principal, principalMetadata } from '@o2o/kit-grpc';
import { refusal, statusOf, uniqueName, waitFor } from '@o2o/kit-testing';
import { type DeliveryHarness, PLACES, startDelivery } from './harness';

let h: DeliveryHarness;
const alice: Principal = { role: 'shopper', subject: uniqueName('alice'), storeIds: [], scopes: [] };
const bob: Principal = { role: 'shopper', subject: uniqueName('bob'), storeIds: [], scopes: [] };
const staffA: Principal = { role: 'staff', subject: 'emp-a', storeIds: [PLACES.storeA.id], scopes: [] };
const staffB: Principal = { role: 'staff', subject: 'emp-b', storeIds: [PLACES.storeB.id], scopes: [] };
const warehouseStaff: Principal = { role: 'staff', subject: 'emp-w', storeIds: [PLACES.warehouse.id], scopes: [] };
const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
const as = (principal: Principal) => ({ metadata: principalMetadata(principal) });

let pickup: Fulfilment;
let home: Fulfilment;

beforeAll(async () => {
  h = await startDelivery();
  const orderId = uniqueName('o');
  await h.confirmOrder(
    orderId,
    [
      { id: 'g1', type: 'STORE_PICKUP', locationId: PLACES.storeA.id },
      { id: 'g2', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id },
    ],
    { customerId: alice.subject },
  );
  pickup = await fulfilmentOf(orderId, 'g1');
  home = await fulfilmentOf(orderId, 'g2');
});
afterAll(async () => {
  await h?.stop();
});

async function fulfilmentOf(orderId: string, groupId: string): Promise<Fulfilment> {
  return waitFor<Fulfilment>(
    async () => {
      try {
        return (await h.client.getFulfilment({ fulfilmentId: '', orderId, groupId })).fulfilment;
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 15_000, what: `fulfilment of ${orderId} ${groupId}` },
  );
}

const byId = (fulfilmentId: string) => ({ fulfilmentId, orderId: '', groupId: '' });

/** Metadata whose principal cannot be read. */
function malformed(): Metadata {
  const metadata = new Metadata();
  metadata.set(PRINCIPAL_METADATA_KEY, 'bm90IGEgcHJpbmNpcGFs');
  return metadata;
}

/** Opens a watch with this metadata; collects what arrives and how it ended. */
function watch(shipmentId: string, metadata: Metadata) {
  const received: WatchShipmentResponse[] = [];
  const call = h.raw.watchShipment({ shipmentId }, metadata);
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('data', (m: WatchShipmentResponse) => received.push(m));
    call.on('error', (e) => resolve(statusOf(e)));
    call.on('end', () => resolve({ code: status.OK, details: '' }));
  });
  return { call, received, ended };
}

it('a shopper sees their own fulfilment; another shopper is told it does not exist', async () => {
  expect((await h.client.getFulfilment(byId(pickup.id), as(alice))).fulfilment!.id).toBe(pickup.id);
  const hidden = await refusal(h.client.getFulfilment(byId(pickup.id), as(bob)));
  const missing = await refusal(h.client.getFulfilment(byId('no-such.g1'), as(bob)));
  expect(hidden).toMatchObject({ code: status.NOT_FOUND, details: `Fulfilment "${pickup.id}" does not exist` });
  expect(missing.details).toBe('Fulfilment "no-such.g1" does not exist');
  // The pick-up store's staff see it; another store's do not.
  expect((await h.client.getFulfilment(byId(pickup.id), as(staffA))).fulfilment!.id).toBe(pickup.id);
  expect((await refusal(h.client.getFulfilment(byId(pickup.id), as(staffB)))).code).toBe(status.NOT_FOUND);
});

it('staff accept only their own location’s task; a refusal changes nothing', async () => {
  const forA = { fulfilmentId: pickup.id, locationId: PLACES.storeA.id, associateId: 'b-1' };
  expect((await refusal(h.client.acceptTask(forA, as(staffB)))).code).toBe(status.PERMISSION_DENIED);
  expect((await refusal(h.client.acceptTask(forA, as(alice)))).code).toBe(status.PERMISSION_DENIED);
  // Naming their own store does not help: the task is store A's.
  const atB = { ...forA, locationId: PLACES.storeB.id };
  expect((await refusal(h.client.acceptTask(atB, as(staffB)))).code).toBe(status.PERMISSION_DENIED);
  expect((await h.client.getFulfilment(byId(pickup.id))).fulfilment!.task!.status).toBe(TaskStatus.TASK_STATUS_OPEN);
  // Store B's staff cannot read store A's queue either.
  const queue = { locationId: PLACES.storeA.id, taskStatuses: [], page: undefined };
  expect((await refusal(h.client.listFulfilments(queue, as(staffB)))).code).toBe(status.PERMISSION_DENIED);

  const accepted = await h.client.acceptTask({ ...forA, associateId: 'a-1' }, as(staffA));
  expect(accepted.fulfilment!.task!.status).toBe(TaskStatus.TASK_STATUS_ACCEPTED);
  const listed = await h.client.listFulfilments(queue, as(staffA));
  expect(listed.fulfilments.map((f) => f.id)).toContain(pickup.id);
});

it('a shopper can watch only their own shipment', async () => {
  await h.client.acceptTask(
    { fulfilmentId: home.id, locationId: PLACES.warehouse.id, associateId: 'w-1' },
    as(warehouseStaff),
  );
  const shipmentId = (await h.client.getFulfilment(byId(home.id))).fulfilment!.shipment!.id;
  expect(shipmentId).not.toBe('');

  const own = watch(shipmentId, principalMetadata(alice));
  await waitFor(async () => own.received.length >= 1, { timeoutMs: 10_000, what: 'the first update for alice' });
  expect(own.received[0]!.shipmentId).toBe(shipmentId);
  own.call.cancel();

  const other = await watch(shipmentId, principalMetadata(bob)).ended;
  const missing = await watch('no-such.g2.s', principalMetadata(bob)).ended;
  expect(other).toMatchObject({ code: status.NOT_FOUND, details: `Shipment "${shipmentId}" does not exist` });
  expect(missing.details).toBe('Shipment "no-such.g2.s" does not exist');
  expect((await watch(shipmentId, principalMetadata(staffB)).ended).code).toBe(status.NOT_FOUND);
  expect((await watch(shipmentId, malformed()).ended).code).toBe(status.UNAUTHENTICATED);
});

it('couriers do not come through the gateway: courier calls with a non-admin principal are refused', async () => {
  const courierId = uniqueName('rider');
  const profile = {
    courierId,
    name: 'Rider',
    phone: '+86 138 0000 0000',
    vehicle: Vehicle.VEHICLE_E_BIKE,
    capacity: 1,
  };
  expect((await refusal(h.client.registerCourier(profile, as(staffA)))).code).toBe(status.PERMISSION_DENIED);
  expect((await refusal(h.client.getCourier({ courierId }))).code).toBe(status.NOT_FOUND);
  await h.client.registerCourier(profile, as(admin));
  expect((await refusal(h.client.getCourier({ courierId }, as(alice)))).code).toBe(status.PERMISSION_DENIED);
  const accept = { shipmentId: `${home.id}.s`, courierId };
  expect((await refusal(h.client.acceptAssignment(accept, as(staffA)))).code).toBe(status.PERMISSION_DENIED);
});

it('a malformed principal is UNAUTHENTICATED and changes nothing', async () => {
  expect((await refusal(h.client.getFulfilment(byId(pickup.id), { metadata: malformed() }))).code).toBe(
    status.UNAUTHENTICATED,
  );
  const before = (await h.client.getFulfilment(byId(pickup.id))).fulfilment!;
  const pick = { fulfilmentId: pickup.id, locationId: PLACES.storeA.id };
  expect((await refusal(h.client.markPicked(pick, { metadata: malformed() }))).code).toBe(status.UNAUTHENTICATED);
  expect((await h.client.getFulfilment(byId(pickup.id))).fulfilment!.version).toBe(before.version);
});

it('no principal: an internal call, as before', async () => {
  expect((await h.client.getFulfilment(byId(home.id))).fulfilment!.customerId).toBe(alice.subject);
  const picked = await h.client.markPicked({ fulfilmentId: pickup.id, locationId: PLACES.storeA.id });
  expect(picked.fulfilment!.task!.status).toBe(TaskStatus.TASK_STATUS_PICKED);
});
