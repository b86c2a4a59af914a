import { metrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/** One data point as a test reads it: its attributes and its value (a number, or a histogram's count and sum). */
export interface CapturedPoint {
  attributes: Record<string, unknown>;
  value: number;
  /** Histograms only. */
  count?: number;
  sum?: number;
}

/** Metrics captured in the process, for tests: install, act, then read what was recorded. */
export interface MetricCapture {
  /** Collects now (observable callbacks run) and returns the points of the named metric ([] when absent). */
  points(name: string): Promise<CapturedPoint[]>;
  /** Uninstalls the meter provider (instruments fall back to no-ops). */
  stop(): Promise<void>;
}

// A reader that exports nothing by itself: collect() on demand is all a test needs.
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Installs an in-process MeterProvider as the global one, so code under test records into it without starting
 * the whole SDK (no instrumentation, no exporter). Not for production: services use startTelemetry.
 */
export function startMetricCapture(): MetricCapture {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  metrics.disable();
  metrics.setGlobalMeterProvider(provider);
  return {
    async points(name) {
      const { resourceMetrics } = await reader.collect();
      const found = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name);
      return found.flatMap(toPoints);
    },
    async stop() {
      metrics.disable();
      await provider.shutdown();
    },
  };
}

function toPoints(metric: MetricData): CapturedPoint[] {
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    return metric.dataPoints.map((point) => ({
      attributes: { ...point.attributes },
      value: point.value.count,
      count: point.value.count,
      sum: point.value.sum,
    }));
  }
  if (metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
    return metric.dataPoints.map((point) => ({ attributes: { ...point.attributes }, value: point.value.count }));
  }
  return metric.dataPoints.map((point) => ({ attributes: { ...point.attributes }, value: point.value }));
}
