import { Client, type ClientReadableStream, type Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  type DescMethod,
  fromBinary,
  fromJson,
  type JsonObject,
  type JsonValue,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { channelCredentials, channelOptions } from '@o2o/kit-grpc';
import { HttpProblem } from '../http/problem';
import type { Contract } from './contract';

/** The service each gRPC package lives in, and where it is. */
export type ServiceAddresses = Record<string, string>;

/** Responses are written with every field, defaults included, so clients always see the same shape. */
const JSON_WRITE = { alwaysEmitImplicit: true } as const;

/**
 * Calls the services with JSON in and JSON out, through the descriptors: the request is parsed per the proto3 JSON
 * mapping and sent as protobuf; the answer is turned back into JSON. One channel per service, shared by all calls.
 */
export interface GrpcGateway {
  unary(method: DescMethod, request: JsonValue, options: CallOptions): Promise<JsonValue>;
  /** A server-streaming call; every message arrives as JSON. Cancel it with the signal. */
  serverStream(
    method: DescMethod,
    request: JsonValue,
    options: CallOptions,
    onMessage: (m: JsonValue) => void,
  ): Promise<void>;
  close(): void;
}

export interface CallOptions {
  metadata: Metadata;
  deadlineMs: number;
  signal?: AbortSignal;
}

export function grpcGateway(contract: Contract, addresses: ServiceAddresses): GrpcGateway {
  const clients = new Map<string, Client>();
  const clientFor = (method: DescMethod): Client => {
    const service = method.parent.typeName;
    let client = clients.get(service);
    if (!client) {
      const address = addresses[service];
      if (!address) throw new Error(`no address configured for ${service}`);
      client = new Client(address, channelCredentials(), channelOptions());
      clients.set(service, client);
    }
    return client;
  };
  const path = (method: DescMethod) => `/${method.parent.typeName}/${method.name}`;
  const encode = (method: DescMethod, request: JsonValue): Buffer => {
    try {
      return Buffer.from(toBinary(method.input, fromJson(method.input, request)));
    } catch (error) {
      // What the schema check cannot see (e.g. a 64-bit integer out of range) is still the client's error.
      throw HttpProblem.invalid('the request does not fit the operation', [
        { name: '(body)', reason: error instanceof Error ? error.message : String(error) },
      ]);
    }
  };
  const decode = (method: DescMethod) => (bytes: Buffer) =>
    toJson(method.output, fromBinary(method.output, bytes), JSON_WRITE) as JsonObject;

  return {
    unary(method, request, options) {
      const bytes = encode(method, request);
      return new Promise((resolve, reject) => {
        const call = clientFor(method).makeUnaryRequest(
          path(method),
          (b: Buffer) => b,
          decode(method),
          bytes,
          options.metadata,
          { deadline: Date.now() + options.deadlineMs },
          (error: ServiceError | null, response?: JsonValue) => (error ? reject(error) : resolve(response ?? {})),
        );
        options.signal?.addEventListener('abort', () => call.cancel(), { once: true });
      });
    },
    serverStream(method, request, options, onMessage) {
      const bytes = encode(method, request);
      return new Promise((resolve, reject) => {
        const stream: ClientReadableStream<JsonValue> = clientFor(method).makeServerStreamRequest(
          path(method),
          (b: Buffer) => b,
          decode(method),
          bytes,
          options.metadata,
          options.deadlineMs > 0 ? { deadline: Date.now() + options.deadlineMs } : {},
        );
        const abort = () => stream.cancel();
        options.signal?.addEventListener('abort', abort, { once: true });
        stream.on('data', onMessage);
        stream.on('error', (error: ServiceError) => {
          options.signal?.removeEventListener('abort', abort);
          reject(error);
        });
        stream.on('end', () => {
          options.signal?.removeEventListener('abort', abort);
          resolve();
        });
      });
    },
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
