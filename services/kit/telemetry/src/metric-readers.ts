import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  PeriodicExportingMetricReader,
  type CollectionResult,
  type IMetricReader,
  type MetricCollectOptions,
} from '@opentelemetry/sdk-metrics';

/** Where metrics go. */
export type MetricsMode = 'otlp' | 'prometheus' | 'none';

/** Options for {@link createMetricReaders}. */
export interface MetricReaderOptions {
  otlpEndpoint?: string;
  prometheusPort?: number;
  prometheusHost?: string;
}

/**
 * The metric readers for a mode. An empty list is deliberate for 'none': given no list, the SDK would read
 * OTEL_METRICS_EXPORTER and default to an OTLP exporter that fails every minute when no collector runs.
 */
export function createMetricReaders(mode: MetricsMode, options: MetricReaderOptions): IMetricReader[] {
  switch (mode) {
    case 'none':
      return [];
    case 'otlp':
      return [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: options.otlpEndpoint ?? 'http://127.0.0.1:4317' }),
          exportIntervalMillis: 30_000,
        }),
      ];
    case 'prometheus':
      // Serves /metrics at once. The host defaults to every interface because Prometheus scrapes the pod IP;
      // tests pass 127.0.0.1.
      // service.name on every series (as `service_name`), so alerts can group by service whatever labels the
      // scrape configuration adds; the other resource attributes stay in `target_info`.
      return [
        new SettledPrometheusExporter({
          port: options.prometheusPort ?? 9464,
          host: options.prometheusHost,
          withResourceConstantLabels: /^service\.name$/,
        }),
      ];
  }
}

// The periodic reader waits for the resource's asynchronous attributes (host detector) before it exports; the
// Prometheus exporter does not, so an early scrape would log "Accessing resource attributes before async attributes
// settled" and miss them in target_info. This one waits, as the OTLP path does.
class SettledPrometheusExporter extends PrometheusExporter {
  override async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const result = await super.collect(options);
    await result.resourceMetrics.resource.waitForAsyncAttributes?.();
    return result;
  }
}
