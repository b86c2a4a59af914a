import { Kafka, logLevel } from 'kafkajs';
import { testInfra, uniqueName } from './index';

/** A consumed message as a test sees it. */
export interface ProbedMessage {
  key: string;
  headers: Record<string, string>;
  value: Buffer;
}

/**
 * A plain kafkajs consumer (not the project's wrapper: an independent client, as a partner would use) collecting
 * every message of a topic from the beginning. Creates the topic first if the service has not yet (idempotent).
 */
export async function collectTopic(topic: string): Promise<{ messages: ProbedMessage[]; stop(): Promise<void> }> {
  const kafka = new Kafka({
    clientId: uniqueName('probe'),
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueName('probe') });
  const messages: ProbedMessage[] = [];
  await ensureTopic(kafka, topic);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      messages.push({ key: String(message.key), headers, value: message.value ?? Buffer.alloc(0) });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}

/** Publishes messages with a plain kafkajs producer (acks=all), e.g. another service's events a consumer must handle. */
export async function publishTo(topic: string, messages: ProbedMessage[]): Promise<void> {
  const kafka = new Kafka({
    clientId: uniqueName('pub'),
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  await ensureTopic(kafka, topic);
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Creates the topic unless it exists and waits until every partition has a leader. The service under test often
 * creates the same topic at the same moment; kafkajs then reports "does not host this topic-partition" while the
 * metadata settles, so this retries instead of failing the test on the race.
 */
async function ensureTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = topics[0]?.partitions ?? [];
        if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
      } catch (error) {
        if (attempt >= 40) throw error;
      }
      if (attempt >= 40) throw new Error(`Topic ${topic} has partitions without a leader after 10 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}
