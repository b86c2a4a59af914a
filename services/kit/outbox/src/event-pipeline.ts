import type { ConsumeOptions, EventConsumer, EventProducer, KafkaClient, TopicSpec } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import type { Collection } from 'mongoose';
import { trackOutboxBacklog } from './outbox-metrics';
import type { DocumentId } from './outbox-leases';
import { HAS_OUTBOX_ENTRIES, type OutboxRelay, startOutboxRelay } from './outbox-relay';

/** What a service publishes and consumes. */
export interface EventPipelineOptions {
  kafka: KafkaClient;
  /** Topics to create (or check) before anything is sent. */
  topics: TopicSpec[];
  /** The collections whose documents carry an outbox, as `connection.collection(name)` returns them. */
  outboxes: Collection[];
  /** Consumer groups to join once the topics exist. */
  consumers?: ConsumeOptions[];
  logger: Logger;
  /** Idle poll of each relay; a service's own writes wake it at once through {@link EventPipeline.kick}. */
  pollIntervalMs: number;
}

/** A service's Kafka side: outbox relays (and consumers) started as soon as the broker answers. */
export interface EventPipeline {
  /**
   * Wakes the relays after a write that stored events. Naming the collection and the documents written lets that
   * relay read just them instead of scanning (see OutboxRelay.kick); without a hint every relay scans.
   */
  kick: (hint?: { collection: string; ids: readonly DocumentId[] }) => void;
  /** Stops consumers (finishing the message in hand), relays and the producer, and closes the Kafka client. */
  stop(): Promise<void>;
}

/**
 * Starts the relays and consumers in the background. Kafka may be down at start-up: writes still succeed (their
 * events wait in the outbox), and the pipeline keeps trying with backoff (0.5 s doubling to 15 s) until the broker
 * answers, so a service never fails to start, or stops serving, because of Kafka.
 */
export function startEventPipeline(options: EventPipelineOptions): EventPipeline {
  const { kafka, logger } = options;
  const relays: OutboxRelay[] = [];
  const consumers: EventConsumer[] = [];
  let producer: EventProducer | undefined;
  let stopped = false;
  // Reported from the start: while Kafka is unreachable no relay runs, and that is when the backlog matters most.
  const backlogs = options.outboxes.map((collection) => trackOutboxBacklog(collection, HAS_OUTBOX_ENTRIES));
  const ready = (async () => {
    for (let delay = 500; !stopped; delay = Math.min(delay * 2, 15_000)) {
      try {
        await kafka.ensureTopics(options.topics);
        producer ??= await kafka.producer();
        if (stopped) return;
        // A retry after a failed consumer start must not start the relays twice.
        if (relays.length === 0) {
          const sender = producer;
          options.outboxes.forEach((collection, i) => {
            const backlog = backlogs[i];
            const pollIntervalMs = options.pollIntervalMs;
            relays.push(startOutboxRelay({ collection, producer: sender, logger, pollIntervalMs, backlog }));
          });
        }
        for (const consume of (options.consumers ?? []).slice(consumers.length)) {
          consumers.push(await kafka.consume(consume));
        }
        logger.info({ topics: options.topics.map((t) => t.topic) }, 'outbox relays and consumers started');
        return;
      } catch (error) {
        logger.warn({ err: error, retryInMs: delay }, 'Kafka not ready; events wait in the outbox');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  })();
  return {
    kick: (hint) => {
      if (!hint) return relays.forEach((relay) => relay.kick());
      options.outboxes.forEach((collection, i) => {
        if (collection.collectionName === hint.collection) relays[i]?.kick(hint.ids);
      });
    },
    async stop() {
      stopped = true;
      await ready;
      for (const consumer of consumers) await consumer.stop();
      await Promise.all(relays.map((relay) => relay.stop()));
      await producer?.disconnect();
      await kafka.close();
      for (const backlog of backlogs) backlog.untrack();
    },
  };
}
