// The tracking hub with an in-memory TrackingStore, an in-memory bus between "replicas" and jest's fake clock.
import { WatchQueue } from './shipment-watch';
import { createTrackingHub, type TrackingHub, type TrackingHubOptions } from './tracking-hub';
import type {
  CourierFix,
  ShipmentUpdate,
  StoredTracking,
  TrackedShipment,
  TrackedStatus,
  TrackingBus,
  TrackingStore,
} from './tracking-ports';
import { createThrottle } from './tracking-throttle';
import type { ShipmentWatch } from './shipment-watch';

const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const ORIGIN = { latitude: 31.2304, longitude: 121.4737 };
const DESTINATION = { latitude: 31.2484, longitude: 121.4737 };

function shipment(overrides: Partial<TrackedShipment> = {}): TrackedShipment {
  return {
    id: 'shp-1',
    orderId: 'ord-1',
    groupId: 'g-1',
    locationId: 'loc-1',
    status: 'ASSIGNED',
    courierId: 'c-1',
    origin: ORIGIN,
    destination: DESTINATION,
    ...overrides,
  };
}

/** The i-th fix of a courier riding north from 1 km south of the origin at ~5 m/s, 10 fixes a second. */
function fix(i: number, overrides: Partial<CourierFix> = {}): CourierFix {
  return {
    point: { latitude: ORIGIN.latitude - 0.009 + (i * 0.5) / 111_195, longitude: ORIGIN.longitude },
    time: new Date(Date.now() - 50),
    speedMps: 5,
    headingDeg: 0,
    accuracyM: 5,
    ...overrides,
  };
}

interface Write {
  at: number;
  key: string;
  announce?: boolean;
  sequence?: number;
}

function fakeStore(shipments: TrackedShipment[] = [shipment()]) {
  const byId = new Map(shipments.map((s) => [s.id, s]));
  const stored = new Map<string, StoredTracking>();
  const courierWrites: Write[] = [];
  const shipmentWrites: Write[] = [];
  const reads = { shipment: 0, storedTracking: 0 };
  const state = { failing: false };
  const store: TrackingStore = {
    carriedBy: async () => [],
    async shipment(id) {
      reads.shipment++;
      return byId.get(id);
    },
    async storedTracking(id) {
      reads.storedTracking++;
      return stored.get(id);
    },
    async saveCourierPosition(courierId) {
      if (state.failing) throw new Error('database away');
      courierWrites.push({ at: Date.now(), key: courierId });
    },
    async saveShipmentTracking(id, tracking, { announce }) {
      if (state.failing) throw new Error('database away');
      stored.set(id, tracking);
      shipmentWrites.push({ at: Date.now(), key: id, announce, sequence: tracking.sequence });
    },
  };
  return { store, byId, stored, courierWrites, shipmentWrites, reads, state };
}

/** In-memory buses joining hubs like replicas joined by Kafka (delivery a tick later, a copy, never to oneself). */
function busNetwork() {
  const members: { receive?: (update: ShipmentUpdate) => void }[] = [];
  return (): TrackingBus => {
    const me: { receive?: (update: ShipmentUpdate) => void } = {};
    members.push(me);
    return {
      publish(update) {
        const copy = structuredClone(update);
        for (const other of members) if (other !== me) queueMicrotask(() => other.receive?.(copy));
      },
      onRemote(receive) {
        me.receive = receive;
      },
      stop: async () => undefined,
    };
  };
}

const warnings: object[] = [];
const log = { warn: (fields: object) => void warnings.push(fields) };

function hubWith(store: TrackingStore, overrides: Partial<TrackingHubOptions> = {}): TrackingHub {
  const hub = createTrackingHub({ store, log, persistMs: 2_000, eventMs: 15_000, now: () => Date.now(), ...overrides });
  hubs.push(hub);
  return hub;
}

async function take(watch: ShipmentWatch, n: number): Promise<ShipmentUpdate[]> {
  const out: ShipmentUpdate[] = [];
  for (let i = 0; i < n; i++) {
    const next = await watch.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** Everything a watch has ready now, without waiting for more (a next() left pending is reused by the next call). */
async function drain(watch: ShipmentWatch): Promise<ShipmentUpdate[]> {
  const out: ShipmentUpdate[] = [];
  for (;;) {
    const pending = pendingNext.get(watch) ?? watch.next();
    const next = await Promise.race([pending, new Promise<'idle'>((r) => setImmediate(() => r('idle')))]);
    if (next === 'idle') {
      pendingNext.set(watch, pending);
      return out;
    }
    pendingNext.delete(watch);
    if (next.done) return out;
    out.push(next.value);
  }
}
const pendingNext = new WeakMap<ShipmentWatch, Promise<IteratorResult<ShipmentUpdate, undefined>>>();

const hubs: TrackingHub[] = [];

beforeEach(() => {
  jest.useFakeTimers({ now: NOW, doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
  warnings.length = 0;
});

afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
  jest.useRealTimers();
});

function tracked(hub: TrackingHub, courierId: string, f: CourierFix, s: TrackedShipment): ShipmentUpdate {
  const result = hub.ingest(courierId, f, s);
  if (result.kind !== 'tracked') throw new Error(`expected the fix to be tracked, got ${result.kind}`);
  return result.update;
}

describe('TrackingHub fan-out', () => {
  it('gives 50 watchers every update of a 10/s courier, in order, each first seeing the latest', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    hub.publishStatus(shipment());
    const watches = await Promise.all(Array.from({ length: 50 }, () => hub.watch('shp-1')));
    const received = watches.map(() => [] as ShipmentUpdate[]);
    const readers = watches.map(async (w, i) => {
      for await (const update of w!) received[i]!.push(update);
    });
    const sent: ShipmentUpdate[] = [];
    for (let i = 0; i < 100; i++) {
      await jest.advanceTimersByTimeAsync(100);
      sent.push(tracked(hub, 'c-1', fix(i), shipment()));
    }
    const delivered = hub.publishStatus(shipment({ status: 'DELIVERED' }));
    await Promise.all(readers);
    for (const list of received) {
      expect(list[0]!.kind).toBe('status');
      expect(list.slice(1, -1).map((u) => u.sequence)).toEqual(sent.map((u) => u.sequence));
      expect(list.at(-1)).toEqual(delivered);
      const sequences = list.map((u) => u.sequence);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(sequences.length);
    }
    expect(watches.every((w) => w!.ended === 'final')).toBe(true);
    expect(hub.stats().watchers).toBe(0);
  });

  it('lets a watcher that reconnects start again from the latest update', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    const first = (await hub.watch('shp-1'))!;
    for (let i = 0; i < 5; i++) {
      await jest.advanceTimersByTimeAsync(100);
      tracked(hub, 'c-1', fix(i), shipment());
    }
    await take(first, 3);
    first.close();
    expect(first.ended).toBe('closed');
    await jest.advanceTimersByTimeAsync(100);
    const latest = tracked(hub, 'c-1', fix(5), shipment());
    const again = (await hub.watch('shp-1'))!;
    expect(await take(again, 1)).toEqual([latest]);
    await jest.advanceTimersByTimeAsync(100);
    const next = tracked(hub, 'c-1', fix(6), shipment());
    expect(await take(again, 1)).toEqual([next]);
  });

  it('answers undefined for a shipment that does not exist, and keeps nothing for it', async () => {
    const { store } = fakeStore([]);
    const hub = hubWith(store);
    expect(await hub.watch('nope')).toBeUndefined();
    expect(hub.stats()).toMatchObject({ shipments: 0, watchers: 0 });
  });

  it('on a replica with nothing in memory, starts from the stored tracking and the shipment status', async () => {
    const fake = fakeStore([shipment({ status: 'PICKED_UP' })]);
    const position = fix(0);
    fake.stored.set('shp-1', { position, eta: new Date(NOW + 60_000), remainingDistanceM: 900, sequence: NOW - 5 });
    const hub = hubWith(fake.store);
    // Concurrent watchers share one read.
    const [a, b] = await Promise.all([hub.watch('shp-1'), hub.watch('shp-1')]);
    expect(fake.reads).toEqual({ shipment: 1, storedTracking: 1 });
    const [first] = await take(a!, 1);
    expect(first).toEqual({
      shipmentId: 'shp-1',
      sequence: NOW - 5,
      status: 'PICKED_UP',
      courierId: 'c-1',
      position,
      eta: new Date(NOW + 60_000),
      remainingDistanceM: 900,
    });
    expect(await take(b!, 1)).toEqual([first]);
    // A third watcher is served from memory.
    await hub.watch('shp-1');
    expect(fake.reads.shipment).toBe(1);
  });

  it('shows no stale ETA for a stored shipment that has ended', async () => {
    const fake = fakeStore([shipment({ status: 'DELIVERED' })]);
    fake.stored.set('shp-1', { position: fix(0), eta: new Date(NOW + 60_000), remainingDistanceM: 900, sequence: 7 });
    const hub = hubWith(fake.store);
    const watch = (await hub.watch('shp-1'))!;
    const updates = await take(watch, 5);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ status: 'DELIVERED', remainingDistanceM: 0 });
    expect(updates[0]!.eta).toBeUndefined();
    expect(watch.ended).toBe('final');
  });

  it('does not lose a live update that arrives while the stored state is being read', async () => {
    const fake = fakeStore();
    fake.stored.set('shp-1', { position: fix(0), sequence: NOW - 1000 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slowStore: TrackingStore = {
      ...fake.store,
      storedTracking: async (id) => {
        await gate;
        return fake.store.storedTracking(id);
      },
    };
    const hub = hubWith(slowStore);
    const watching = hub.watch('shp-1');
    await jest.advanceTimersByTimeAsync(100);
    const live = tracked(hub, 'c-1', fix(1), shipment());
    release();
    const watch = (await watching)!;
    expect(await drain(watch)).toEqual([live]);
  });

  it('never lets a slow watcher hold up the courier or the others; it gets the newest position and every status', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store, { watcherBuffer: 4 });
    const slow = (await hub.watch('shp-1'))!;
    const fast = (await hub.watch('shp-1'))!;
    const fastSeen: ShipmentUpdate[] = [];
    const fastReader = (async () => {
      for await (const u of fast) fastSeen.push(u);
    })();
    const sent: ShipmentUpdate[] = [];
    const statuses: TrackedStatus[] = ['PICKED_UP', 'OUT_FOR_DELIVERY'];
    for (let i = 0; i < 60; i++) {
      await jest.advanceTimersByTimeAsync(100);
      if (i === 20 || i === 40) sent.push(hub.publishStatus(shipment({ status: statuses.shift()! })));
      else sent.push(tracked(hub, 'c-1', fix(i), shipment({ status: i < 20 ? 'ASSIGNED' : 'PICKED_UP' })));
    }
    const final = hub.publishStatus(shipment({ status: 'DELIVERED' }));
    await fastReader;
    expect(fastSeen.slice(1).map((u) => u.sequence)).toEqual([...sent, final].map((u) => u.sequence));

    const slowSeen = await take(slow, 100);
    expect(slowSeen.length).toBeLessThan(10);
    expect(slowSeen.map((u) => u.status)).toEqual(
      expect.arrayContaining(['PICKED_UP', 'OUT_FOR_DELIVERY', 'DELIVERED']),
    );
    expect(slowSeen.filter((u) => u.kind === 'status').map((u) => u.status)).toEqual([
      'PICKED_UP',
      'OUT_FOR_DELIVERY',
      'DELIVERED',
    ]);
    const sequences = slowSeen.map((u) => u.sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(slow.coalesced).toBeGreaterThan(50);
    expect(slow.ended).toBe('final');
  });

  it('ends a watch at once when it is closed, and after the final status otherwise', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    const closed = (await hub.watch('shp-1'))!;
    await take(closed, 1);
    const pending = closed.next();
    closed.close();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    const watch = (await hub.watch('shp-1'))!;
    hub.publishStatus(shipment({ status: 'CANCELLED', courierId: undefined }));
    const updates = await take(watch, 5);
    expect(updates.map((u) => u.status)).toEqual(['ASSIGNED', 'CANCELLED']);
    expect(updates[1]!.courierId).toBeUndefined();
    // Watching an ended shipment shows its end and stops.
    const late = (await hub.watch('shp-1'))!;
    expect((await take(late, 5)).map((u) => u.status)).toEqual(['CANCELLED']);
  });

  it('ends every watch with "shutdown" on close and refuses new ones', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    const watch = (await hub.watch('shp-1'))!;
    await take(watch, 1);
    const waiting = watch.next();
    await hub.close();
    await expect(waiting).resolves.toMatchObject({ done: true });
    expect(watch.ended).toBe('shutdown');
    expect(hub.closing.aborted).toBe(true);
    await expect(hub.watch('shp-1')).rejects.toThrow(/shutting down/);
  });
});

describe('TrackingHub sequence and ETA', () => {
  it('keeps the sequence rising when the clock stands still or steps back', async () => {
    const { store } = fakeStore();
    let clock = NOW;
    const hub = hubWith(store, { now: () => clock });
    const a = hub.publishStatus(shipment());
    const b = tracked(hub, 'c-1', fix(0, { time: new Date(NOW - 10) }), shipment());
    clock = NOW - 60_000;
    const c = tracked(hub, 'c-1', fix(1, { time: new Date(NOW - 5) }), shipment());
    clock = NOW + 1_000;
    const d = hub.publishStatus(shipment({ status: 'PICKED_UP' }));
    expect([a.sequence, b.sequence, c.sequence, d.sequence]).toEqual([NOW, NOW + 1, NOW + 2, NOW + 1_000]);
  });

  it('uses the server clock, not a device clock that runs ahead, so a later status change still sorts after', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    const ahead = tracked(hub, 'c-1', fix(0, { time: new Date(NOW + 25_000) }), shipment());
    await jest.advanceTimersByTimeAsync(10);
    const status = hub.publishStatus(shipment({ status: 'PICKED_UP' }));
    expect(ahead.sequence).toBe(NOW);
    expect(status.sequence).toBeGreaterThan(ahead.sequence);
    expect(ahead.position!.time).toEqual(new Date(NOW + 25_000));
  });

  it('computes the ETA via the origin before collection and straight to the destination after', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    const before = tracked(hub, 'c-1', fix(0), shipment({ status: 'ASSIGNED' }));
    // 1 km south of the origin, origin 2 km south of the destination: ~3 km straight, ×1.3 by road.
    expect(before.remainingDistanceM).toBeGreaterThan(3_850);
    expect(before.remainingDistanceM).toBeLessThan(3_950);
    // No observed speed yet: the device's 5 m/s.
    expect(before.eta!.getTime() - NOW).toBeCloseTo((before.remainingDistanceM! / 5) * 1000, -2);
    const picked = hub.publishStatus(shipment({ status: 'PICKED_UP' }));
    expect(Math.abs(picked.remainingDistanceM! - before.remainingDistanceM!)).toBeLessThanOrEqual(1);
    await jest.advanceTimersByTimeAsync(100);
    const after = tracked(hub, 'c-1', fix(1), shipment({ status: 'PICKED_UP' }));
    expect(after.status).toBe('PICKED_UP');
    expect(after.remainingDistanceM).toBeGreaterThan(3_850);
    const atDoor = tracked(hub, 'c-1', fix(2, { point: DESTINATION }), shipment({ status: 'OUT_FOR_DELIVERY' }));
    expect(atDoor.remainingDistanceM).toBe(0);
    const delivered = hub.publishStatus(shipment({ status: 'DELIVERED' }));
    expect(delivered).toMatchObject({ remainingDistanceM: 0, position: atDoor.position });
    expect(delivered.eta).toBeUndefined();
  });

  it("prefers a status change it has heard of over the stream's older view, and refuses fixes after the end", async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    hub.publishStatus(shipment({ status: 'OUT_FOR_DELIVERY' }));
    await jest.advanceTimersByTimeAsync(100);
    expect(tracked(hub, 'c-1', fix(0), shipment({ status: 'ASSIGNED' })).status).toBe('OUT_FOR_DELIVERY');
    hub.publishStatus(shipment({ status: 'DELIVERED' }));
    expect(hub.ingest('c-1', fix(1), shipment({ status: 'OUT_FOR_DELIVERY' }))).toEqual({
      kind: 'not-carrying',
      status: 'DELIVERED',
    });
  });

  it('remembers the latest fix time of a shipment so a reconnecting courier cannot go back', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    expect(hub.lastFixMs('shp-1')).toBeUndefined();
    tracked(hub, 'c-1', fix(0, { time: new Date(NOW - 300) }), shipment());
    expect(hub.lastFixMs('shp-1')).toBe(NOW - 300);
  });
});

describe('TrackingHub throttled writes', () => {
  it('writes a courier position at most every persistMs, and the last one in the end', async () => {
    const fake = fakeStore();
    const hub = hubWith(fake.store);
    for (let i = 0; i < 55; i++) {
      hub.ingest('c-1', fix(i), undefined);
      await jest.advanceTimersByTimeAsync(100);
    }
    // 5.5 s of fixes: written at 0, 2 and 4 s, then the trailing one at 6 s.
    await jest.advanceTimersByTimeAsync(2_000);
    expect(fake.courierWrites.map((w) => w.at - NOW)).toEqual([0, 2_000, 4_000, 6_000]);
    expect(fake.shipmentWrites).toEqual([]);
  });

  it('writes shipment tracking every persistMs and announces it every eventMs', async () => {
    const fake = fakeStore();
    const hub = hubWith(fake.store);
    let last: ShipmentUpdate | undefined;
    for (let i = 0; i < 400; i++) {
      last = tracked(hub, 'c-1', fix(i), shipment());
      await jest.advanceTimersByTimeAsync(100);
    }
    await jest.advanceTimersByTimeAsync(2_000);
    const writes = fake.shipmentWrites;
    expect(writes).toHaveLength(21);
    for (let i = 1; i < writes.length; i++) expect(writes[i]!.at - writes[i - 1]!.at).toBeGreaterThanOrEqual(2_000);
    expect(writes.filter((w) => w.announce).map((w) => w.at - NOW)).toEqual([0, 16_000, 32_000]);
    expect(fake.stored.get('shp-1')!.sequence).toBe(last!.sequence);
    expect(fake.courierWrites).toHaveLength(21);
  });

  it('logs failed writes (not every one) and keeps the stream going; a failed announcement is retried', async () => {
    const fake = fakeStore();
    const hub = hubWith(fake.store, { watcherBuffer: 100 });
    const watch = (await hub.watch('shp-1'))!;
    fake.state.failing = true;
    for (let i = 0; i < 50; i++) {
      tracked(hub, 'c-1', fix(i), shipment());
      await jest.advanceTimersByTimeAsync(100);
    }
    expect((await drain(watch)).length).toBe(51);
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings.length).toBeLessThanOrEqual(4);
    expect(warnings[0]).toMatchObject({ write: expect.stringMatching(/save/) });
    fake.state.failing = false;
    tracked(hub, 'c-1', fix(50), shipment());
    await jest.advanceTimersByTimeAsync(2_000);
    expect(fake.shipmentWrites[0]!.announce).toBe(true);
  });

  it('writes what is pending when it closes', async () => {
    const fake = fakeStore();
    const hub = hubWith(fake.store);
    tracked(hub, 'c-1', fix(0), shipment());
    await jest.advanceTimersByTimeAsync(100);
    const last = tracked(hub, 'c-1', fix(1), shipment());
    await hub.close();
    expect(fake.shipmentWrites.map((w) => w.sequence)).toEqual([NOW, last.sequence]);
    expect(fake.courierWrites).toHaveLength(2);
  });

  it('forgets idle shipments nobody watches', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store, { idleMs: 60_000 });
    tracked(hub, 'c-1', fix(0), shipment());
    const watched = await hub.watch('shp-1');
    await jest.advanceTimersByTimeAsync(120_000);
    expect(hub.stats().shipments).toBe(1);
    watched!.close();
    await jest.advanceTimersByTimeAsync(120_000);
    expect(hub.stats().shipments).toBe(0);
  });
});

describe('TrackingHub across replicas', () => {
  it('brings a courier on replica A to a watcher on replica B, and B never echoes it back', async () => {
    const join = busNetwork();
    const storeA = fakeStore();
    const storeB = fakeStore();
    const busA = join();
    const busB = join();
    const a = hubWith(storeA.store, { bus: busA });
    const b = hubWith(storeB.store, { bus: busB, watcherBuffer: 100 });
    busA.onRemote((u) => a.receiveRemote(u));
    busB.onRemote((u) => b.receiveRemote(u));
    const publishedByB = jest.spyOn(busB, 'publish');
    const watch = (await b.watch('shp-1'))!;
    expect((await take(watch, 1))[0]!.status).toBe('ASSIGNED');
    const sent: number[] = [];
    for (let i = 0; i < 10; i++) {
      await jest.advanceTimersByTimeAsync(100);
      sent.push(tracked(a, 'c-1', fix(i), shipment()).sequence);
    }
    await jest.advanceTimersByTimeAsync(0);
    expect((await drain(watch)).map((u) => u.sequence)).toEqual(sent);
    expect(publishedByB).not.toHaveBeenCalled();
    // Only the courier's replica writes the positions.
    await jest.advanceTimersByTimeAsync(5_000);
    expect(storeB.shipmentWrites).toEqual([]);
    expect(storeA.shipmentWrites.length).toBeGreaterThan(0);
  });

  it('ignores updates of shipments nobody here watches', () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    hub.receiveRemote({ shipmentId: 'shp-9', sequence: NOW, status: 'ASSIGNED', kind: 'status' });
    expect(hub.stats().shipments).toBe(0);
  });

  it('re-sequences a status change that lost a race with a position, and drops a stale position', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    const watch = (await hub.watch('shp-1'))!;
    const position = (seq: number, status: TrackedStatus = 'ASSIGNED'): ShipmentUpdate => ({
      shipmentId: 'shp-1',
      sequence: seq,
      status,
      courierId: 'c-1',
      position: fix(0),
      kind: 'position',
    });
    hub.receiveRemote(position(NOW + 100));
    hub.receiveRemote({ shipmentId: 'shp-1', sequence: NOW + 90, status: 'PICKED_UP', kind: 'status' });
    hub.receiveRemote(position(NOW + 95));
    // A position made before its replica heard of the pick-up keeps the newer status.
    hub.receiveRemote(position(NOW + 200, 'ASSIGNED'));
    // A late status change that is behind the lifecycle is stale.
    hub.receiveRemote({ shipmentId: 'shp-1', sequence: NOW + 150, status: 'ASSIGNED', kind: 'status' });
    const seen = await drain(watch);
    expect(seen[0]).toMatchObject({ sequence: 0, status: 'ASSIGNED' });
    expect(seen.slice(1).map((u) => [u.sequence - NOW, u.status])).toEqual([
      [100, 'ASSIGNED'],
      [101, 'PICKED_UP'],
      [200, 'PICKED_UP'],
    ]);
    expect(seen[3]!.remainingDistanceM).toBeGreaterThan(0);
  });

  it('applies nothing after a final status', async () => {
    const { store } = fakeStore();
    const hub = hubWith(store);
    const watch = (await hub.watch('shp-1'))!;
    hub.receiveRemote({ shipmentId: 'shp-1', sequence: NOW + 10, status: 'DELIVERED', kind: 'status' });
    hub.receiveRemote({ shipmentId: 'shp-1', sequence: NOW + 20, status: 'OUT_FOR_DELIVERY', kind: 'position' });
    expect((await take(watch, 5)).map((u) => u.status)).toEqual(['ASSIGNED', 'DELIVERED']);
    await expect((await hub.watch('shp-1'))!.next()).resolves.toMatchObject({ value: { status: 'DELIVERED' } });
  });
});

describe('WatchQueue', () => {
  const update = (sequence: number, status: TrackedStatus = 'PICKED_UP', kind?: 'status'): ShipmentUpdate => ({
    shipmentId: 's',
    sequence,
    status,
    ...(kind ? { kind } : {}),
  });

  it('drops what is not newer than what it took', async () => {
    const q = new WatchQueue('s', 4);
    expect(q.push(update(5))).toBe(true);
    expect(q.push(update(5))).toBe(false);
    expect(q.push(update(3))).toBe(false);
    expect(q.push(update(6))).toBe(true);
    expect((await take(q, 2)).map((u) => u.sequence)).toEqual([5, 6]);
  });

  it('coalesces positions when full, keeping status changes in order', async () => {
    const q = new WatchQueue('s', 3);
    q.push(update(1, 'ASSIGNED'));
    q.push(update(2, 'ASSIGNED'));
    q.push(update(3, 'PICKED_UP'));
    q.push(update(4, 'PICKED_UP', 'status'));
    q.push(update(5));
    q.push(update(6));
    q.push(update(7));
    expect((await drain(q)).map((u) => u.sequence)).toEqual([3, 4, 7]);
    expect(q.coalesced).toBe(4);
  });

  it('refuses a zero-sized buffer', () => {
    expect(() => new WatchQueue('s', 0)).toThrow(/at least one/);
  });
});

describe('createThrottle', () => {
  it('never runs two writes of one key at once; a slow write delays the next', async () => {
    let active = 0;
    let most = 0;
    const values: number[] = [];
    const throttle = createThrottle<number>({
      intervalMs: 100,
      now: () => Date.now(),
      onError: () => undefined,
      write: async (_key, value) => {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 500));
        values.push(value);
        active--;
      },
    });
    for (let i = 0; i < 20; i++) {
      throttle.offer('k', i);
      await jest.advanceTimersByTimeAsync(50);
    }
    await jest.advanceTimersByTimeAsync(2_000);
    expect(most).toBe(1);
    expect(values.at(-1)).toBe(19);
    expect(values.length).toBeLessThan(5);
    throttle.sweep(0);
    expect(throttle.size).toBe(0);
  });
});
