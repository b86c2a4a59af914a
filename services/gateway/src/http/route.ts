import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Metadata } from '@grpc/grpc-js';
import type { Principal, Role } from '@o2o/kit-grpc';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses); `$ref`s point at `#/components/schemas/<name>`. */
export type JsonSchema = Record<string, unknown>;

/** A query parameter a route accepts (documented in OpenAPI and checked before the handler runs). */
export interface QueryParam {
  name: string;
  description: string;
  schema: JsonSchema;
  required?: boolean;
  /** Repeatable: `?status=A&status=B` arrives as an array. */
  repeated?: boolean;
}

/** What a handler gets: the authenticated caller and the already validated input. */
export interface RequestContext {
  principal: Principal;
  /** gRPC metadata carrying the principal and the trace context, for calls to the services. */
  metadata: Metadata;
  /** Path parameters by name (`/v1/orders/{orderId}` → `orderId`). */
  params: Record<string, string>;
  /** Query parameters after validation: strings, numbers, booleans, or arrays of them for repeated ones. */
  query: Record<string, unknown>;
  /** The parsed JSON body, validated against the route's request schema (undefined without one). */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** The validated `Idempotency-Key` header (routes with `idempotent: true` require it). */
  idempotencyKey?: string;
  /** Aborted when the client goes away or the request's deadline passes. */
  signal: AbortSignal;
  /** Raw response, for streaming routes (server-sent events) only. */
  response: ServerResponse;
}

/** A JSON answer; `undefined` body means 204. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * One REST operation. The route table is the single source of the gateway's routing, its authorization and its
 * OpenAPI document: docs/openapi.json is generated from it (and from the proto descriptors it references).
 */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** OpenAPI-style path template, e.g. `/v1/orders/{orderId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles that may call it at all (ownership is checked further by the handler and the service). */
  roles: readonly Role[];
  /** Scopes the credential must hold, all of them. */
  scopes: readonly string[];
  query?: readonly QueryParam[];
  /** Schema of the JSON body; routes without one refuse a body. */
  requestBody?: JsonSchema;
  /** Requires an `Idempotency-Key` header (mutations). */
  idempotent?: boolean;
  /** Success status and the schema of its JSON body (or `text/event-stream` for streaming routes). */
  success: { status: number; description: string; schema?: JsonSchema; eventStream?: boolean };
  /** Error statuses this route may answer besides the common ones (400, 401, 403, 429, 500, 503). */
  errors?: readonly number[];
  handle(ctx: RequestContext): Promise<Reply | void>;
}
