// Live tracking against the real service, Kafka and database: 50 shoppers watch one shipment while its courier
// streams 10 positions a second; every watcher sees every update in order within a second; a watcher that
// reconnects starts from the latest; a watcher on another replica follows too (through Kafka); bad positions are
// refused; the stream ends when the parcel is delivered.
import type { ClientReadableStream } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import {
  type ReportPositionsRequest,
  type ReportPositionsResponse,
  ShipmentStatus,
  Vehicle,
  type WatchShipmentResponse,
} from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { statusOf, uniqueName, waitFor } from '@o2o/kit-testing';
import { type DeliveryHarness, DROP_OFF, PLACES, startDelivery } from './harness';

let h: DeliveryHarness;
let replica: Awaited<ReturnType<DeliveryHarness['startReplica']>>;

beforeAll(async () => {
  h = await startDelivery({ POSITION_MAX_PER_SECOND: '20', POSITION_EVENT_MS: '1000' });
  replica = await h.startReplica();
}, 60_000);
afterAll(async () => {
  replica?.raw.close();
  await h?.stop();
});

/** A watcher: every update it received with the local time it arrived, and how its stream ended. */
interface Watcher {
  updates: { update: WatchShipmentResponse; at: number }[];
  ended: Promise<{ code: number; details: string }>;
  call: ClientReadableStream<WatchShipmentResponse>;
}

function watch(client: DeliveryHarness['raw'], shipmentId: string): Watcher {
  const call = client.watchShipment({ shipmentId });
  const updates: Watcher['updates'] = [];
  call.on('data', (update: WatchShipmentResponse) => updates.push({ update, at: Date.now() }));
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('error', (e) => resolve(statusOf(e)));
    call.on('end', () => resolve({ code: status.OK, details: '' }));
  });
  return { updates, ended, call };
}

/** Opens a position stream; `send` writes one report, `finish` ends it and gives the summary or the error. */
function positionStream(client: DeliveryHarness['raw']) {
  let settle!: (r: { summary?: ReportPositionsResponse; error?: { code: number; details: string } }) => void;
  const done = new Promise<{ summary?: ReportPositionsResponse; error?: { code: number; details: string } }>(
    (resolve) => (settle = resolve),
  );
  const call = client.reportPositions((error, summary) =>
    settle(error ? { error: statusOf(error) } : { summary: summary ?? undefined }),
  );
  return {
    send: (report: Partial<ReportPositionsRequest>) =>
      call.write({
        courierId: '',
        shipmentId: '',
        point: undefined,
        time: undefined,
        speedMps: 0,
        headingDeg: 0,
        accuracyM: 5,
        ...report,
      }),
    finish: () => {
      call.end();
      return done;
    },
    done,
  };
}

/** An assigned shipment of a fresh courier near the warehouse; answers the ids. */
const riders: string[] = [];

async function assignedShipment(): Promise<{ shipmentId: string; courierId: string; fulfilmentId: string }> {
  // Earlier tests' riders go off shift, so dispatch offers this shipment to the new one.
  for (const rider of riders)
    await h.client.setCourierAvailability({ courierId: rider, available: false, point: undefined });
  const courierId = uniqueName('rider');
  riders.push(courierId);
  await h.client.registerCourier({
    courierId,
    name: 'Zhao Lei',
    phone: '+86 137 0000 0000',
    vehicle: Vehicle.VEHICLE_E_BIKE,
    capacity: 10,
  });
  await h.client.setCourierAvailability({
    courierId,
    available: true,
    point: { latitude: PLACES.warehouse.point.latitude + 0.0005, longitude: PLACES.warehouse.point.longitude },
  });
  const orderId = uniqueName('o');
  await h.confirmOrder(orderId, [{ id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id }]);
  const fulfilmentId = `${orderId}.g1`;
  await waitFor(async () => (await h.client.getFulfilment({ fulfilmentId, orderId: '', groupId: '' })).fulfilment);
  const accepted = (await h.client.acceptTask({ fulfilmentId, locationId: PLACES.warehouse.id, associateId: '' }))
    .fulfilment!;
  const shipmentId = accepted.shipment!.id;
  expect(accepted.shipment?.offer?.courierId).toBe(courierId);
  await h.client.acceptAssignment({ shipmentId, courierId });
  return { shipmentId, courierId, fulfilmentId };
}

/** The i-th point of a courier riding from the warehouse towards the drop-off. */
function along(i: number, of: number) {
  const from = PLACES.warehouse.point;
  return {
    latitude: from.latitude + ((DROP_OFF.latitude - from.latitude) * i) / of,
    longitude: from.longitude + ((DROP_OFF.longitude - from.longitude) * i) / of,
  };
}

const positionTimes = (w: Watcher) =>
  w.updates.filter((u) => u.update.position?.time).map((u) => u.update.position!.time!.getTime());

it('fans 10 positions a second out to 50 watchers, in order, within a second; a late or remote watcher starts from the latest', async () => {
  const { shipmentId, courierId } = await assignedShipment();
  const watchers = Array.from({ length: 50 }, () => watch(h.raw, shipmentId));
  const remote = watch(replica.raw, shipmentId);
  // Each watcher first gets the shipment's latest state (assigned, no position yet).
  await waitFor(() => [...watchers, remote].every((w) => w.updates.length >= 1), { what: 'first updates' });
  expect(watchers[0]!.updates[0]!.update).toMatchObject({
    shipmentId,
    status: ShipmentStatus.SHIPMENT_STATUS_ASSIGNED,
    courierId,
  });

  const COUNT = 50;
  const stream = positionStream(h.raw);
  const sent: number[] = [];
  const start = Date.now();
  for (let i = 1; i <= COUNT; i++) {
    const time = new Date();
    sent.push(time.getTime());
    stream.send({ courierId, shipmentId, point: along(i, COUNT * 4), time, speedMps: 6 });
    await new Promise((r) => setTimeout(r, Math.max(0, start + i * 100 - Date.now())));
  }
  const last = sent[sent.length - 1]!;
  await waitFor(() => watchers.every((w) => positionTimes(w).includes(last)), {
    what: 'every watcher has the last fix',
  });

  const delays: number[] = [];
  for (const w of watchers) {
    // Every fix, in the order sent, and sequences strictly rising.
    expect(positionTimes(w)).toEqual(sent);
    const sequences = w.updates.map((u) => Number(u.update.sequence));
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]!).toBeGreaterThan(sequences[i - 1]!);
    for (const u of w.updates) if (u.update.position?.time) delays.push(u.at - u.update.position.time.getTime());
    // ETA and the distance still to go come with every fix.
    const lastUpdate = w.updates.at(-1)!.update;
    expect(lastUpdate.eta!.getTime()).toBeGreaterThan(Date.now());
    expect(Number(lastUpdate.remainingDistanceM)).toBeGreaterThan(0);
  }
  delays.sort((a, b) => a - b);
  expect(delays).toHaveLength(50 * COUNT);
  expect(delays[Math.floor(delays.length * 0.99)]!).toBeLessThan(1000);

  // The watcher on the other replica follows through the tracking topic, in order too.
  await waitFor(() => positionTimes(remote).includes(last), {
    what: 'the remote watcher has the last fix',
    timeoutMs: 5000,
  });
  const remoteTimes = positionTimes(remote);
  for (let i = 1; i < remoteTimes.length; i++) expect(remoteTimes[i]!).toBeGreaterThan(remoteTimes[i - 1]!);

  // A watcher that (re)connects starts from the latest position, on either replica.
  for (const client of [h.raw, replica.raw]) {
    const late = watch(client, shipmentId);
    await waitFor(() => late.updates.length >= 1);
    expect(late.updates[0]!.update.position?.time?.getTime()).toBe(last);
    late.call.cancel();
  }

  const { summary } = await stream.finish();
  expect(summary).toEqual({ accepted: COUNT, rejected: {} });
  for (const w of [...watchers, remote]) w.call.cancel();

  // Partners get a throttled trail on o2o.delivery.v1 (here one per second), not one event per fix.
  const orderId = shipmentId.slice(0, -'.g1.s'.length);
  await new Promise((r) => setTimeout(r, 2500));
  const trail = h.events().filter((e) => e.key === orderId && e.type === 'ShipmentPosition');
  expect(trail.length).toBeGreaterThanOrEqual(3);
  expect(trail.length).toBeLessThanOrEqual(8);
  expect(trail.at(-1)?.payload).toMatchObject({ shipmentId, courierId, ref: { orderId, groupId: 'g1' } });
});

it('refuses bad positions: out of range, time going backwards or in the future, too fast, another courier’s shipment', async () => {
  const { shipmentId, courierId } = await assignedShipment();
  const watcher = watch(h.raw, shipmentId);
  await waitFor(() => watcher.updates.length >= 1);
  const stream = positionStream(h.raw);
  const now = Date.now();
  stream.send({ courierId, shipmentId, point: along(1, 10), time: new Date(now) });
  stream.send({ courierId, shipmentId, point: { latitude: 95, longitude: 121.47 }, time: new Date(now + 100) });
  stream.send({ courierId, shipmentId, point: { latitude: 31.22, longitude: -181 }, time: new Date(now + 150) });
  stream.send({ courierId, shipmentId, point: along(2, 10), time: new Date(now - 5000) });
  stream.send({ courierId, shipmentId, point: along(2, 10), time: new Date(now + 3_600_000) });
  stream.send({ courierId, shipmentId, point: along(3, 10), time: undefined });
  stream.send({ courierId, shipmentId, point: along(4, 10), time: new Date(now + 200) });
  const { summary } = await stream.finish();
  expect(summary).toEqual({
    accepted: 2,
    rejected: { out_of_range: 2, time_not_rising: 1, time_in_future: 1, missing_field: 1 },
  });
  await waitFor(() => positionTimes(watcher).includes(now + 200));
  expect(positionTimes(watcher)).toEqual([now, now + 200]);

  // Faster than POSITION_MAX_PER_SECOND (20/s): the excess is dropped and counted.
  const burst = positionStream(h.raw);
  for (let i = 1; i <= 60; i++)
    burst.send({ courierId, shipmentId, point: along(5, 10), time: new Date(now + 300 + i) });
  const flood = (await burst.finish()).summary!;
  expect(flood.accepted + (flood.rejected.rate_limited ?? 0)).toBe(60);
  expect(flood.rejected.rate_limited ?? 0).toBeGreaterThan(0);

  // Another courier cannot report on this shipment: the stream ends with PERMISSION_DENIED, nothing is fanned out.
  const intruder = uniqueName('rider');
  await h.client.registerCourier({
    courierId: intruder,
    name: 'Qian Yu',
    phone: '+86 136 0000 0000',
    vehicle: Vehicle.VEHICLE_BICYCLE,
    capacity: 1,
  });
  const before = watcher.updates.length;
  const hijack = positionStream(h.raw);
  hijack.send({
    courierId: intruder,
    shipmentId,
    point: { latitude: 31.3, longitude: 121.5 },
    time: new Date(now + 5000),
  });
  const refused = await hijack.finish();
  expect(refused.error?.code).toBe(status.PERMISSION_DENIED);
  await new Promise((r) => setTimeout(r, 300));
  expect(watcher.updates.slice(before).some((u) => u.update.courierId === intruder)).toBe(false);

  // A stream without a courier id is refused at once.
  const anonymous = positionStream(h.raw);
  anonymous.send({ courierId: '', shipmentId, point: along(1, 10), time: new Date() });
  expect((await anonymous.finish()).error?.code).toBe(status.INVALID_ARGUMENT);
  watcher.call.cancel();
});

it('moves every shipment a courier carries with one stream of fixes that name no shipment', async () => {
  const first = await assignedShipment();
  // The same rider (the only one on shift) takes a second parcel.
  const orderId = uniqueName('o');
  await h.confirmOrder(orderId, [{ id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id }]);
  await waitFor(
    async () => (await h.client.getFulfilment({ fulfilmentId: `${orderId}.g1`, orderId: '', groupId: '' })).fulfilment,
  );
  const second = (
    await h.client.acceptTask({ fulfilmentId: `${orderId}.g1`, locationId: PLACES.warehouse.id, associateId: '' })
  ).fulfilment!.shipment!;
  expect(second.offer?.courierId).toBe(first.courierId);
  await h.client.acceptAssignment({ shipmentId: second.id, courierId: first.courierId });

  const watchers = [watch(h.raw, first.shipmentId), watch(h.raw, second.id)];
  await waitFor(() => watchers.every((w) => w.updates.length >= 1));
  const stream = positionStream(h.raw);
  const times = [Date.now(), Date.now() + 100, Date.now() + 200];
  for (const [i, t] of times.entries())
    stream.send({ courierId: first.courierId, point: along(i + 1, 10), time: new Date(t) });
  expect((await stream.finish()).summary).toEqual({ accepted: 3, rejected: {} });
  await waitFor(() => watchers.every((w) => positionTimes(w).length === 3), { what: 'both shipments moved' });
  for (const w of watchers) expect(positionTimes(w)).toEqual(times);
  for (const w of watchers) w.call.cancel();
});

it('tells watchers of every status change and ends their streams at delivery', async () => {
  const { shipmentId, courierId, fulfilmentId } = await assignedShipment();
  const watcher = watch(h.raw, shipmentId);
  await waitFor(() => watcher.updates.length >= 1);
  await h.client.markReady({ fulfilmentId, locationId: PLACES.warehouse.id });
  await h.client.confirmCollection({ shipmentId, courierId });
  await h.client.startDelivery({ shipmentId, courierId });
  const { code } = await h.client.getHandoverCode({ fulfilmentId });
  await h.client.confirmDelivery({ shipmentId, courierId, code });
  const end = await watcher.ended;
  expect(end.code).toBe(status.OK);
  expect(watcher.updates.map((u) => u.update.status)).toEqual([
    ShipmentStatus.SHIPMENT_STATUS_ASSIGNED,
    ShipmentStatus.SHIPMENT_STATUS_PICKED_UP,
    ShipmentStatus.SHIPMENT_STATUS_OUT_FOR_DELIVERY,
    ShipmentStatus.SHIPMENT_STATUS_DELIVERED,
  ]);
  // Watching a delivered shipment answers its final state and ends.
  const late = watch(h.raw, shipmentId);
  expect((await late.ended).code).toBe(status.OK);
  expect(late.updates.map((u) => u.update.status)).toEqual([ShipmentStatus.SHIPMENT_STATUS_DELIVERED]);
  // Unknown and malformed shipment ids.
  expect((await watch(h.raw, 'no-such.s').ended).code).toBe(status.NOT_FOUND);
  expect((await watch(h.raw, '').ended).code).toBe(status.INVALID_ARGUMENT);
});

it('at SIGTERM ends open streams with UNAVAILABLE (clients reconnect elsewhere) and stops without forcing', async () => {
  const { shipmentId, courierId } = await assignedShipment();
  const watchers = Array.from({ length: 20 }, () => watch(replica.raw, shipmentId));
  await waitFor(() => watchers.every((w) => w.updates.length >= 1));
  const courier = positionStream(replica.raw);
  courier.send({ courierId, shipmentId, point: along(1, 10), time: new Date() });
  await waitFor(() => watchers.every((w) => w.updates.some((u) => u.update.position)));
  const started = Date.now();
  await replica.service.stop();
  // The harness's grace is 20 s: ending the streams lets the stop finish long before it.
  expect(Date.now() - started).toBeLessThan(5000);
  for (const w of watchers) expect((await w.ended).code).toBe(status.UNAVAILABLE);
  expect((await courier.done).error?.code).toBe(status.UNAVAILABLE);
  // The other replica still serves the shipment, from the latest position.
  const moved = watch(h.raw, shipmentId);
  await waitFor(() => moved.updates.length >= 1);
  expect(moved.updates[0]!.update.position).toBeDefined();
  moved.call.cancel();
});
