export { bootService, type BootOptions, type TelemetrySettings } from './boot-service';
export { startTelemetry, type Telemetry, type TelemetryOptions } from './start-telemetry';
export { currentTraceparent, parseTraceparent, traceIdOf, withTraceparent } from './trace-context';
export { type TracesMode } from './span-processors';
export { type MetricsMode } from './metric-readers';
export { startMetricCapture, type CapturedPoint, type MetricCapture } from './metric-capture';
export {
  serviceMeter,
  startPolledGauges,
  type Counter,
  type Histogram,
  type Meter,
  type PolledGaugeOptions,
} from './polled-gauge';
