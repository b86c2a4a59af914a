// The tracking RPCs over a real grpc-js server on loopback (port 0), with the real hub and an in-memory store.
import { credentials, Metadata, Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  DeliveryServiceClient,
  DeliveryServiceService,
  type ReportPositionsRequest,
  type ReportPositionsResponse,
  ShipmentStatus,
  WatchShipmentResponse,
} from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { decodeFieldViolations, PRINCIPAL_METADATA_KEY, type Principal, principalMetadata } from '@o2o/kit-grpc';
import { createLogger } from '@o2o/kit-log';
import { createTrackingHub, type TrackingHub } from '../app/tracking-hub';
import type { TrackedShipment, TrackingStore } from '../app/tracking-ports';
import { trackingGrpcHandlers, updateFromPb, updateToPb } from './grpc-tracking';

const ORIGIN = { latitude: 31.2304, longitude: 121.4737 };
const DESTINATION = { latitude: 31.2484, longitude: 121.4737 };

function shipment(id: string, overrides: Partial<TrackedShipment> = {}): TrackedShipment {
  return {
    id,
    orderId: `ord-${id}`,
    groupId: 'g-1',
    locationId: 'loc-1',
    status: 'PICKED_UP',
    courierId: 'c-1',
    origin: ORIGIN,
    destination: DESTINATION,
    ...overrides,
  };
}

interface Harness {
  client: DeliveryServiceClient;
  hub: TrackingHub;
  shipments: Map<string, TrackedShipment>;
  reads: { count: number };
  outcomes: Record<string, number>;
  stop(): Promise<void>;
}

async function startHarness(options: { maxPerSecond?: number } = {}): Promise<Harness> {
  const shipments = new Map<string, TrackedShipment>(
    [
      shipment('shp-1'),
      shipment('shp-other', { courierId: 'c-2' }),
      shipment('shp-done', { status: 'DELIVERED' }),
      shipment('shp-open', { status: 'AWAITING_COURIER', courierId: undefined }),
    ].map((s) => [s.id, s]),
  );
  const reads = { count: 0 };
  const store: TrackingStore = {
    async shipment(id) {
      reads.count++;
      return shipments.get(id);
    },
    async carriedBy(courierId) {
      return [...shipments.values()].filter(
        (s) => s.courierId === courierId && ['ASSIGNED', 'PICKED_UP', 'OUT_FOR_DELIVERY'].includes(s.status),
      );
    },
    storedTracking: async () => undefined,
    saveCourierPosition: async () => undefined,
    saveShipmentTracking: async () => undefined,
  };
  const logger = createLogger({ service: 'test', level: 'silent' });
  const hub = createTrackingHub({ store, log: logger, persistMs: 2_000, eventMs: 15_000, watcherBuffer: 64 });
  const outcomes: Record<string, number> = {};
  const handlers = trackingGrpcHandlers({
    hub,
    store,
    // The service asks its fulfilments (app/access.ts); here: cust-1 owns shp-1, and admins see everything.
    mayWatch: async (caller, id) => caller.role === 'admin' || (caller.subject === 'cust-1' && id === 'shp-1'),
    logger,
    maxPerSecond: options.maxPerSecond ?? 20,
    onReports: (outcome, count) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + count),
  });
  const server = new Server();
  server.addService(DeliveryServiceService, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const client = new DeliveryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    client,
    hub,
    shipments,
    reads,
    outcomes,
    async stop() {
      client.close();
      await hub.close();
      server.forceShutdown();
    },
  };
}

let harness: Harness;
afterEach(async () => harness?.stop());

function report(overrides: Partial<ReportPositionsRequest> = {}): ReportPositionsRequest {
  return {
    courierId: 'c-1',
    shipmentId: 'shp-1',
    point: { ...ORIGIN },
    time: new Date(),
    speedMps: 5,
    headingDeg: 0,
    accuracyM: 5,
    ...overrides,
  };
}

/** Opens a courier stream; `done` settles with the summary or the status the stream ended with. */
function courierStream(client: DeliveryServiceClient, metadata = new Metadata()) {
  let settle: (value: { error?: ServiceError; response?: ReportPositionsResponse }) => void = () => undefined;
  const done = new Promise<{ error?: ServiceError; response?: ReportPositionsResponse }>((r) => (settle = r));
  const stream = client.reportPositions(metadata, (error, response) => settle(error ? { error } : { response }));
  return { stream, done };
}

/** Opens a watch; collects what arrives and how it ended. */
function watcher(client: DeliveryServiceClient, shipmentId: string, metadata = new Metadata()) {
  const received: WatchShipmentResponse[] = [];
  const call = client.watchShipment({ shipmentId }, metadata);
  const ended = new Promise<{ error?: ServiceError }>((resolve) => {
    call.on('data', (m: WatchShipmentResponse) => received.push(m));
    call.on('error', (error: ServiceError) => resolve({ error }));
    call.on('end', () => resolve({}));
  });
  ended.catch(() => undefined);
  return { call, received, ended };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('caller identity on the streams', () => {
  const shopper: Principal = { role: 'shopper', subject: 'cust-1', storeIds: [], scopes: [] };
  const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
  const malformed = () => {
    const metadata = new Metadata();
    metadata.set(PRINCIPAL_METADATA_KEY, 'not-a-principal');
    return metadata;
  };

  it('a shopper watches their own shipment; someone else’s is NOT_FOUND, word for word as a missing one', async () => {
    harness = await startHarness();
    harness.hub.publishStatus(shipment('shp-1'));
    harness.hub.publishStatus(shipment('shp-other', { courierId: 'c-2' }));
    const own = watcher(harness.client, 'shp-1', principalMetadata(shopper));
    await until(() => own.received.length === 1);
    const other = await watcher(harness.client, 'shp-other', principalMetadata(shopper)).ended;
    const missing = await watcher(harness.client, 'shp-none').ended;
    expect(other.error?.code).toBe(status.NOT_FOUND);
    expect(other.error?.details).toBe('Shipment "shp-other" does not exist');
    expect(missing.error?.details).toBe('Shipment "shp-none" does not exist');
    const byAdmin = watcher(harness.client, 'shp-other', principalMetadata(admin));
    await until(() => byAdmin.received.length === 1);
    own.call.cancel();
    byAdmin.call.cancel();
  });

  it('a malformed principal is UNAUTHENTICATED, on a watch and on a courier stream', async () => {
    harness = await startHarness();
    expect((await watcher(harness.client, 'shp-1', malformed()).ended).error?.code).toBe(status.UNAUTHENTICATED);
    const { stream, done } = courierStream(harness.client, malformed());
    stream.write(report());
    stream.end();
    expect((await done).error?.code).toBe(status.UNAUTHENTICATED);
    expect(harness.outcomes).toEqual({});
  });

  it('courier streams are not open to gateway callers: PERMISSION_DENIED, no position taken; an admin may', async () => {
    harness = await startHarness();
    const refused = courierStream(harness.client, principalMetadata(shopper));
    refused.stream.write(report());
    refused.stream.end();
    expect((await refused.done).error?.code).toBe(status.PERMISSION_DENIED);
    expect(harness.hub.lastFixMs('shp-1')).toBeUndefined();
    const allowed = courierStream(harness.client, principalMetadata(admin));
    allowed.stream.write(report());
    allowed.stream.end();
    expect((await allowed.done).response).toEqual({ accepted: 1, rejected: {} });
  });
});

describe('ReportPositions and WatchShipment', () => {
  it('streams a 10/s courier to 50 watchers: every watcher sees every update, in order, then the end', async () => {
    harness = await startHarness();
    harness.hub.publishStatus(shipment('shp-1'));
    const watchers = Array.from({ length: 50 }, () => watcher(harness.client, 'shp-1'));
    await until(() => watchers.every((w) => w.received.length === 1));
    const { stream, done } = courierStream(harness.client);
    for (let i = 0; i < 20; i++) {
      stream.write(report({ point: { latitude: ORIGIN.latitude + i * 0.00005, longitude: ORIGIN.longitude } }));
      await sleep(100);
    }
    stream.end();
    expect((await done).response).toEqual({ accepted: 20, rejected: {} });
    expect(harness.outcomes).toEqual({ accepted: 20 });
    harness.hub.publishStatus(shipment('shp-1', { status: 'DELIVERED' }));
    const ends = await Promise.all(watchers.map((w) => w.ended));
    expect(ends.every((e) => e.error === undefined)).toBe(true);
    for (const w of watchers) {
      expect(w.received).toHaveLength(22);
      const sequences = w.received.map((m) => Number(m.sequence));
      expect(sequences.every((s, i) => i === 0 || s > sequences[i - 1]!)).toBe(true);
      expect(w.received.at(-1)!.status).toBe(ShipmentStatus.SHIPMENT_STATUS_DELIVERED);
      expect(w.received[5]).toMatchObject({ courierId: 'c-1', status: ShipmentStatus.SHIPMENT_STATUS_PICKED_UP });
      expect(Number(w.received[5]!.remainingDistanceM)).toBeGreaterThan(2_000);
      expect(w.received[5]!.eta!.getTime()).toBeGreaterThan(Date.now());
    }
    // The 10/s stream read the shipment once, not once per fix.
    expect(harness.reads.count).toBe(1);
  });

  it('starts a reconnecting watcher from the latest update', async () => {
    harness = await startHarness();
    const { stream, done } = courierStream(harness.client);
    const first = watcher(harness.client, 'shp-1');
    for (let i = 0; i < 3; i++) {
      stream.write(report({ time: new Date(Date.now() - 10 + i) }));
      await sleep(20);
    }
    await until(() => first.received.length >= 3);
    first.call.cancel();
    expect((await first.ended).error?.code).toBe(status.CANCELLED);
    await until(() => harness.hub.stats().watchers === 0);
    const last = report({ time: new Date(), point: DESTINATION });
    stream.write(last);
    await sleep(50);
    const again = watcher(harness.client, 'shp-1');
    await until(() => again.received.length === 1);
    expect(again.received[0]).toMatchObject({ position: { point: DESTINATION, time: last.time } });
    stream.end();
    await done;
  });

  it('drops and counts bad positions: out of range, time going back or ahead, missing fields', async () => {
    harness = await startHarness();
    const { stream, done } = courierStream(harness.client);
    const t = Date.now();
    const reports = [
      report({ time: new Date(t - 1000) }),
      report({ point: { latitude: 91, longitude: 0 }, time: new Date(t - 900) }),
      report({ point: { latitude: 0, longitude: -180.01 }, time: new Date(t - 900) }),
      report({ speedMps: -2, time: new Date(t - 900) }),
      report({ time: new Date(t - 1000) }),
      report({ time: new Date(t - 2000) }),
      report({ time: new Date(t + 120_000) }),
      report({ point: undefined, time: new Date(t - 800) }),
      report({ time: undefined }),
      report({ time: new Date(t - 700) }),
      // No shipment: still a position (for dispatch).
      report({ shipmentId: '', time: new Date(t - 600) }),
    ];
    for (const r of reports) stream.write(r);
    stream.end();
    expect((await done).response).toEqual({
      accepted: 3,
      rejected: { out_of_range: 3, time_not_rising: 2, time_in_future: 1, missing_field: 2 },
    });
  });

  it('drops reports above the rate limit', async () => {
    harness = await startHarness({ maxPerSecond: 10 });
    const { stream, done } = courierStream(harness.client);
    const t = Date.now() - 10_000;
    for (let i = 0; i < 40; i++) stream.write(report({ time: new Date(t + i) }));
    stream.end();
    const { response } = await done;
    expect(response!.accepted).toBeGreaterThanOrEqual(10);
    expect(response!.accepted).toBeLessThan(15);
    expect(response!.accepted + response!.rejected.rate_limited!).toBe(40);
  });

  it.each([
    ['shp-other', status.PERMISSION_DENIED, /Courier "c-1" does not carry shipment "shp-other": another courier does/],
    ['shp-open', status.PERMISSION_DENIED, /no courier has accepted it/],
    ['shp-nope', status.NOT_FOUND, /Shipment "shp-nope" does not exist/],
    ['shp-done', status.FAILED_PRECONDITION, /Shipment "shp-done" is DELIVERED: positions are taken only while/],
  ])('ends the stream when a report names %s', async (shipmentId, code, message) => {
    harness = await startHarness();
    const { stream, done } = courierStream(harness.client);
    stream.write(report({ time: new Date(Date.now() - 100) }));
    stream.write(report({ shipmentId, time: new Date(Date.now() - 50) }));
    const { error } = await done;
    expect(error?.code).toBe(code);
    expect(error?.details).toMatch(message);
    stream.end();
  });

  it('refuses a stream without a courier, or whose courier changes, or with a malformed id, naming the field', async () => {
    harness = await startHarness();
    const nobody = courierStream(harness.client);
    nobody.stream.write(report({ courierId: '' }));
    const first = await nobody.done;
    expect(first.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(first.error?.metadata)).toEqual([
      { field: 'courier_id', description: expect.stringMatching(/required/) },
    ]);
    nobody.stream.end();

    const changing = courierStream(harness.client);
    changing.stream.write(report({ time: new Date(Date.now() - 100) }));
    changing.stream.write(report({ courierId: 'c-2', time: new Date(Date.now() - 50) }));
    const second = await changing.done;
    expect(second.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(second.error?.details).toMatch(/courier_id: must stay "c-1" for the whole stream, got "c-2"/);
    changing.stream.end();

    const malformed = courierStream(harness.client);
    malformed.stream.write(report({ courierId: 'c 1' }));
    const third = await malformed.done;
    expect(third.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(third.error?.metadata)).toEqual([
      { field: 'courier_id', description: 'must be 1..128 printable characters, no spaces' },
    ]);
    malformed.stream.end();

    const badShipment = courierStream(harness.client);
    badShipment.stream.write(report({ shipmentId: 'x'.repeat(200) }));
    const fourth = await badShipment.done;
    expect(fourth.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(fourth.error?.metadata)).toEqual([
      { field: 'shipment_id', description: 'must be 1..128 printable characters, no spaces' },
    ]);
    badShipment.stream.end();
  });

  it('ends a courier stream once the shipment it names is delivered', async () => {
    harness = await startHarness();
    const { stream, done } = courierStream(harness.client);
    stream.write(report({ time: new Date(Date.now() - 100) }));
    await until(() => harness.hub.lastFixMs('shp-1') !== undefined);
    harness.hub.publishStatus(shipment('shp-1', { status: 'DELIVERED' }));
    stream.write(report({ time: new Date(Date.now() - 50) }));
    const { error } = await done;
    expect(error?.code).toBe(status.FAILED_PRECONDITION);
    expect(error?.details).toMatch(/is DELIVERED/);
    stream.end();
  });

  it('answers INVALID_ARGUMENT and NOT_FOUND to a bad watch, and ends a watch of an ended shipment cleanly', async () => {
    harness = await startHarness();
    const empty = await watcher(harness.client, '').ended;
    expect(empty.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(empty.error?.metadata)).toEqual([
      { field: 'shipment_id', description: 'is required' },
    ]);
    const malformed = await watcher(harness.client, 'x'.repeat(100_000)).ended;
    expect(malformed.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(malformed.error?.metadata)).toEqual([
      { field: 'shipment_id', description: 'must be 1..128 printable characters, no spaces' },
    ]);
    const unknown = await watcher(harness.client, 'shp-nope').ended;
    expect(unknown.error?.code).toBe(status.NOT_FOUND);
    expect(unknown.error?.details).toBe('Shipment "shp-nope" does not exist');
    const ended = watcher(harness.client, 'shp-done');
    expect((await ended.ended).error).toBeUndefined();
    expect(ended.received.map((m) => m.status)).toEqual([ShipmentStatus.SHIPMENT_STATUS_DELIVERED]);
  });

  it('ends watches and courier streams with UNAVAILABLE when the hub closes (so the server can stop)', async () => {
    harness = await startHarness();
    const watch = watcher(harness.client, 'shp-1');
    const courier = courierStream(harness.client);
    courier.stream.write(report({ time: new Date(Date.now() - 100) }));
    await until(() => watch.received.length >= 2);
    await harness.hub.close();
    expect((await watch.ended).error?.code).toBe(status.UNAVAILABLE);
    expect((await courier.done).error?.code).toBe(status.UNAVAILABLE);
    courier.stream.end();
  });

  it('keeps the watcher of a slow client bounded and the courier unaffected', async () => {
    harness = await startHarness({ maxPerSecond: 100 });
    const slow = harness.client.watchShipment({ shipmentId: 'shp-1' });
    slow.on('error', () => undefined);
    slow.pause();
    const { stream, done } = courierStream(harness.client);
    const t = Date.now() - 5_000;
    for (let i = 0; i < 100; i++) {
      stream.write(report({ time: new Date(t + i * 10) }));
      if (i % 10 === 0) await sleep(5);
    }
    stream.end();
    expect((await done).response!.accepted).toBe(100);
    slow.cancel();
  });
});

describe('update mapping', () => {
  it('round-trips an update through the wire form', () => {
    const update = {
      shipmentId: 'shp-1',
      sequence: 1_795_348_800_123,
      status: 'OUT_FOR_DELIVERY' as const,
      courierId: 'c-1',
      position: { point: ORIGIN, time: new Date(1_795_348_800_000), speedMps: 4.5, headingDeg: 90, accuracyM: 6 },
      eta: new Date(1_795_349_000_000),
      remainingDistanceM: 1234,
    };
    const wire = WatchShipmentResponse.decode(WatchShipmentResponse.encode(updateToPb(update)).finish());
    expect(updateFromPb(wire, 'position')).toEqual({ ...update, kind: 'position' });
  });

  it('refuses a message without a shipment, a known status or a sequence', () => {
    const base = updateToPb({ shipmentId: 's', sequence: 5, status: 'ASSIGNED' });
    expect(updateFromPb({ ...base, shipmentId: '' })).toBeUndefined();
    expect(updateFromPb({ ...base, status: ShipmentStatus.SHIPMENT_STATUS_UNSPECIFIED })).toBeUndefined();
    expect(updateFromPb({ ...base, sequence: '0' })).toBeUndefined();
    expect(updateFromPb(base)).toEqual({ shipmentId: 's', sequence: 5, status: 'ASSIGNED' });
  });
});
