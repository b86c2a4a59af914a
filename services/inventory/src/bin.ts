// Process entry point. Telemetry must start before grpc-js, kafkajs and mongoose are first required, so the
// composition root is loaded only afterwards.
import { ConfigError } from '@o2o/kit-config';
import { startTelemetry } from '@o2o/kit-telemetry';
import { loadConfig } from './config';
import type * as Main from './main';

function boot(): void {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`inventory: ${error.message}\n`);
    process.exit(2);
  }
  const telemetry = startTelemetry({
    serviceName: config.OTEL_SERVICE_NAME,
    traces: config.OTEL_TRACES_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    metrics: config.OTEL_METRICS_EXPORTER,
    prometheusPort: config.METRICS_PORT,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { run } = require('./main') as typeof Main;
  run(config, () => telemetry.shutdown());
}

boot();
