// Consumer lag against the real broker: the gauge shows what the group has not committed, and falls to zero once
// the handler got through the messages.
import { createLogger } from '@o2o/kit-log';
import { startMetricCapture, type MetricCapture } from '@o2o/kit-telemetry';
import { testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import { CONSUMER_LAG, partitionLag } from '../src/consumer-lag';
import { createKafkaClient } from '../src/kafkajs-client';
import type { KafkaClient } from '../src/types';

jest.setTimeout(60_000);

let capture: MetricCapture;
let client: KafkaClient;

beforeEach(() => {
  capture = startMetricCapture();
  client = createKafkaClient({
    clientId: 'kit-kafka-lag-test',
    brokers: testInfra().kafkaBrokers,
    logger: createLogger({ service: 'kit-kafka-test', level: 'warn' }),
    consumerLagMaxAgeMs: 0, // read on every collection, so the test sees changes at once
  });
});
afterEach(async () => {
  await client.close();
  await capture.stop();
});

async function lagByPartition(groupId: string): Promise<Record<string, number>> {
  const points = await capture.points(CONSUMER_LAG);
  return Object.fromEntries(
    points
      .filter((p) => p.attributes['messaging.consumer.group.name'] === groupId)
      .map((p) => [
        `${String(p.attributes['messaging.destination.name'])}/${String(p.attributes['messaging.destination.partition.id'])}`,
        p.value,
      ]),
  );
}

it('reports per partition what the group has not committed, and zero once it has caught up', async () => {
  const topic = uniqueName('kit.kafka.lag');
  const groupId = uniqueName('lag-group');
  await client.ensureTopics([{ topic, partitions: 2 }]);
  const producer = await client.producer();
  await producer.send(
    ['a', 'a', 'a', 'b'].map((key, i) => ({ topic, key, value: Buffer.from(String(i)), headers: {} })),
  );
  await producer.disconnect();

  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let handled = 0;
  const consumer = await client.consume({
    groupId,
    topics: [topic],
    fromBeginning: true,
    handle: async () => {
      await gate;
      handled++;
    },
  });

  try {
    const waiting = await lagByPartition(groupId);
    expect(Object.keys(waiting).sort()).toEqual([`${topic}/0`, `${topic}/1`]);
    expect(Object.values(waiting).reduce((a, b) => a + b, 0)).toBe(4);

    open();
    await waitFor(() => handled === 4, { what: 'four messages handled' });
    await waitFor(async () => Object.values(await lagByPartition(groupId)).every((lag) => lag === 0), {
      what: 'the lag at zero once offsets are committed',
    });
  } finally {
    open();
    await consumer.stop();
  }
});

describe('partitionLag', () => {
  const end = { high: '120', low: '20' };
  it('is the end offset minus the committed offset', () => {
    expect(partitionLag(end, '100', false)).toBe(20);
    expect(partitionLag(end, '120', true)).toBe(0);
  });
  it('counts from where a group without a commit will start', () => {
    expect(partitionLag(end, '-1', true)).toBe(100); // the earliest retained offset
    expect(partitionLag(end, '-1', false)).toBe(0); // the end
    expect(partitionLag(end, undefined, true)).toBe(100);
  });
});
