// Against the real broker: topics, a producer read back by a plain kafkajs consumer (not our wrapper), and our
// consumer's ordering, commits and handler retries.
import { createLogger } from '@o2o/kit-log';
import { testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import { Kafka, logLevel } from 'kafkajs';
import { toCloudEventHeaders } from '../src/cloud-events';
import { createKafkaClient } from '../src/kafkajs-client';
import type { IncomingMessage, KafkaClient } from '../src/types';

jest.setTimeout(60_000); // jest applies testTimeout only globally, not per project

const infra = testInfra();
const logger = createLogger({ service: 'kit-kafka-test', level: 'warn' });
let client: KafkaClient;
const plain = new Kafka({ clientId: 'kit-kafka-test-plain', brokers: infra.kafkaBrokers, logLevel: logLevel.ERROR });

beforeAll(() => {
  client = createKafkaClient({ clientId: 'kit-kafka-test', brokers: infra.kafkaBrokers, logger });
});
afterAll(async () => {
  await client.close();
});

async function partitionsOf(topic: string): Promise<number> {
  const admin = plain.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

describe('ensureTopics', () => {
  it('creates topics with their partition counts, is idempotent, and refuses a different count', async () => {
    const a = uniqueName('kit.kafka.topic-a');
    const b = uniqueName('kit.kafka.topic-b');
    await client.ensureTopics([{ topic: a, partitions: 3, configs: { 'retention.ms': '3600000' } }]);
    expect(await partitionsOf(a)).toBe(3);

    // One existing, one new: the new one must still be created with its leaders ready.
    await client.ensureTopics([
      { topic: a, partitions: 3 },
      { topic: b, partitions: 2 },
    ]);
    expect(await partitionsOf(a)).toBe(3);
    expect(await partitionsOf(b)).toBe(2);

    await expect(client.ensureTopics([{ topic: a, partitions: 6 }])).rejects.toThrow(
      `Topic "${a}" has 3 partitions, expected 6`,
    );
  });
});

describe('producer', () => {
  it('publishes key, value and CloudEvents headers that a plain kafkajs consumer reads back intact', async () => {
    const topic = uniqueName('kit.kafka.produce');
    await client.ensureTopics([{ topic, partitions: 3 }]);
    const headers = toCloudEventHeaders({
      id: 'evt-1',
      type: 'o2o.test.v1.Thing',
      source: '/o2o/test',
      subject: 'agg-1',
      time: new Date('2026-01-02T03:04:05.006Z'),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    const value = Buffer.from([0x08, 0x96, 0x01, 0x00, 0xff]);
    const producer = await client.producer();
    await producer.send([{ topic, key: 'agg-1', value, headers }]);
    await producer.disconnect();

    const consumer = plain.consumer({ groupId: uniqueName('plain'), maxWaitTimeInMs: 500 });
    const received: { key: string | undefined; value: Buffer | null; headers: Record<string, string> }[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const decoded: Record<string, string> = {};
          for (const [name, raw] of Object.entries(message.headers ?? {})) decoded[name] = String(raw);
          received.push({ key: message.key?.toString(), value: message.value, headers: decoded });
        },
      });
      await waitFor(() => received.length > 0, { what: 'the message', timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    expect(received).toHaveLength(1);
    expect(received[0]?.key).toBe('agg-1');
    expect(received[0]?.value?.equals(value)).toBe(true);
    expect(received[0]?.headers).toEqual(headers);
  });

  it('resolves an empty send without touching the broker', async () => {
    const producer = await client.producer();
    await expect(producer.send([])).resolves.toBeUndefined();
    await producer.disconnect();
    await expect(producer.send([{ topic: 'x', key: 'k', value: Buffer.alloc(0), headers: {} }])).rejects.toThrow(
      'disconnected',
    );
  });
});

describe('consume', () => {
  it('delivers in order per key and commits, so the next member of the group does not re-read', async () => {
    const topic = uniqueName('kit.kafka.consume');
    const groupId = uniqueName('group');
    await client.ensureTopics([{ topic, partitions: 3 }]);
    const producer = await client.producer();
    const keys = ['order-a', 'order-b', 'order-c'];
    const sent = Array.from({ length: 30 }, (_, i) => ({
      topic,
      key: keys[i % keys.length] ?? 'order-a',
      value: Buffer.from(String(i)),
      headers: { seq: String(i) },
    }));
    // Several sends, so the messages span several produce requests and fetched batches.
    for (let i = 0; i < sent.length; i += 7) await producer.send(sent.slice(i, i + 7));

    const seen: IncomingMessage[] = [];
    const first = await client.consume({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (m) => void seen.push(m),
    });
    await waitFor(() => seen.length >= sent.length, { what: 'all 30 messages', timeoutMs: 30_000 });
    await first.stop();
    expect(seen).toHaveLength(sent.length);
    for (const key of keys) {
      const order = seen.filter((m) => m.key === key).map((m) => Number(m.value.toString()));
      expect(order).toEqual(sent.filter((m) => m.key === key).map((m) => Number(m.value.toString())));
    }
    expect(seen[0]?.headers.seq).toBeDefined();

    await producer.send([{ topic, key: 'order-a', value: Buffer.from('after'), headers: {} }]);
    const second: IncomingMessage[] = [];
    const next = await client.consume({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (m) => void second.push(m),
    });
    try {
      await waitFor(() => second.some((m) => m.value.toString() === 'after'), {
        what: 'the new message',
        timeoutMs: 30_000,
      });
      // Anything re-read would be fetched before the new message on the same partition; give other partitions a moment.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await next.stop();
      await producer.disconnect();
    }
    expect(second.map((m) => m.value.toString())).toEqual(['after']);
  });

  it('redelivers a message whose handler failed, without skipping it or reordering the partition', async () => {
    const topic = uniqueName('kit.kafka.retry');
    await client.ensureTopics([{ topic, partitions: 1 }]);
    const producer = await client.producer();
    await producer.send(['m1', 'm2', 'm3'].map((v) => ({ topic, key: 'k', value: Buffer.from(v), headers: {} })));
    await producer.disconnect();

    const attempts: string[] = [];
    const handled: string[] = [];
    let failuresLeft = 2;
    const consumer = await client.consume({
      groupId: uniqueName('group'),
      topics: [topic],
      fromBeginning: true,
      handle: async (m) => {
        const v = m.value.toString();
        attempts.push(v);
        if (v === 'm2' && failuresLeft > 0) {
          failuresLeft -= 1;
          throw new TypeError('simulated handler bug');
        }
        handled.push(v);
      },
    });
    try {
      await waitFor(() => handled.length >= 3, { what: 'all three handled', timeoutMs: 60_000 });
    } finally {
      await consumer.stop();
    }
    expect(handled).toEqual(['m1', 'm2', 'm3']);
    expect(attempts.filter((v) => v === 'm2')).toHaveLength(3);
    expect(attempts.indexOf('m3')).toBeGreaterThan(attempts.lastIndexOf('m2'));
  });
});
