import { PROBLEM_TYPE_BASE } from './http/problem';
import type { JsonSchema, Route } from './http/route';
import { schemaRef } from './rest/contract';

/** Statuses every authenticated route may answer. */
const COMMON_ERRORS = [400, 401, 403, 429, 500, 503];

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is not valid (the fields at fault are in `invalid_params`)',
  401: 'No valid API key or bearer token',
  403: 'The credential may not do this',
  404: 'Not found (or not yours)',
  409: 'Conflicts with the current state, or the Idempotency-Key was used for another request',
  413: 'The body is too large',
  415: 'The body is not JSON',
  429: 'Rate limit exceeded (see Retry-After)',
  500: 'Internal error',
  503: 'A service is temporarily unavailable; retry',
  504: 'A service did not answer in time',
};

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'An RFC 9457 problem document.',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri', description: `Problem type, under ${PROBLEM_TYPE_BASE}.` },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The request id (also in the X-Request-Id header).' },
    grpc_status: { type: 'string', description: 'The gRPC status the error came from, if a service answered.' },
    invalid_params: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'reason'],
        properties: { name: { type: 'string' }, reason: { type: 'string' } },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

const problemResponse = (status: number) => ({
  description: ERROR_TEXT[status] ?? 'Error',
  content: { 'application/problem+json': { schema: schemaRef('Problem') } },
});

/**
 * The OpenAPI 3.1 document of the gateway, generated from its route table and the proto descriptors (message
 * schemas per the proto3 JSON mapping). docs/openapi.json is this document; a test fails when they differ.
 */
export function buildOpenApi(routes: readonly Route[], schemas: Record<string, JsonSchema>, version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of [...routes].sort((a, b) => a.path.localeCompare(b.path))) {
    const pathParams = [...route.path.matchAll(/\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]);
    const parameters: unknown[] = [
      ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string', minLength: 1 } })),
      ...(route.query ?? []).map((q) => ({
        name: q.name,
        in: 'query',
        description: q.description,
        required: q.required ?? false,
        ...(q.repeated
          ? { schema: { type: 'array', items: q.schema }, style: 'form', explode: true }
          : { schema: q.schema }),
      })),
      ...(route.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: true,
              description:
                'Any unique string (1..128 visible ASCII characters) per intended operation. A retry with the same ' +
                'key answers what the first request did; the same key with a different body is refused with 409.',
              schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
            },
          ]
        : []),
    ];
    const success = route.success.eventStream
      ? {
          description: route.success.description,
          content: { 'text/event-stream': { schema: { type: 'string' }, 'x-o2o-event-schema': route.success.schema } },
        }
      : route.success.schema
        ? { description: route.success.description, content: { 'application/json': { schema: route.success.schema } } }
        : { description: route.success.description };
    const errors = [
      ...new Set([...COMMON_ERRORS, ...(route.errors ?? []), ...(route.requestBody ? [413, 415] : [])]),
    ].sort((a, b) => a - b);
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      'x-o2o-roles': route.roles,
      security: [{ apiKey: route.scopes }, { bearer: route.scopes }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.requestBody
        ? { requestBody: { required: true, content: { 'application/json': { schema: route.requestBody } } } }
        : {}),
      responses: {
        [String(route.success.status)]: success,
        ...Object.fromEntries(errors.map((s) => [String(s), problemResponse(s)])),
      },
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  const sortedSchemas = Object.fromEntries(
    Object.entries({ ...schemas, Problem: PROBLEM_SCHEMA }).sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'o2o REST API',
      version,
      description:
        'One order lifecycle for online and offline retail. JSON follows the proto3 JSON mapping of the o2o gRPC ' +
        'contract (lowerCamelCase fields, enums by name, 64-bit integers as strings, times in RFC 3339 UTC; ' +
        'money is integer minor units with a currency). Errors are application/problem+json. See docs/gateway.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'Local run (scripts/run-local.sh)' }],
    tags: [...new Set(routes.map((r) => r.tag))].sort().map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
      schemas: sortedSchemas,
    },
  };
}
