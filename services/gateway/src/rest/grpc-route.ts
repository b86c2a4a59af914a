import { createHash } from 'node:crypto';
import type { DescField, DescMessage, DescMethod, JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { Principal, Role } from '@o2o/kit-grpc';
import { isServiceError, problemFromGrpc } from '../http/grpc-errors';
import { HttpProblem } from '../http/problem';
import type { JsonSchema, QueryParam, RequestContext, Route } from '../http/route';
import { commentOf, type Contract, isStringMessage, type SchemaBuilder } from './contract';
import type { GrpcGateway } from './grpc-call';

/** A query parameter bound to a (possibly nested) request field, e.g. `pageSize` → `page.pageSize`. */
export interface QueryBinding {
  name: string;
  /** Dotted JSON path into the request; defaults to the name. */
  field?: string;
  description?: string;
  required?: boolean;
  /** Narrows the field's schema (e.g. a page size's range). */
  schema?: JsonSchema;
}

/** What a route may do around the call: fill in or check the request, check or reshape the answer. */
export interface RouteHooks {
  /** Runs after the request is built, before the call: enforce ownership, set defaults. Throw HttpProblem. */
  before?(request: JsonObject, ctx: RequestContext): Promise<void> | void;
  /** Checks the answer (e.g. that the order returned is the caller's); throw HttpProblem to refuse it. */
  after?(response: JsonObject, ctx: RequestContext): Promise<void> | void;
}

/** One REST operation backed by one unary RPC. */
export interface GrpcRouteSpec extends RouteHooks {
  method: Route['method'];
  path: string;
  summary: string;
  description?: string;
  tag: string;
  roles: readonly Role[];
  scopes: readonly string[];
  /** `<package>.<Service>/<Method>`, e.g. `o2o.orders.v1.OrdersService/GetOrder`. */
  rpc: string;
  operationId?: string;
  /** Path parameters bound to request fields when the names differ (`{orderId}` binds `orderId` by default). */
  pathFields?: Record<string, string>;
  query?: readonly QueryBinding[];
  /** The request (minus path, query and idempotency fields) is the JSON body. */
  body?: boolean;
  /** Requires `Idempotency-Key`, which becomes the request's `requestId` (namespaced per caller). */
  idempotent?: boolean;
  successStatus?: number;
  errors?: readonly number[];
}

/**
 * The request id a service sees for a client's Idempotency-Key: namespaced by the caller, so two clients that pick
 * the same key never see each other's answers.
 */
export function namespacedRequestId(principal: Principal, key: string): string {
  const digest = createHash('sha256').update(`${principal.role}\0${principal.subject}\0${key}`).digest('base64url');
  return `rest-${digest.slice(0, 40)}`;
}

function fieldAt(message: DescMessage, path: string): DescField {
  let current: DescMessage = message;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i += 1) {
    const field = current.fields.find((f) => f.jsonName === parts[i]);
    if (!field) throw new Error(`${message.typeName} has no field ${path}`);
    if (i === parts.length - 1) return field;
    if (field.fieldKind !== 'message') throw new Error(`${message.typeName}.${path} crosses a non-message field`);
    current = field.message;
  }
  throw new Error('empty field path');
}

function setAt(target: JsonObject, path: string, value: JsonValue): void {
  const parts = path.split('.');
  const last = parts.pop() ?? '';
  let current = target;
  for (const part of parts) {
    const next = current[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) current[part] = {};
    current = current[part] as JsonObject;
  }
  current[last] = value;
}

/** The schema of one field for a query parameter (scalars and enums; repeated ones become repeatable). */
function querySchema(schemas: SchemaBuilder, field: DescField): { schema: JsonSchema; repeated: boolean } {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  const stringMessage = field.fieldKind === 'message' && isStringMessage(field.message.typeName);
  if ((kind === 'message' && !stringMessage) || field.fieldKind === 'map')
    throw new Error(`${field.name} cannot be a query parameter`);
  // Build the single-field schema through the message schema builder so enums land in components.
  const one = schemas.message(
    field.parent,
    field.parent.fields.filter((f) => f !== field).map((f) => f.jsonName),
  );
  const properties = one.properties as Record<string, JsonSchema>;
  const schema = properties[field.jsonName] ?? {};
  if (field.fieldKind === 'list') return { schema: (schema as { items: JsonSchema }).items, repeated: true };
  return { schema, repeated: false };
}

/** Builds the Route for a spec: the request/response schemas come from the RPC's messages in the contract. */
export function grpcRoute(
  spec: GrpcRouteSpec,
  deps: { contract: Contract; grpc: GrpcGateway; schemas: SchemaBuilder; deadlineMs: number },
): Route {
  const [serviceName = '', methodName = ''] = spec.rpc.split('/');
  const method: DescMethod = deps.contract.method(serviceName, methodName);
  const input = method.input;
  const pathParams = [...spec.path.matchAll(/\{([A-Za-z0-9]+)\}/g)].map((m) => m[1] ?? '');
  const pathBindings = pathParams.map((p) => ({ param: p, field: spec.pathFields?.[p] ?? p }));
  for (const b of pathBindings) fieldAt(input, b.field);
  const queryBindings = (spec.query ?? []).map((q) => ({ ...q, field: q.field ?? q.name }));
  const query: QueryParam[] = queryBindings.map((q) => {
    const field = fieldAt(input, q.field);
    const { schema, repeated } = querySchema(deps.schemas, field);
    return {
      name: q.name,
      description: q.description ?? commentOf(field) ?? field.name,
      schema: q.schema ?? schema,
      ...(repeated ? { repeated } : {}),
      ...(q.required ? { required: true } : {}),
    };
  });
  // Fields bound elsewhere are not part of the body.
  const bound = [
    ...pathBindings.map((b) => b.field.split('.')[0] ?? ''),
    ...queryBindings.map((q) => q.field.split('.')[0] ?? ''),
    ...(spec.idempotent ? ['requestId'] : []),
  ];
  const requestBody = spec.body ? deps.schemas.message(input, bound) : undefined;
  const responseSchema = deps.schemas.message(method.output);
  // A service names fields of its request; the client knows them as path, query and header names.
  const renames = new Map<string, string>([
    ...pathBindings.map((b): [string, string] => [b.field, b.param]),
    ...queryBindings.map((q): [string, string] => [q.field, q.name]),
    ...(spec.idempotent ? [['requestId', 'Idempotency-Key'] as [string, string]] : []),
  ]);
  const restName = (field: string): string => {
    for (const [from, to] of renames) {
      if (field === from) return to;
      if (field.startsWith(`${from}[`) || field.startsWith(`${from}.`)) return to + field.slice(from.length);
    }
    return field;
  };

  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId ?? lowerFirst(methodName),
    summary: spec.summary,
    description: spec.description ?? commentOf(method),
    tag: spec.tag,
    roles: spec.roles,
    scopes: spec.scopes,
    query,
    ...(requestBody ? { requestBody } : {}),
    ...(spec.idempotent ? { idempotent: true } : {}),
    success: { status: spec.successStatus ?? 200, description: method.output.name, schema: responseSchema },
    errors: spec.errors,
    async handle(ctx) {
      const request: JsonObject = spec.body ? { ...(ctx.body as JsonObject) } : {};
      for (const b of pathBindings) setAt(request, b.field, ctx.params[b.param] ?? '');
      for (const q of queryBindings) {
        const value = ctx.query[q.name];
        if (value !== undefined) setAt(request, q.field, value as JsonValue);
      }
      if (spec.idempotent && ctx.idempotencyKey) {
        request.requestId = namespacedRequestId(ctx.principal, ctx.idempotencyKey);
      }
      await spec.before?.(request, ctx);
      let response: JsonObject;
      try {
        response = (await deps.grpc.unary(method, request, {
          metadata: ctx.metadata,
          deadlineMs: deps.deadlineMs,
          signal: ctx.signal,
        })) as JsonObject;
      } catch (error) {
        throw isServiceError(error) ? problemFromGrpc(error, restName) : error;
      }
      await spec.after?.(response, ctx);
      return { status: spec.successStatus ?? 200, body: response };
    },
  };
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** Refuses with 403 unless the check holds (ownership the gateway can decide from the request alone). */
export function require403(ok: boolean, detail: string): void {
  if (!ok) throw new HttpProblem(403, detail);
}
