// RED metrics for every unary RPC a server serves: one duration histogram whose count is the rate and whose status
// code attribute gives the errors. Wired by startGrpcServer, so no service can forget it.
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { metrics, type Histogram, type MeterProvider } from '@opentelemetry/api';

/** The histogram's name (OpenTelemetry RPC semantic conventions); Prometheus shows `rpc_server_call_duration_*`. */
export const RPC_SERVER_DURATION = 'rpc.server.call.duration';

// The semantic conventions' advice for durations in seconds: 5 ms to 10 s.
const BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const CANCELLED = 1;
const UNKNOWN = 2;

type UnaryHandler = (call: { cancelled: boolean }, callback: (error: unknown, ...rest: unknown[]) => void) => void;

// The global meter provider is only known once telemetry has started (and tests swap it), so the histogram is
// looked up per provider rather than created when this module loads (it would stay a no-op forever).
let cached: { provider: MeterProvider; histogram: Histogram } | undefined;
function durationHistogram(): Histogram {
  const provider = metrics.getMeterProvider();
  if (cached?.provider !== provider) {
    const histogram = provider.getMeter('@o2o/kit-grpc').createHistogram(RPC_SERVER_DURATION, {
      description: 'Duration of unary RPCs this server handled, from the handler call to its answer',
      unit: 's',
      advice: { explicitBucketBoundaries: BUCKETS_SECONDS },
    });
    cached = { provider, histogram };
  }
  return cached.histogram;
}

/**
 * The implementation with every unary handler timed: `rpc.server.call.duration` (seconds) with `rpc.system=grpc`,
 * `rpc.service`, `rpc.method` and `rpc.grpc.status_code` (0 OK, the mapped status otherwise, 1 when the client
 * cancelled). Streaming handlers are passed through untouched (none exist yet; they need their own end-of-call hook).
 */
export function withRpcMetrics(
  serviceName: string,
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
): UntypedServiceImplementation {
  const timed: UntypedServiceImplementation = { ...implementation };
  for (const [key, method] of Object.entries(definition)) {
    const handler = implementation[key] as unknown;
    if (method.requestStream || method.responseStream || typeof handler !== 'function') continue;
    const attributes = {
      'rpc.system': 'grpc',
      'rpc.service': serviceName,
      'rpc.method': method.path.slice(method.path.lastIndexOf('/') + 1),
    };
    const unary = handler as UnaryHandler;
    const wrapped: UnaryHandler = (call, callback) => {
      const started = process.hrtime.bigint();
      unary(call, (error, ...rest) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        durationHistogram().record(seconds, { ...attributes, 'rpc.grpc.status_code': statusOf(error, call) });
        callback(error, ...rest);
      });
    };
    timed[key] = wrapped as UntypedServiceImplementation[string];
  }
  return timed;
}

function statusOf(error: unknown, call: { cancelled: boolean }): number {
  if (call.cancelled) return CANCELLED;
  if (error === null || error === undefined) return 0;
  const code = (error as { code?: unknown }).code;
  // grpc-js answers UNKNOWN for an error without a numeric code.
  return typeof code === 'number' ? code : UNKNOWN;
}
