import type { MetricsMode } from './metric-readers';
import type { TracesMode } from './span-processors';
import { startTelemetry } from './start-telemetry';

/** The telemetry settings every service's configuration carries (kit-config's serviceEnv). */
export interface TelemetrySettings {
  OTEL_SERVICE_NAME: string;
  OTEL_TRACES_EXPORTER: TracesMode;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_METRICS_EXPORTER: MetricsMode;
  METRICS_PORT: number;
  METRICS_HOST: string;
}

/** What a service's bin.ts hands over: its name, its config reader, and how to load its composition root. */
export interface BootOptions<C extends TelemetrySettings> {
  name: string;
  loadConfig: (env: Record<string, string | undefined>) => C;
  /** Loads main.ts lazily (a require), so it is first required after telemetry started. */
  loadMain: () => { run(config: C, onStopped: () => Promise<void>): void };
}

/**
 * A service process's entry point: reads the configuration once (a bad one prints every problem and exits 2),
 * starts telemetry, and only then loads the composition root, so the instrumentations hook grpc-js, kafkajs and
 * mongoose before anything requires them. The telemetry is flushed after a graceful stop.
 */
export function bootService<C extends TelemetrySettings>(options: BootOptions<C>): void {
  let config: C;
  try {
    config = options.loadConfig(process.env);
  } catch (error) {
    // kit-config's ConfigError, recognised by name so this package needs no dependency on it.
    if (!(error instanceof Error) || error.name !== 'ConfigError') throw error;
    process.stderr.write(`${options.name}: ${error.message}\n`);
    process.exit(2);
  }
  const telemetry = startTelemetry({
    serviceName: config.OTEL_SERVICE_NAME,
    traces: config.OTEL_TRACES_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    metrics: config.OTEL_METRICS_EXPORTER,
    prometheusPort: config.METRICS_PORT,
    prometheusHost: config.METRICS_HOST,
  });
  options.loadMain().run(config, () => telemetry.shutdown());
}
