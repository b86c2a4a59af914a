import {
  type ChannelCredentials,
  type Client,
  credentials,
  type Metadata,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';

type Unary<D> = D extends {
  requestSerialize: (value: infer Req) => Buffer;
  responseDeserialize: (bytes: Buffer) => infer Res;
}
  ? (request: Req, options?: { metadata?: Metadata; deadlineMs?: number }) => Promise<Res>
  : never;

/** A promise-returning view of a generated grpc-js client: one async method per unary RPC. */
export type AsyncClient<S extends ServiceDefinition> = { [K in keyof S]: Unary<S[K]> };

/** Wraps a ts-proto grpc-js client so each unary RPC returns a promise (rejected with the ServiceError). */
export function asyncClient<S extends ServiceDefinition>(client: Client, definition: S): AsyncClient<S> {
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.keys(definition)) {
    const method = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
    if (typeof method !== 'function') continue;
    wrapped[name] = (request: unknown, options: { metadata?: Metadata; deadlineMs?: number } = {}) =>
      new Promise((resolve, reject) => {
        const callback = (error: ServiceError | null, response: unknown) => (error ? reject(error) : resolve(response));
        const callOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
        if (options.metadata) method.call(client, request, options.metadata, callOptions, callback);
        else method.call(client, request, callOptions, callback);
      });
  }
  return wrapped as AsyncClient<S>;
}

/** Plain-text credentials: the services talk inside the cluster network, as every service serves today. */
export function channelCredentials(): ChannelCredentials {
  return credentials.createInsecure();
}

/**
 * Channel options for a dependency: round robin over every address the name resolves to, so a `dns:///` target
 * naming a headless Service spreads calls across its pods (a plain Service name resolves to one virtual IP).
 */
export function channelOptions(): Record<string, string> {
  return { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) };
}
