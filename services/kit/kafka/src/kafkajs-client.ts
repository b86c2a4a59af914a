// The only file that knows kafkajs. Everything else speaks the interfaces in types.ts.
import type { Logger } from '@o2o/kit-log';
import {
  Kafka,
  Partitioners,
  logLevel as KafkaLogLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import { partitionLag, trackConsumerLag, type PartitionLag } from './consumer-lag';
import type { ConsumeOptions, EventConsumer, EventProducer, KafkaClient, OutgoingMessage, TopicSpec } from './types';

/** Options for {@link createKafkaClient}. */
export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** TCP connect timeout per broker (ms); default 3000. */
  connectionTimeoutMs?: number;
  /** SASL credentials (the cluster's listeners use SCRAM-SHA-512); none locally. */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** TLS to the brokers; default off. */
  ssl?: boolean;
  /** How old a consumer-lag reading may be when metrics are collected (one admin round trip per refresh); default 10 s. */
  consumerLagMaxAgeMs?: number;
}

// Set explicitly: kafkajs silently swaps in much shorter retry defaults when NODE_ENV=test (jest sets it), and the
// idempotent producer's own default is to retry forever inside send(). Bounded here so a send to a dead broker fails
// within seconds and the outbox relay, which owns the retrying, backs off and tries again.
const BOUNDED_RETRY: RetryOptions = {
  retries: 4,
  initialRetryTime: 200,
  maxRetryTime: 2_000,
  factor: 0.2,
  multiplier: 2,
};
// A consumer's handler failures and lost connections are retried this many times, then kafkajs restarts the consumer
// (rejoin, resume from the last commit), so in effect forever.
const CONSUMER_RETRY: RetryOptions = {
  retries: 8,
  initialRetryTime: 300,
  maxRetryTime: 30_000,
  factor: 0.2,
  multiplier: 2,
};
const SEND_ACK_TIMEOUT_MS = 10_000;
const TOPIC_READY_TIMEOUT_MS = 30_000;

/** Connects to Kafka through kafkajs; its log lines go to the given pino logger. */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const logger = options.logger.child({ component: 'kafka' });
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    ...(options.sasl ? { sasl: saslFor(options.sasl) } : {}),
    ssl: options.ssl ?? false,
    retry: BOUNDED_RETRY,
    logLevel: kafkajsLevelFor(logger),
    logCreator: () => (entry) => forwardLog(logger, entry),
  });
  const producers = new Set<EventProducer>();
  const consumers = new Set<EventConsumer>();
  const lagReader = createLagReader(kafka);

  return {
    async producer() {
      const producer = createEventProducer(kafka, logger);
      await producer.connect();
      producers.add(producer);
      return {
        send: (messages) => producer.send(messages),
        disconnect: async () => {
          producers.delete(producer);
          await producer.disconnect();
        },
      };
    },
    async consume(consumeOptions) {
      const consumer = await startConsumer(kafka, logger, consumeOptions);
      const untrackLag = trackConsumerLag(consumeOptions.groupId, () => lagReader.read(consumeOptions), {
        maxAgeMs: options.consumerLagMaxAgeMs ?? 10_000,
      });
      const handle: EventConsumer = {
        stop: async () => {
          consumers.delete(handle);
          untrackLag();
          await consumer.disconnect();
        },
      };
      consumers.add(handle);
      return handle;
    },
    async ensureTopics(specs) {
      const admin = kafka.admin({ retry: BOUNDED_RETRY });
      await admin.connect();
      try {
        await ensureTopicsWith(admin, specs, logger);
      } finally {
        await admin.disconnect();
      }
    },
    async close() {
      const closing = [...consumers].map((c) => c.stop()).concat([...producers].map((p) => p.disconnect()));
      await Promise.allSettled(closing);
      await lagReader.close();
    },
  };
}

/**
 * An idempotent producer that starts a fresh kafkajs producer (new producer id) after any failed send: kafkajs keeps
 * its sequence numbers when a send fails, and a batch the broker wrote but never acknowledged, retried later with
 * other messages, would otherwise fail with OUT_OF_ORDER_SEQUENCE_NUMBER forever. Resending after a failure may
 * duplicate messages; consumers dedupe by ce_id.
 */
function createEventProducer(kafka: Kafka, logger: Logger) {
  let current: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let closed = false;

  async function open(): Promise<Producer> {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The Java client's murmur2 partitioner: partners using other clients compute the same partition for a key.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: BOUNDED_RETRY,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return producer;
  }

  async function connected(): Promise<Producer> {
    if (closed) throw new Error('Cannot send: the Kafka producer was disconnected');
    if (current) return current;
    connecting ??= open().finally(() => (connecting = undefined));
    const producer = await connecting;
    if (closed) {
      await producer.disconnect();
      throw new Error('Cannot send: the Kafka producer was disconnected');
    }
    current = producer;
    return producer;
  }

  async function discard(producer: Producer, error: unknown): Promise<void> {
    if (current !== producer) return;
    current = undefined;
    logger.warn({ err: error }, 'Kafka send failed; the next send starts a new idempotent producer session');
    await producer.disconnect().catch(() => undefined);
  }

  return {
    async connect(): Promise<void> {
      await connected();
    },
    async send(messages: OutgoingMessage[]): Promise<void> {
      if (messages.length === 0) return;
      const producer = await connected();
      try {
        await producer.sendBatch({ topicMessages: byTopic(messages), acks: -1, timeout: SEND_ACK_TIMEOUT_MS });
      } catch (error) {
        await discard(producer, error);
        throw error;
      }
    },
    async disconnect(): Promise<void> {
      closed = true;
      const producer = current ?? (await connecting?.catch(() => undefined));
      current = undefined;
      await producer?.disconnect();
    },
  };
}

// Groups by topic keeping the callers' order, so messages with one key reach their partition in array order.
function byTopic(messages: OutgoingMessage[]) {
  const topics = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
  for (const m of messages) {
    const list = topics.get(m.topic) ?? [];
    list.push({ key: m.key, value: m.value, headers: m.headers });
    topics.set(m.topic, list);
  }
  return [...topics].map(([topic, list]) => ({ topic, messages: list }));
}

/**
 * Reads consumer groups' lag with one admin client, connected on the first read (only when metrics are collected)
 * and again after a failure: committed offsets (OffsetFetch) and end offsets (ListOffsets) per topic.
 */
function createLagReader(kafka: Kafka) {
  let admin: Promise<Admin> | undefined;
  async function connected(): Promise<Admin> {
    admin ??= (async () => {
      const created = kafka.admin({ retry: BOUNDED_RETRY });
      await created.connect();
      return created;
    })();
    try {
      return await admin;
    } catch (error) {
      admin = undefined;
      throw error;
    }
  }
  return {
    async read(options: Pick<ConsumeOptions, 'groupId' | 'topics' | 'fromBeginning'>): Promise<PartitionLag[]> {
      const client = await connected();
      const committed = await client.fetchOffsets({ groupId: options.groupId, topics: options.topics });
      const lags: PartitionLag[] = [];
      for (const topic of options.topics) {
        const group = committed.find((t) => t.topic === topic);
        for (const end of await client.fetchTopicOffsets(topic)) {
          const offset = group?.partitions.find((p) => p.partition === end.partition)?.offset;
          lags.push({
            topic,
            partition: end.partition,
            lag: partitionLag(end, offset, options.fromBeginning ?? false),
          });
        }
      }
      return lags;
    },
    async close(): Promise<void> {
      const current = admin;
      admin = undefined;
      await (await current?.catch(() => undefined))?.disconnect();
    },
  };
}

/** Raised to kafkajs when a handler fails: marked retriable so kafkajs retries (and restarts) instead of giving up. */
class HandlerFailedError extends Error {
  readonly retriable = true;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'HandlerFailedError';
  }
}

async function startConsumer(kafka: Kafka, logger: Logger, options: ConsumeOptions): Promise<Consumer> {
  const log = logger.child({ groupId: options.groupId });
  const consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    retry: CONSUMER_RETRY,
    // stop() waits for the fetch long-poll in flight: 1 s instead of kafkajs's 5 s keeps shutdown prompt.
    maxWaitTimeInMs: 1_000,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) log.warn({ err: payload.error }, 'Kafka consumer crashed; kafkajs restarts it');
    else log.error({ err: payload.error }, 'Kafka consumer crashed and stopped for good');
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? false });
    await consumer.run({
      autoCommit: true,
      // kafkajs commits after every fetched batch; the interval bounds the replay after a crash mid-way through a long one.
      autoCommitInterval: 5_000,
      eachMessage: async ({ topic, partition, message }) => {
        const incoming = toIncoming(topic, partition, message);
        try {
          await options.handle(incoming);
        } catch (error) {
          log.warn(
            { err: error, topic, partition, offset: message.offset, eventId: incoming.headers.ce_id },
            'Event handler failed; the message will be redelivered',
          );
          throw new HandlerFailedError(`Handler failed for ${topic}[${partition}]@${message.offset}`, { cause: error });
        }
      },
    });
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    throw error;
  }
  return consumer;
}

function toIncoming(topic: string, partition: number, message: KafkaMessage) {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString('utf8') : null,
    // A tombstone has no value; our topics never carry one, but the type stays simple.
    value: message.value ?? Buffer.alloc(0),
    headers: decodeHeaders(message.headers),
  };
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) decoded[name] = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  }
  return decoded;
}

async function ensureTopicsWith(admin: Admin, specs: TopicSpec[], logger: Logger): Promise<void> {
  if (specs.length === 0) return;
  // Right after a broker (re)start, or while another client creates the same topic, the metadata answers with
  // retriable errors (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, TOPIC_ALREADY_EXISTS from a race) for a
  // moment: try again until the deadline instead of failing the caller.
  const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
  for (;;) {
    try {
      await createMissingTopics(admin, specs, logger);
      await waitForTopics(admin, specs, deadline);
      return;
    } catch (error) {
      const retriable =
        (error as { retriable?: unknown; type?: unknown }).retriable === true ||
        (error as { type?: unknown }).type === 'TOPIC_ALREADY_EXISTS';
      if (!retriable || Date.now() > deadline) throw error;
      logger.debug({ err: error }, 'Kafka topic metadata not settled yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function createMissingTopics(admin: Admin, specs: TopicSpec[], logger: Logger): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    // Only the missing ones: when some already exist kafkajs returns early and skips waiting for the new leaders.
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    logger.info({ topics: missing.map((s) => s.topic), created }, 'Kafka topics created');
  }
}

// Another replica may have created a topic a moment ago: wait until every partition has a leader, then compare counts.
async function waitForTopics(admin: Admin, specs: TopicSpec[], deadline: number): Promise<void> {
  for (;;) {
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
    for (const spec of specs) {
      const found = topics.find((t) => t.name === spec.topic);
      if (found && found.partitions.length !== spec.partitions) {
        throw new Error(
          `Topic "${spec.topic}" has ${found.partitions.length} partitions, expected ${spec.partitions}: ` +
            'change the spec or the topic deliberately (more partitions move keys to other partitions)',
        );
      }
    }
    const ready = topics.every((t) => t.partitions.every((p) => p.leader >= 0)) && topics.length === specs.length;
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`Kafka topics ${specs.map((s) => s.topic).join(', ')} have no leader`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function kafkajsLevelFor(logger: Logger): KafkaLogLevel {
  if (logger.isLevelEnabled('debug')) return KafkaLogLevel.DEBUG;
  if (logger.isLevelEnabled('info')) return KafkaLogLevel.INFO;
  if (logger.isLevelEnabled('warn')) return KafkaLogLevel.WARN;
  if (logger.isLevelEnabled('error')) return KafkaLogLevel.ERROR;
  return KafkaLogLevel.NOTHING;
}

// Demoted to debug: kafkajs warns on every producer start that bounded retries "may invalidate EoS guarantees", but
// bounding them is deliberate (the outbox relay retries, consumers dedupe by event id); and it logs every handler
// failure with a bare stack, which startConsumer already logged as a warning with the topic, offset and event id.
const DEMOTED = ['Limiting retries for the idempotent producer', 'Error when calling eachMessage'];

const PINO_LEVEL = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
} as const;

function forwardLog(logger: Logger, entry: LogEntry): void {
  const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log;
  const level = DEMOTED.some((prefix) => message.startsWith(prefix))
    ? 'debug'
    : PINO_LEVEL[entry.level as keyof typeof PINO_LEVEL];
  if (level) logger[level]({ kafkajs: entry.namespace, ...fields }, message);
}

// kafkajs types each mechanism separately; this narrows our one shape to its union.
function saslFor(sasl: NonNullable<KafkaClientOptions['sasl']>): SASLOptions {
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: sasl.username, password: sasl.password };
  }
}
