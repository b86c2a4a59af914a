// Consumer lag as an observable gauge. The lag is the group's: the partition's end offset (high watermark) minus
// the group's committed offset, read with the admin API, the way kafka-exporter and Burrow read it. Unlike the lag
// kafkajs reports per fetched batch, it keeps growing when the consumer is stuck on a failing message or has
// crashed for good, which is when the alert must fire. Reads happen only when a metric reader collects, at most once
// per `maxAgeMs` per consumer, and a slow read never holds up a scrape for more than READ_WAIT_MS.
import { metrics, type MeterProvider, type ObservableResult } from '@opentelemetry/api';

/** Messages the group has not yet committed, per topic partition (gauge). */
export const CONSUMER_LAG = 'o2o.kafka.consumer.lag';

const READ_WAIT_MS = 2_000;

/** One partition's lag. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

interface Source {
  groupId: string;
  read: () => Promise<PartitionLag[]>;
  maxAgeMs: number;
  last?: { lags: PartitionLag[]; at: number };
  reading?: Promise<void>;
}

const sources = new Set<Source>();

/** Reports a consumer group's lag in {@link CONSUMER_LAG} until the returned function is called. */
export function trackConsumerLag(
  groupId: string,
  read: () => Promise<PartitionLag[]>,
  options: { maxAgeMs: number },
): () => void {
  const source: Source = { groupId, read, maxAgeMs: options.maxAgeMs };
  sources.add(source);
  ensureGauge();
  return () => void sources.delete(source);
}

async function observeLag(result: ObservableResult): Promise<void> {
  await Promise.all(
    [...sources].map(async (source) => {
      if (!source.last || Date.now() - source.last.at >= source.maxAgeMs) {
        source.reading ??= refresh(source).finally(() => (source.reading = undefined));
        await Promise.race([source.reading, new Promise((resolve) => setTimeout(resolve, READ_WAIT_MS).unref())]);
      }
      for (const { topic, partition, lag } of source.last?.lags ?? []) {
        result.observe(lag, {
          'messaging.system': 'kafka',
          'messaging.consumer.group.name': source.groupId,
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
        });
      }
    }),
  );
}

async function refresh(source: Source): Promise<void> {
  try {
    source.last = { lags: await source.read(), at: Date.now() };
  } catch {
    // Kafka unreachable: keep the last reading (the SDK would repeat it anyway); the next scrape tries again.
  }
}

// Created on the meter provider current when a consumer starts (telemetry starts first in production; tests swap).
let gaugeProvider: MeterProvider | undefined;
function ensureGauge(): void {
  const provider = metrics.getMeterProvider();
  if (gaugeProvider === provider) return;
  gaugeProvider = provider;
  provider
    .getMeter('@o2o/kit-kafka')
    .createObservableGauge(CONSUMER_LAG, {
      description: "Messages after the consumer group's committed offset: end offset minus committed offset",
      unit: '{message}',
    })
    .addCallback(observeLag);
}

/**
 * The lag of each partition from its end offset and the group's committed offset ('-1': the group has committed
 * nothing there yet, so it starts at the earliest offset when it reads from the beginning, else at the end).
 */
export function partitionLag(
  end: { high: string; low: string },
  committed: string | undefined,
  fromBeginning: boolean,
): number {
  const high = Number(end.high);
  const position = committed !== undefined && Number(committed) >= 0 ? Number(committed) : undefined;
  const start = position ?? (fromBeginning ? Number(end.low) : high);
  return Math.max(0, high - start);
}
