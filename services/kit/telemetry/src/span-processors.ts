import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';

/** Where spans go. */
export type TracesMode = 'otlp' | 'console' | 'none' | 'memory';

/** The span processors for a mode, plus the memory exporter when the mode is 'memory'. */
export interface TracePipeline {
  spanProcessors: SpanProcessor[];
  memoryExporter?: InMemorySpanExporter;
}

// Bounded so that SIGTERM with an unreachable collector still ends in seconds, not the 30 s default.
const EXPORT_TIMEOUT_MS = 5_000;

/** Builds the span processors for a traces mode; 'none' yields none, so the SDK registers no tracer provider. */
export function createTracePipeline(mode: TracesMode, otlpEndpoint: string | undefined): TracePipeline {
  switch (mode) {
    case 'none':
      return { spanProcessors: [] };
    case 'memory': {
      // Simple (synchronous) processing: a test reads the span right after span.end().
      const memoryExporter = new InMemorySpanExporter();
      return { spanProcessors: [new SimpleSpanProcessor({ exporter: memoryExporter })], memoryExporter };
    }
    case 'console':
      return { spanProcessors: [new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })] };
    case 'otlp': {
      // The grpc-js client is created lazily on the first export, and a failed export is reported through
      // diag (logged once), so a missing collector neither crashes nor blocks the service.
      const exporter = new OTLPTraceExporter({
        url: otlpEndpoint ?? 'http://127.0.0.1:4317',
        timeoutMillis: EXPORT_TIMEOUT_MS,
      });
      return { spanProcessors: [new BatchSpanProcessor({ exporter, exportTimeoutMillis: EXPORT_TIMEOUT_MS })] };
    }
  }
}
