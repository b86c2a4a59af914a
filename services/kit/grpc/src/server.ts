import { type ServiceDefinition, Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@o2o/kit-log';
import { addReflection, loadDescriptorSets } from './reflection';
import { refuseUndecodableRequests, strictRequests } from './request-decoding';
import { withRpcMetrics } from './rpc-metrics';

/** One gRPC service to serve: its generated definition, the implementation, and its full name for health checks. */
export interface ServedService {
  /** Fully qualified name, e.g. "o2o.catalogue.v1.CatalogueService". */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

/** Options for {@link startGrpcServer}. */
export interface GrpcServerOptions {
  services: ServedService[];
  /** 127.0.0.1 in tests and local runs; 0.0.0.0 in a container. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger: Logger;
  /**
   * Binary FileDescriptorSets (as `buf build` writes them) of the served protos: for server reflection, and to check
   * every request's bytes against its message type (request-decoding.ts).
   */
  descriptorSets?: string[];
  /** Largest accepted request, bytes (default 4 MiB). */
  maxReceiveMessageBytes?: number;
}

/** A running server with its health switch and graceful stop. */
export interface GrpcServer {
  port: number;
  server: Server;
  /** Marks the overall health ("") and every served service SERVING or NOT_SERVING. */
  setServing(serving: boolean): void;
  /**
   * Graceful stop: health NOT_SERVING first, wait `drainDelayMs` so load balancers and readiness probes notice
   * (new calls are still served meanwhile), then refuse new calls and let in-flight ones finish; after `graceMs`
   * the rest are cancelled.
   */
  stop(options?: StopOptions): Promise<{ forced: boolean }>;
}

/** How a server stops: health NOT_SERVING, a drain delay, then no new calls and a grace period for open ones. */
export interface StopOptions {
  drainDelayMs?: number;
  graceMs?: number;
  /**
   * Runs after the drain delay, before waiting for open calls: ends long-lived streams (which would otherwise hold
   * the shutdown until the grace period runs out), so their clients reconnect to another replica.
   */
  endStreams?: () => Promise<void>;
}

/**
 * Starts a grpc-js server with grpc.health.v1 and server reflection, bound to the given host and port; every unary
 * call of the served services is recorded in `rpc.server.call.duration` (see rpc-metrics.ts), and a request that does
 * not decode (checked against the descriptor sets' request types when given) is INVALID_ARGUMENT.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    interceptors: [refuseUndecodableRequests],
  });
  const registry = options.descriptorSets ? loadDescriptorSets(options.descriptorSets) : undefined;
  // Every unary method is timed (RED metrics); health and reflection, added below, are not. A request that does not
  // decode is INVALID_ARGUMENT before any handler runs (request-decoding.ts).
  for (const s of options.services) {
    server.addService(strictRequests(s.definition, registry), withRpcMetrics(s.name, s.definition, s.implementation));
  }

  const names = options.services.map((s) => s.name);
  const health = new HealthImplementation({
    '': 'NOT_SERVING',
    ...Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])),
  });
  health.addToServer(server);

  if (registry) {
    addReflection(server, {
      registry,
      services: [...names, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection'],
    });
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  const setServing = (serving: boolean) => {
    const value = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', value);
    for (const n of names) health.setStatus(n, value);
  };

  let stopping: Promise<{ forced: boolean }> | undefined;
  const stop = (opts: StopOptions = {}) => {
    stopping ??= (async () => {
      setServing(false);
      options.logger.info({ drainDelayMs: opts.drainDelayMs ?? 0 }, 'health NOT_SERVING; draining');
      if (opts.drainDelayMs) await new Promise((r) => setTimeout(r, opts.drainDelayMs));
      await opts.endStreams?.();
      return new Promise<{ forced: boolean }>((resolve) => {
        const timer = setTimeout(() => {
          options.logger.warn({ graceMs: opts.graceMs }, 'in-flight calls did not finish in time; cancelling them');
          server.forceShutdown();
          resolve({ forced: true });
        }, opts.graceMs ?? 20_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve({ forced: false });
        });
      });
    })();
    return stopping;
  };

  options.logger.info({ host: options.host, port, services: names }, 'gRPC server listening');
  return { port, server, setServing, stop };
}
