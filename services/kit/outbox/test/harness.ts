// Shared set-up for the outbox integration tests: a fresh database, a fresh topic, a Kafka client, captured logs.
import { createKafkaClient, type EventProducer, type IncomingMessage, type KafkaClient } from '@o2o/kit-kafka';
import { createLogger, type Logger } from '@o2o/kit-log';
import { testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import mongoose, { type Collection, type Connection } from 'mongoose';
import { outboxEntry, type OutboxEntry } from '../src/outbox-entry';

/** One JSON log line the code under test wrote. */
export type LogLine = { level: string; msg: string } & Record<string, unknown>;

/** Everything a test needs; close() drops the database and disconnects. */
export interface Harness {
  connection: Connection;
  collection: Collection;
  kafka: KafkaClient;
  topic: string;
  logger: Logger;
  logs: LogLine[];
  close(): Promise<void>;
}

/** Connects to the test servers with a unique database and topic. */
export async function startHarness(options: { partitions?: number } = {}): Promise<Harness> {
  const infra = testInfra();
  const connection = mongoose.createConnection(infra.mongoUrl, { dbName: uniqueName('t'), autoIndex: false });
  await connection.asPromise();
  const logs: LogLine[] = [];
  const logger = createLogger({
    service: 'kit-outbox-test',
    level: 'info',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  });
  const kafka = createKafkaClient({ clientId: 'kit-outbox-test', brokers: infra.kafkaBrokers, logger });
  const topic = uniqueName('kit.outbox');
  await kafka.ensureTopics([{ topic, partitions: options.partitions ?? 3 }]);
  return {
    connection,
    collection: connection.collection('aggregates'),
    kafka,
    topic,
    logger,
    logs,
    async close() {
      await kafka.close();
      await connection.dropDatabase();
      await connection.close();
    },
  };
}

/** A test event for an aggregate; the payload names the aggregate and a sequence number ("agg-1:3"). */
export function testEvent(topic: string, key: string, seq: number): OutboxEntry {
  return outboxEntry({
    topic,
    key,
    type: 'o2o.test.v1.ThingHappened',
    source: '/o2o/test',
    subject: key,
    payload: Buffer.from(`${key}:${seq}`),
  });
}

/** Reads a topic from the beginning with a fresh consumer group, keeping every delivery (duplicates included). */
export async function collect(kafka: KafkaClient, topic: string) {
  const received: IncomingMessage[] = [];
  const consumer = await kafka.consume({
    groupId: uniqueName('collector'),
    topics: [topic],
    fromBeginning: true,
    handle: async (message) => void received.push(message),
  });
  return {
    received,
    /** Payloads received for one key, in delivery order. */
    payloadsOf: (key: string) => received.filter((m) => m.key === key).map((m) => m.value.toString()),
    /** How many times each ce_id arrived. */
    countsById: () => {
      const counts = new Map<string, number>();
      for (const m of received) counts.set(m.headers.ce_id ?? '?', (counts.get(m.headers.ce_id ?? '?') ?? 0) + 1);
      return counts;
    },
    waitForCount: (n: number, timeoutMs = 30_000) =>
      waitFor(() => new Set(received.map((m) => m.headers.ce_id)).size >= n, {
        what: `${n} distinct events`,
        timeoutMs,
      }),
    stop: () => consumer.stop(),
  };
}

/** A producer whose sends wait at a gate until the test opens it, to look at the database mid-publish. */
export function gatedProducer(inner: EventProducer) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let entered!: () => void;
  const sending = new Promise<void>((resolve) => (entered = resolve));
  const producer: EventProducer = {
    async send(messages) {
      entered();
      await gate;
      await inner.send(messages);
    },
    disconnect: () => inner.disconnect(),
  };
  return { producer, sending, open };
}

/** Sleeps; for the few places where a test must show that something does NOT happen for a while. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs every clean-up step even when one fails (a skipped one would leave handles that keep jest from exiting). */
export async function cleanUp(steps: (() => Promise<unknown>)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    await step().catch((error: unknown) => errors.push(error));
  }
  if (errors.length > 0) throw errors[0];
}
