// Cross-replica fan-out of live tracking over Kafka. A courier's stream may land on replica A and the shopper's watch
// on replica B: every update a replica makes goes to the internal TRACKING_TOPIC, and every replica reads that topic
// with a consumer group of its own (so each sees every update) and feeds the other replicas' updates to its hub.
//
// This is a live feed, not a record: positions are stored (throttled) in the database and announced as events through
// the outbox; a lost message here only means a watcher on another replica waits for the next fix (0.1–1 s later).
// So: no retries, failed sends are logged and dropped, a broker too slow for the queue loses the oldest positions
// first (status changes are kept), and new groups start at the latest offset (no replay).
//
// Latency: a message is sent as soon as the previous send finished (no linger, no batch timer); whatever queued up
// during a send goes in the next one. Acks: acks=1 would do for a live feed, but the project's Kafka kit offers only
// its idempotent acks=all producer (one request in flight); with a single broker that is the same thing, and on a
// cluster it adds one follower fetch (a few ms). A separate producer keeps these sends from queueing behind the
// outbox relay's. If the kit gains an acks option, this is the place to use it.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { WatchShipmentResponse } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import type { EventConsumer, EventProducer, IncomingMessage, KafkaClient, OutgoingMessage } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import type { ShipmentUpdate, TrackingBus } from '../app/tracking-ports';
import { updateFromPb, updateToPb } from './grpc-tracking';

/** The header naming the replica that produced a message (its own messages are skipped). */
export const REPLICA_HEADER = 'o2o-replica';
/** The header saying whether a message is a position or a status change (the hub never drops the latter). */
export const KIND_HEADER = 'o2o-update-kind';
const CONTENT_TYPE = 'application/x-protobuf; messageType=o2o.delivery.v1.WatchShipmentResponse';

/** Options for {@link startKafkaTrackingBus}. */
export interface KafkaTrackingBusOptions {
  kafka: KafkaClient;
  /** TRACKING_TOPIC, with the deployment's topic prefix. */
  topic: string;
  /** The service's KAFKA_GROUP_ID: this replica reads with its own group `${groupId}-tracking-${replicaId}`. */
  groupId: string;
  logger: Logger;
  /** Unique per process; default {@link trackingReplicaId}(). */
  replicaId?: string;
  /** Partitions of the topic when this replica creates it (default 6; keyed by shipment id). */
  partitions?: number;
  /** Retention of the topic when this replica creates it (default 1 h: nobody replays it). */
  retentionMs?: number;
  /** Messages waiting while the broker is slow, beyond which the oldest positions are dropped (default 10,000). */
  maxQueued?: number;
}

/**
 * A name for this process among the replicas: the host name (the pod's name in Kubernetes) and a random suffix, so
 * a restarted process gets a new consumer group that starts at the latest offset instead of replaying what it missed.
 */
export function trackingReplicaId(): string {
  return `${os.hostname()}-${randomBytes(4).toString('hex')}`;
}

interface Queued {
  message: OutgoingMessage;
  kind: ShipmentUpdate['kind'];
}

/**
 * Starts the Kafka tracking bus: creates the topic if missing, connects a producer of its own and joins this replica's
 * group at the latest offset. Updates of other replicas go to the receiver set with onRemote.
 */
export async function startKafkaTrackingBus(options: KafkaTrackingBusOptions): Promise<TrackingBus> {
  const replicaId = options.replicaId ?? trackingReplicaId();
  const groupId = `${options.groupId}-tracking-${replicaId}`;
  const log = options.logger.child({ component: 'tracking-bus', replicaId });
  const maxQueued = options.maxQueued ?? 10_000;
  let receiver: ((update: ShipmentUpdate) => void) | undefined;
  let closed = false;
  let sending: Promise<void> | undefined;
  let queue: Queued[] = [];
  const failures = { count: 0, lastLogMs: 0 };

  function enqueue(update: ShipmentUpdate): void {
    const headers: Record<string, string> = {
      [REPLICA_HEADER]: replicaId,
      [KIND_HEADER]: update.kind ?? 'position',
      'content-type': CONTENT_TYPE,
    };
    const value = Buffer.from(WatchShipmentResponse.encode(updateToPb(update)).finish());
    queue.push({ message: { topic: options.topic, key: update.shipmentId, value, headers }, kind: update.kind });
    // Over the bound, a tenth more goes at once, so a long outage does not filter the whole queue on every publish.
    if (queue.length > maxQueued) dropOldestPositions(queue.length - maxQueued + Math.ceil(maxQueued / 10));
  }

  function dropOldestPositions(count: number): void {
    let left = count;
    queue = queue.filter((entry) => {
      if (left === 0 || entry.kind === 'status') return true;
      left--;
      return false;
    });
    failures.count += count - left;
  }

  function pump(): void {
    if (sending || closed || queue.length === 0) return;
    const batch = queue;
    queue = [];
    const active = producer;
    sending = (async () => {
      try {
        await active.send(batch.map((e) => e.message));
      } catch (error) {
        reportFailure(error, batch.length);
      }
    })().finally(() => {
      sending = undefined;
      pump();
    });
  }

  function reportFailure(error: unknown, lost: number): void {
    failures.count += lost;
    const nowMs = Date.now();
    if (nowMs - failures.lastLogMs < 10_000) return;
    log.warn(
      { err: error, lostUpdates: failures.count },
      'Could not send live tracking updates to the other replicas; their watchers wait for the next fix',
    );
    failures.lastLogMs = nowMs;
    failures.count = 0;
  }

  function decode(message: IncomingMessage): ShipmentUpdate | undefined {
    const kindHeader = message.headers[KIND_HEADER];
    const kind = kindHeader === 'status' || kindHeader === 'position' ? kindHeader : undefined;
    return updateFromPb(WatchShipmentResponse.decode(message.value), kind);
  }

  await options.kafka.ensureTopics([
    {
      topic: options.topic,
      partitions: options.partitions ?? 6,
      configs: { 'retention.ms': String(options.retentionMs ?? 3_600_000) },
    },
  ]);
  // Declared here, used by pump() only after this function returned the bus.
  const producer: EventProducer = await options.kafka.producer();
  const consumer: EventConsumer = await options.kafka
    .consume({
      groupId,
      topics: [options.topic],
      fromBeginning: false,
      // Never throws: a failing handler would make the kit redeliver forever and hold up the partition.
      handle: async (message) => {
        if (message.headers[REPLICA_HEADER] === replicaId || !receiver) return;
        try {
          const update = decode(message);
          if (update) receiver(update);
          else
            log.warn({ partition: message.partition, offset: message.offset }, 'Skipped an unreadable tracking update');
        } catch (error) {
          log.warn({ err: error, offset: message.offset }, 'Skipped a tracking update that failed to apply');
        }
      },
    })
    .catch(async (error: unknown) => {
      await producer.disconnect().catch(() => undefined);
      throw error;
    });
  log.info({ topic: options.topic, groupId }, 'live tracking bus started');

  return {
    publish(update) {
      if (closed) return;
      enqueue(update);
      pump();
    },

    onRemote(receive) {
      receiver = receive;
    },

    async stop() {
      closed = true;
      await sending;
      queue = [];
      await Promise.allSettled([consumer.stop(), producer.disconnect()]);
    },
  };
}
