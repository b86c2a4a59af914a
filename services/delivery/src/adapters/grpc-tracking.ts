// The two streaming RPCs of live tracking: ReportPositions (a courier's fixes in) and WatchShipment (updates out).
// The rules live in domain/tracking.ts and the fan-out in app/tracking-hub.ts; this file maps the wire and the
// stream lifecycle (cancel, backpressure, shutdown) and turns failures into statuses with the service's error table.
import type {
  handleClientStreamingCall,
  handleServerStreamingCall,
  ServerReadableStream,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type {
  ReportPositionsRequest,
  ReportPositionsResponse,
  WatchShipmentRequest,
  WatchShipmentResponse,
} from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { errorMapper, invertEnumTable, type Principal } from '@o2o/kit-grpc';
import type { Logger } from '@o2o/kit-log';
import { checkCourierCall } from '../app/access';
import type { TrackingHub } from '../app/tracking-hub';
import { checks } from '../app/validate';
import type { ShipmentUpdate, TrackedShipment, TrackingStore } from '../app/tracking-ports';
import { DeliveryError, isDeliveryError } from '../domain/errors';
import { isCarrying, type RejectReason, TokenBucket, validateFix } from '../domain/tracking';
import { DELIVERY_STATUS, deliveryCaller, type TrackingHandlers } from './grpc-server';
import { positionToPb, SHIPMENT_STATUS_TO_PB } from './proto-mapping';

/** What the tracking handlers need. */
export interface TrackingHandlerDeps {
  hub: TrackingHub;
  /** Reads the shipment a report names. */
  store: Pick<TrackingStore, 'shipment' | 'carriedBy'>;
  /** Whether a caller with a principal may watch a shipment (app/access.ts mayWatchShipment). */
  mayWatch(caller: Principal, shipmentId: string): Promise<boolean>;
  logger: Logger;
  /** Told of every report's outcome as it is decided (metrics); `count` is always 1 today. */
  onReports?: (outcome: ReportOutcome, count: number) => void;
  /** POSITION_MAX_PER_SECOND: reports above this rate per stream are dropped as "rate_limited". */
  maxPerSecond: number;
  /** How long a courier stream trusts its last read of a shipment before reading it again (default 3 s). */
  shipmentRefreshMs?: number;
  /** The clock, ms since the epoch. */
  now?: () => number;
}

/** What became of one report: accepted, or dropped for one of the reasons counted in the response. */
export type ReportOutcome = 'accepted' | RejectReason;

/** A stream keeps at most this many shipments' reads (a courier carries at most 10 at once). */
const MAX_CACHED_SHIPMENTS = 32;

/** ReportPositions and WatchShipment, to plug into the DeliveryService implementation. */
export function trackingGrpcHandlers(deps: TrackingHandlerDeps): TrackingHandlers {
  const mapError = errorMapper(isDeliveryError, DELIVERY_STATUS, deps.logger);
  const now = deps.now ?? Date.now;
  const refreshMs = deps.shipmentRefreshMs ?? 3_000;

  const reportPositions: handleClientStreamingCall<ReportPositionsRequest, ReportPositionsResponse> = (
    call,
    callback,
  ) => {
    readReports(call).then(
      (summary) => {
        if (summary) callback(null, summary);
      },
      (error: unknown) => {
        if (!call.cancelled) callback(mapError(error), null);
      },
    );
  };

  /** Reads the stream to its end; undefined when the client cancelled (nobody to answer). */
  async function readReports(
    call: ServerReadableStream<ReportPositionsRequest, ReportPositionsResponse>,
  ): Promise<ReportPositionsResponse | undefined> {
    // Couriers do not come through the gateway: a principal other than an admin's ends the stream before any read.
    checkCourierCall(deliveryCaller(call.metadata));
    const summary: ReportPositionsResponse = { accepted: 0, rejected: {} };
    const reject = (reason: RejectReason) => {
      summary.rejected[reason] = (summary.rejected[reason] ?? 0) + 1;
      deps.onReports?.(reason, 1);
    };
    const bucket = new TokenBucket(deps.maxPerSecond);
    const cache = new Map<string, { shipment: TrackedShipment; readMs: number }>();
    let courierId: string | undefined;
    let previousMs: number | undefined;

    async function carried(shipmentId: string, courier: string, nowMs: number): Promise<TrackedShipment> {
      let cached = cache.get(shipmentId);
      if (!cached || nowMs - cached.readMs >= refreshMs) {
        const shipment = await deps.store.shipment(shipmentId);
        if (!shipment) throw new DeliveryError('not-found', `Shipment "${shipmentId}" does not exist`);
        if (cache.size >= MAX_CACHED_SHIPMENTS) cache.clear();
        cached = { shipment, readMs: nowMs };
        cache.set(shipmentId, cached);
      }
      const { shipment } = cached;
      if (shipment.courierId !== courier) {
        throw new DeliveryError(
          'permission-denied',
          `Courier "${courier}" does not carry shipment "${shipmentId}"` +
            (shipment.courierId ? ': another courier does' : ': no courier has accepted it'),
        );
      }
      if (!isCarrying(shipment.status)) throw notCarrying(shipmentId, shipment.status);
      return shipment;
    }

    let carriedRead: { shipments: TrackedShipment[]; readMs: number } | undefined;
    async function carriedNow(courier: string, nowMs: number): Promise<TrackedShipment[]> {
      if (!carriedRead || nowMs - carriedRead.readMs >= refreshMs) {
        carriedRead = { shipments: await deps.store.carriedBy(courier), readMs: nowMs };
      }
      return carriedRead.shipments;
    }

    // Shutdown: end the stream so the server can stop; the courier's app reconnects to another replica.
    const onClosing = () => call.destroy();
    deps.hub.closing.addEventListener('abort', onClosing);
    try {
      for await (const request of call as AsyncIterable<ReportPositionsRequest>) {
        if (courierId === undefined) {
          if (!request.courierId) {
            throw DeliveryError.invalid([
              { field: 'courier_id', description: 'is required: the first report names the courier of the stream' },
            ]);
          }
          checks().id('courier_id', request.courierId).done();
          courierId = request.courierId;
        } else if (request.courierId !== courierId) {
          throw DeliveryError.invalid([
            {
              field: 'courier_id',
              description: `must stay "${courierId}" for the whole stream, got "${request.courierId}"`,
            },
          ]);
        }
        const nowMs = now();
        if (!bucket.take(nowMs)) {
          reject('rate_limited');
          continue;
        }
        const known = request.shipmentId ? deps.hub.lastFixMs(request.shipmentId) : undefined;
        const verdict = validateFix(request, { previousMs: maxOf(previousMs, known), nowMs });
        if (!verdict.ok) {
          reject(verdict.reason);
          continue;
        }
        if (request.shipmentId) {
          checks().id('shipment_id', request.shipmentId).done();
          const shipment = await carried(request.shipmentId, courierId, nowMs);
          const result = deps.hub.ingest(courierId, verdict.fix, shipment);
          if (result.kind === 'not-carrying') throw notCarrying(request.shipmentId, result.status);
        } else {
          // No shipment named: the fix is the courier's, and moves every shipment it carries (a rider with three
          // parcels sends one stream, not three).
          deps.hub.ingest(courierId, verdict.fix);
          const fixMs = verdict.fix.time.getTime();
          for (const shipment of await carriedNow(courierId, nowMs)) {
            if ((deps.hub.lastFixMs(shipment.id) ?? -Infinity) < fixMs)
              deps.hub.ingest(courierId, verdict.fix, shipment);
          }
        }
        previousMs = verdict.fix.time.getTime();
        summary.accepted++;
        deps.onReports?.('accepted', 1);
      }
    } catch (error) {
      if (call.cancelled) return undefined;
      if (deps.hub.closing.aborted) throw shuttingDown();
      throw error;
    } finally {
      deps.hub.closing.removeEventListener('abort', onClosing);
    }
    if (call.cancelled) return undefined;
    if (deps.hub.closing.aborted) throw shuttingDown();
    return summary;
  }

  const watchShipment: handleServerStreamingCall<WatchShipmentRequest, WatchShipmentResponse> = (call) => {
    streamUpdates(call).catch((error: unknown) => {
      // A watch that raced the hub's close is refused by the hub: still "reconnect elsewhere", not an internal error.
      if (!call.cancelled) call.emit('error', mapError(deps.hub.closing.aborted ? shuttingDown() : error));
    });
  };

  async function streamUpdates(call: ServerWritableStream<WatchShipmentRequest, WatchShipmentResponse>) {
    const caller = deliveryCaller(call.metadata);
    const shipmentId = call.request.shipmentId;
    if (!shipmentId) throw DeliveryError.invalid([{ field: 'shipment_id', description: 'is required' }]);
    checks().id('shipment_id', shipmentId).done();
    if (deps.hub.closing.aborted) throw shuttingDown();
    const missing = () => new DeliveryError('not-found', `Shipment "${shipmentId}" does not exist`);
    // Someone else's shipment is answered as a missing one: ids do not leak.
    if (caller && !(await deps.mayWatch(caller, shipmentId))) throw missing();
    const watch = await deps.hub.watch(shipmentId);
    if (!watch) throw missing();
    const stop = () => watch.close();
    call.on('cancelled', stop);
    try {
      for await (const update of watch) {
        if (call.cancelled) break;
        // A slow client: wait for its buffer to drain. Meanwhile the hub coalesces this watcher's positions.
        if (!call.write(cachedPb(update))) await drained(call, deps.hub.closing);
      }
    } finally {
      call.off('cancelled', stop);
      watch.close();
    }
    if (call.cancelled) return;
    if (watch.ended === 'shutdown') throw shuttingDown();
    // The shipment ended (its final status was the last message): a clean end of the stream.
    call.end();
  }

  return { reportPositions, watchShipment };
}

/** The wire form of an update (made once per update, however many watchers receive it). */
const wireForms = new WeakMap<ShipmentUpdate, WatchShipmentResponse>();
function cachedPb(update: ShipmentUpdate): WatchShipmentResponse {
  let pb = wireForms.get(update);
  if (!pb) {
    pb = updateToPb(update);
    wireForms.set(update, pb);
  }
  return pb;
}

/** A tracking update → WatchShipmentResponse. */
export function updateToPb(update: ShipmentUpdate): WatchShipmentResponse {
  return {
    shipmentId: update.shipmentId,
    sequence: String(update.sequence),
    status: SHIPMENT_STATUS_TO_PB[update.status],
    courierId: update.courierId ?? '',
    position: positionToPb(update.position),
    eta: update.eta,
    remainingDistanceM: String(Math.round(update.remainingDistanceM ?? 0)),
  };
}

const SHIPMENT_STATUS_FROM_PB = invertEnumTable(SHIPMENT_STATUS_TO_PB);

/** WatchShipmentResponse → a tracking update; undefined when it names no shipment, status or sequence. */
export function updateFromPb(pb: WatchShipmentResponse, kind?: ShipmentUpdate['kind']): ShipmentUpdate | undefined {
  const status = SHIPMENT_STATUS_FROM_PB[pb.status];
  const sequence = Number(pb.sequence);
  if (!pb.shipmentId || !status || !Number.isSafeInteger(sequence) || sequence <= 0) return undefined;
  const point = pb.position?.point;
  const time = pb.position?.time;
  // int64 0 is also "absent" on the wire: a distance counts only with an ETA, or as 0 once delivered.
  const remaining = pb.eta ? Number(pb.remainingDistanceM) : status === 'DELIVERED' ? 0 : undefined;
  return {
    shipmentId: pb.shipmentId,
    sequence,
    status,
    ...(pb.courierId ? { courierId: pb.courierId } : {}),
    ...(pb.position && point && time
      ? {
          position: {
            point: { latitude: point.latitude, longitude: point.longitude },
            time,
            speedMps: pb.position.speedMps,
            headingDeg: pb.position.headingDeg,
            accuracyM: pb.position.accuracyM,
          },
        }
      : {}),
    ...(pb.eta ? { eta: pb.eta } : {}),
    ...(remaining !== undefined ? { remainingDistanceM: remaining } : {}),
    ...(kind ? { kind } : {}),
  };
}

function notCarrying(shipmentId: string, status: string): DeliveryError {
  return new DeliveryError(
    'failed-precondition',
    `Shipment "${shipmentId}" is ${status}: positions are taken only while it is ASSIGNED, PICKED_UP or OUT_FOR_DELIVERY`,
  );
}

function shuttingDown(): DeliveryError {
  return new DeliveryError('unavailable', 'The server is shutting down; reconnect to go on');
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** Resolves when the call can take more writes, or is gone, or the hub closes. */
function drained(call: ServerWritableStream<unknown, unknown>, closing: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      closing.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
    closing.addEventListener('abort', done);
  });
}
