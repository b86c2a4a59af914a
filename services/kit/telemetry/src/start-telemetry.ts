import { context, diag, logs, metrics, propagation, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { type InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { installOnceDiagLogger } from './diag-logger';
import { createInstrumentations } from './instrumentations';
import { createMetricReaders, type MetricsMode } from './metric-readers';
import { resourceDetectors } from './resource-detectors';
import { createTracePipeline, type TracesMode } from './span-processors';

/** How a service's telemetry is set up; parsed from config by the service, never read from env here. */
export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** `deployment.environment.name` on the resource, e.g. 'production'. */
  deploymentEnvironment?: string;
  /** memory = InMemorySpanExporter behind a SimpleSpanProcessor, for tests. */
  traces: TracesMode;
  /** OTLP/gRPC collector address for traces and metrics; defaults to http://127.0.0.1:4317. */
  otlpEndpoint?: string;
  /** Defaults to 'none'. */
  metrics?: MetricsMode;
  /** Port of the Prometheus /metrics endpoint when metrics is 'prometheus'; defaults to 9464. */
  prometheusPort?: number;
  /** Interface of the Prometheus endpoint; defaults to all interfaces. */
  prometheusHost?: string;
}

/** Running telemetry. */
export interface Telemetry {
  /** Flushes pending spans and metrics, then turns the SDK and the instrumentations off. Never rejects. */
  shutdown(): Promise<void>;
  /** Exports every span ended so far (export is asynchronous, even with the simple processor). Never rejects. */
  forceFlush(): Promise<void>;
  /** The spans exported so far, when traces is 'memory'. */
  memoryExporter?: InMemorySpanExporter;
}

/**
 * Starts the OpenTelemetry SDK with this project's instrumentations. Call it before grpc-js, kafkajs,
 * mongoose, mongodb, http or pino are first required (see README: the bin.ts pattern), or they stay untraced.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  installOnceDiagLogger(options.serviceName);
  // sdk-node's own OTLP exporters have already loaded @grpc/grpc-js by now. That is harmless: the hook patches
  // the cached module when the application first requires it (grpc-tracing.test.ts proves the spans).
  const instrumentations = createInstrumentations();
  const { spanProcessors, memoryExporter } = createTracePipeline(options.traces, options.otlpEndpoint);
  const metricReaders = createMetricReaders(options.metrics ?? 'none', options);
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    resourceDetectors: resourceDetectors(options),
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    instrumentations,
    spanProcessors,
    metricReaders,
    // Logs travel through stdout (pino), not OTLP; an empty list stops the SDK's default OTLP log exporter.
    logRecordProcessors: [],
  });
  sdk.start();

  async function forceFlush(): Promise<void> {
    await Promise.all([...spanProcessors, ...metricReaders].map((part) => part.forceFlush())).catch(
      reportExportFailure,
    );
  }

  let stopped: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    stopped ??= sdk
      .shutdown()
      // Telemetry must never fail a graceful shutdown: the spans are lost either way.
      .catch(reportExportFailure)
      .finally(() => {
        for (const instrumentation of instrumentations) instrumentation.disable();
        // NodeSDK leaves its globals registered; releasing them lets a test process start telemetry again.
        trace.disable();
        metrics.disable();
        logs.disable();
        propagation.disable();
        context.disable();
      });
    return stopped;
  }
  return memoryExporter ? { shutdown, forceFlush, memoryExporter } : { shutdown, forceFlush };
}

// Logged through diag, so the once-per-kind logger keeps a dead collector from flooding the logs.
function reportExportFailure(error: unknown): void {
  diag.error('telemetry export failed:', error);
}
