import { metrics, type Meter } from '@opentelemetry/api';

export type { Counter, Histogram, Meter } from '@opentelemetry/api';

/** The meter of a service's own (business) metrics; a no-op until telemetry with a metric reader has started. */
export function serviceMeter(scope: string): Meter {
  return metrics.getMeter(scope);
}

/** Options for {@link startPolledGauges}. */
export interface PolledGaugeOptions {
  /** How old a reading may be when metrics are collected; default 15 s (about one scrape). */
  maxAgeMs?: number;
  /** How long a collection waits for a fresh reading before it reports the previous one; default 2 s. */
  waitMs?: number;
}

/**
 * Gauges whose values come from one query (e.g. a database count), run only when a metric reader collects and at
 * most once per `maxAgeMs`, so scrapes from several Prometheus servers or a short interval do not multiply the
 * queries. A failed read keeps the previous values. stop() unregisters the callback.
 */
export function startPolledGauges<N extends string>(
  meter: Meter,
  gauges: Record<N, { description: string; unit: string }>,
  read: () => Promise<Record<N, number>>,
  options: PolledGaugeOptions = {},
): { stop(): void } {
  const maxAgeMs = options.maxAgeMs ?? 15_000;
  const waitMs = options.waitMs ?? 2_000;
  const names = Object.keys(gauges) as N[];
  const instruments = names.map((name) => meter.createObservableGauge(name, gauges[name]));
  let last: { values: Record<N, number>; at: number } | undefined;
  let reading: Promise<void> | undefined;

  const refresh = async (): Promise<void> => {
    try {
      last = { values: await read(), at: Date.now() };
    } catch {
      // The store is unreachable: nothing new to report; other metrics (RPC errors) say why.
    }
  };
  const callback = async (result: { observe(gauge: (typeof instruments)[number], value: number): void }) => {
    if (!last || Date.now() - last.at >= maxAgeMs) {
      reading ??= refresh().finally(() => (reading = undefined));
      await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    }
    if (!last) return;
    names.forEach((name, i) => result.observe(instruments[i]!, last!.values[name]));
  };
  meter.addBatchObservableCallback(callback, instruments);
  return { stop: () => meter.removeBatchObservableCallback(callback, instruments) };
}
