// Live tracking inside one replica: the latest update of every shipment someone here watches or streams for, the
// watchers to fan out to, the speed estimate behind the ETA, and the throttled writes to the database.
//
// Sequence: every update gets max(last sequence of the shipment + 1, the server's clock in ms), positions and status
// changes alike. The server's clock, not the device's fix time: devices may run up to 30 s ahead (and any amount
// behind), which would order positions wrongly against status changes stamped by the servers. Server clocks agree
// to a few ms, so the sequence also rises across replicas and restarts (a replica with nothing in memory starts from
// the clock, above anything stored earlier). When a status change from another replica arrives with a sequence not
// above the latest here (clock skew, or a race with a position), it is re-sequenced just above the latest rather than
// dropped: watchers must never miss a status change. The fix's own time travels in the update's position.
import {
  type Eta,
  estimateEta,
  etaSpeed,
  initialSpeed,
  isCarrying,
  isFinal,
  nextSpeed,
  type SpeedState,
} from '../domain/tracking';
import { type ShipmentWatch, WatchQueue } from './shipment-watch';
import { createThrottle, failureReporter } from './tracking-throttle';
import type {
  CourierFix,
  ShipmentUpdate,
  StoredTracking,
  TrackedShipment,
  TrackedStatus,
  TrackingBus,
  TrackingLog,
  TrackingStore,
} from './tracking-ports';

/** Options for {@link createTrackingHub}. */
export interface TrackingHubOptions {
  store: TrackingStore;
  /** Where accepted updates go for the other replicas; omitted with a single replica. */
  bus?: Pick<TrackingBus, 'publish'>;
  log: TrackingLog;
  /** POSITION_PERSIST_MS: positions are written at most this often per courier and per shipment. */
  persistMs: number;
  /** POSITION_EVENT_MS: a ShipmentPosition event is announced at most this often per shipment. */
  eventMs: number;
  /** Updates a slow watcher may have waiting before positions are coalesced (default 8). */
  watcherBuffer?: number;
  /** A shipment nobody watches or streams for is forgotten after this long (default 2 min). */
  idleMs?: number;
  /** The clock, ms since the epoch (tests pass a fake one). */
  now?: () => number;
}

/** What happened to an accepted fix. */
export type IngestResult =
  | { kind: 'tracked'; update: ShipmentUpdate }
  | { kind: 'courier-only' }
  /** The shipment is known here to be in a status without a courier on the way (e.g. just DELIVERED). */
  | { kind: 'not-carrying'; status: TrackedStatus };

/** Live tracking of one replica; see the file comment for how sequences are chosen. */
export interface TrackingHub {
  /**
   * Watches a shipment: first its latest known update (from memory, else the stored tracking and the shipment's
   * status), then every newer one in order until a final status. Undefined when the shipment does not exist.
   */
  watch(shipmentId: string): Promise<ShipmentWatch | undefined>;
  /**
   * An accepted fix of a courier, optionally on a shipment it carries (the caller checked that): stores the courier's
   * position (throttled); with a shipment also computes the ETA, fans the update out here and to the other replicas,
   * and stores the shipment's tracking (throttled, announced every `eventMs`).
   */
  ingest(courierId: string, fix: CourierFix, shipment?: TrackedShipment): IngestResult;
  /** A shipment's status changed (assigned, picked up, out for delivery, delivered, failed, cancelled). */
  publishStatus(shipment: TrackedShipment): ShipmentUpdate;
  /** An update another replica made (from the bus). */
  receiveRemote(update: ShipmentUpdate): void;
  /** The time (ms) of the latest fix known here for a shipment, so a reconnecting courier cannot go back in time. */
  lastFixMs(shipmentId: string): number | undefined;
  /** Aborted when the hub closes: streams end so the server can shut down. */
  readonly closing: AbortSignal;
  /** Ends every watch ('shutdown'), stops the sweeper and writes the pending positions. */
  close(): Promise<void>;
  /** Counts for logs and tests. */
  stats(): { shipments: number; watchers: number; coalesced: number };
}

interface Entry {
  shipment?: TrackedShipment;
  latest?: ShipmentUpdate;
  lastSequence: number;
  watchers: Set<WatchQueue>;
  speed: SpeedState;
  loading?: Promise<ShipmentUpdate | undefined>;
  touchedMs: number;
}

/** Lifecycle rank: a status change never goes back, so a late one of lower rank is stale. */
const RANK: Record<TrackedStatus, number> = {
  AWAITING_COURIER: 0,
  ASSIGNED: 1,
  PICKED_UP: 2,
  OUT_FOR_DELIVERY: 3,
  DELIVERED: 4,
  FAILED: 4,
  CANCELLED: 4,
};

/** Builds a replica's tracking hub; call close() at shutdown. */
export function createTrackingHub(options: TrackingHubOptions): TrackingHub {
  const now = options.now ?? Date.now;
  const capacity = options.watcherBuffer ?? 8;
  const idleMs = options.idleMs ?? 120_000;
  const entries = new Map<string, Entry>();
  const closing = new AbortController();
  const reportFailure = failureReporter(options.log, now);
  let coalescedByEnded = 0;
  const lastAnnounced = new Map<string, number>();

  const courierWrites = createThrottle<CourierFix>({
    intervalMs: options.persistMs,
    write: (courierId, fix) => options.store.saveCourierPosition(courierId, fix),
    onError: (key, error) => reportFailure('saveCourierPosition', key, error),
    now,
  });
  const shipmentWrites = createThrottle<StoredTracking>({
    intervalMs: options.persistMs,
    write: async (shipmentId, tracking) => {
      const previous = lastAnnounced.get(shipmentId);
      const announce = previous === undefined || now() - previous >= options.eventMs;
      if (announce) lastAnnounced.set(shipmentId, now());
      try {
        await options.store.saveShipmentTracking(shipmentId, tracking, { announce });
      } catch (error) {
        // The event was not written: let the next write announce instead.
        if (announce) restore(lastAnnounced, shipmentId, previous);
        throw error;
      }
    },
    onError: (key, error) => reportFailure('saveShipmentTracking', key, error),
    now,
  });

  const sweeper = setInterval(() => sweep(), Math.min(30_000, idleMs));
  sweeper.unref?.();

  function entryOf(shipmentId: string): Entry {
    let entry = entries.get(shipmentId);
    if (!entry) {
      entry = { lastSequence: 0, watchers: new Set(), speed: initialSpeed(), touchedMs: now() };
      entries.set(shipmentId, entry);
    }
    return entry;
  }

  function nextSequence(entry: Entry): number {
    return Math.max(entry.lastSequence + 1, now());
  }

  /** Makes `update` the latest and hands it to every watcher here. */
  function apply(entry: Entry, update: ShipmentUpdate): void {
    entry.latest = update;
    entry.lastSequence = Math.max(entry.lastSequence, update.sequence);
    entry.touchedMs = now();
    for (const watcher of entry.watchers) watcher.push(update);
  }

  function etaFor(entry: Entry, status: TrackedStatus, position: CourierFix | undefined): Eta | undefined {
    const shipment = entry.shipment;
    if (!shipment || !position) return undefined;
    return estimateEta({
      status,
      courier: position.point,
      origin: shipment.origin,
      destination: shipment.destination,
      speedMps: etaSpeed(entry.speed),
      nowMs: now(),
    });
  }

  /**
   * What to make of another replica's update: a newer one applies; a status change that lost a race with a position
   * (its sequence is not above the latest) is re-sequenced just above it unless it is behind in the lifecycle; a
   * position carrying a status older than the latest here takes the latest status (the courier's replica had not
   * heard of the change yet). Nothing applies after a final status.
   */
  function reconcile(entry: Entry, update: ShipmentUpdate): ShipmentUpdate | undefined {
    const latest = entry.latest;
    if (latest && isFinal(latest.status)) return undefined;
    if (update.kind === 'status') {
      if (update.sequence > entry.lastSequence) return update;
      if (latest && RANK[update.status] <= RANK[latest.status]) return undefined;
      return { ...update, sequence: entry.lastSequence + 1 };
    }
    if (update.sequence <= entry.lastSequence) return undefined;
    if (!latest || RANK[update.status] >= RANK[latest.status]) return update;
    const { eta: _eta, remainingDistanceM: _remaining, ...rest } = update;
    const eta = etaFor(entry, latest.status, update.position);
    return {
      ...rest,
      status: latest.status,
      ...(eta ? { eta: eta.eta, remainingDistanceM: eta.remainingDistanceM } : {}),
    };
  }

  function sweep(): void {
    const at = now();
    for (const [id, entry] of entries) {
      // Ended shipments are kept as long as the others: a courier stream that has not noticed yet is refused here.
      if (entry.watchers.size > 0 || entry.loading) continue;
      if (at - entry.touchedMs > idleMs) {
        entries.delete(id);
        lastAnnounced.delete(id);
      }
    }
    courierWrites.sweep(idleMs);
    shipmentWrites.sweep(idleMs);
  }

  async function load(shipmentId: string): Promise<ShipmentUpdate | undefined> {
    const [shipment, stored] = await Promise.all([
      options.store.shipment(shipmentId),
      options.store.storedTracking(shipmentId),
    ]);
    if (!shipment) return undefined;
    const entry = entryOf(shipmentId);
    entry.shipment ??= shipment;
    return snapshot(shipment, stored);
  }

  return {
    closing: closing.signal,

    async watch(shipmentId) {
      if (closing.signal.aborted) throw new Error('Cannot watch: live tracking is shutting down');
      const entry = entryOf(shipmentId);
      const watcher = new WatchQueue(shipmentId, capacity, (w) => {
        coalescedByEnded += w.coalesced;
        entry.watchers.delete(w);
      });
      if (entry.latest) {
        watcher.push(entry.latest);
        if (!watcher.ended) entry.watchers.add(watcher);
        return watcher;
      }
      // Added before the read so no live update slips between the read and the subscription.
      entry.watchers.add(watcher);
      entry.loading ??= load(shipmentId).finally(() => (entry.loading = undefined));
      let loaded: ShipmentUpdate | undefined;
      try {
        loaded = await entry.loading;
      } catch (error) {
        watcher.close();
        throw error;
      }
      if (!loaded) {
        watcher.close();
        if (entry.watchers.size === 0 && !entry.latest && entries.get(shipmentId) === entry) entries.delete(shipmentId);
        return undefined;
      }
      // A live update may have come in during the read (read through a function: the compiler's narrowing from the
      // check above does not know about the await).
      const current = latestOf(entry);
      const first = current && current.sequence >= loaded.sequence ? current : loaded;
      if (first === loaded) {
        entry.latest = loaded;
        entry.lastSequence = Math.max(entry.lastSequence, loaded.sequence);
      }
      // The watcher drops it if it already took a newer live update.
      watcher.push(first);
      return watcher;
    },

    ingest(courierId, fix, shipment) {
      courierWrites.offer(courierId, fix);
      if (!shipment) return { kind: 'courier-only' };
      const entry = entryOf(shipment.id);
      entry.shipment = shipment;
      // The stream's view of the shipment may be a few seconds old; a status change seen here since (locally or
      // from another replica) is further along the lifecycle and wins.
      const known = entry.latest?.status;
      const status = known !== undefined && RANK[known] >= RANK[shipment.status] ? known : shipment.status;
      if (!isCarrying(status)) return { kind: 'not-carrying', status };
      entry.speed = nextSpeed(entry.speed, fix);
      const eta = etaFor(entry, status, fix);
      const update: ShipmentUpdate = {
        shipmentId: shipment.id,
        sequence: nextSequence(entry),
        status,
        courierId,
        position: fix,
        ...(eta ? { eta: eta.eta, remainingDistanceM: eta.remainingDistanceM } : {}),
        kind: 'position',
      };
      apply(entry, update);
      options.bus?.publish(update);
      shipmentWrites.offer(shipment.id, {
        position: fix,
        sequence: update.sequence,
        ...(eta ? { eta: eta.eta, remainingDistanceM: eta.remainingDistanceM } : {}),
      });
      return { kind: 'tracked', update };
    },

    publishStatus(shipment) {
      const entry = entryOf(shipment.id);
      entry.shipment = shipment;
      const position = entry.latest?.position;
      const eta = etaFor(entry, shipment.status, position);
      const update: ShipmentUpdate = {
        shipmentId: shipment.id,
        sequence: nextSequence(entry),
        status: shipment.status,
        ...(shipment.courierId ? { courierId: shipment.courierId } : {}),
        ...(position ? { position } : {}),
        ...(eta ? { eta: eta.eta, remainingDistanceM: eta.remainingDistanceM } : {}),
        ...(shipment.status === 'DELIVERED' ? { remainingDistanceM: 0 } : {}),
        kind: 'status',
      };
      apply(entry, update);
      options.bus?.publish(update);
      return update;
    },

    receiveRemote(update) {
      // Only shipments someone here watches or streams for are kept: the others cost memory and help nobody.
      const entry = entries.get(update.shipmentId);
      if (!entry) return;
      const reconciled = reconcile(entry, update);
      if (reconciled) apply(entry, reconciled);
    },

    lastFixMs(shipmentId) {
      return entries.get(shipmentId)?.latest?.position?.time.getTime();
    },

    async close() {
      if (!closing.signal.aborted) closing.abort();
      clearInterval(sweeper);
      for (const entry of entries.values()) for (const watcher of [...entry.watchers]) watcher.end('shutdown');
      await Promise.all([courierWrites.flush(), shipmentWrites.flush()]);
    },

    stats() {
      let watchers = 0;
      let coalesced = coalescedByEnded;
      for (const entry of entries.values()) {
        watchers += entry.watchers.size;
        for (const w of entry.watchers) coalesced += w.coalesced;
      }
      return { shipments: entries.size, watchers, coalesced };
    },
  };
}

/** What a replica with nothing in memory tells a new watcher: the shipment's status and its stored tracking. */
function snapshot(shipment: TrackedShipment, stored: StoredTracking | undefined): ShipmentUpdate {
  const carrying = isCarrying(shipment.status);
  return {
    shipmentId: shipment.id,
    sequence: stored?.sequence ?? 0,
    status: shipment.status,
    ...(shipment.courierId ? { courierId: shipment.courierId } : {}),
    ...(stored ? { position: stored.position } : {}),
    // A stored ETA is only meaningful while a courier is on the way.
    ...(carrying && stored?.eta ? { eta: stored.eta } : {}),
    ...(carrying && stored?.remainingDistanceM !== undefined ? { remainingDistanceM: stored.remainingDistanceM } : {}),
    ...(shipment.status === 'DELIVERED' ? { remainingDistanceM: 0 } : {}),
  };
}

function latestOf(entry: Entry): ShipmentUpdate | undefined {
  return entry.latest;
}

function restore(map: Map<string, number>, key: string, previous: number | undefined): void {
  if (previous === undefined) map.delete(key);
  else map.set(key, previous);
}
