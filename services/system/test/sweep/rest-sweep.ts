// The REST half of the bad-input sweep: every operation of the gateway's own OpenAPI document, with bodies, path
// parameters and query parameters that the document says are wrong, derived from its schemas.
import { randomUUID } from 'node:crypto';

/** The parts of an OpenAPI 3.1 document the sweep reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation | Parameter[]>>;
  components?: { schemas?: Record<string, Schema> };
}
interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  security?: Record<string, string[]>[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Schema;
}
/** A JSON Schema, loosely: the keywords the sweep derives wrong values from. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  maxLength?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** One operation of the document. */
export interface RestOperation {
  method: string;
  /** The template, e.g. /v1/orders/{orderId}. */
  path: string;
  pathParams: string[];
  query: Parameter[];
  body?: Schema;
  /** Whether the operation takes an Idempotency-Key header. */
  idempotencyKey: boolean;
  secured: boolean;
}

/** One request of the sweep and what it must be answered with. */
export interface RestCase {
  op: RestOperation;
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The exact status the case must get, when the contract names one (413, 415, 401); any 4xx otherwise. */
  expect?: number;
}

/** Every operation (path × method) of the document. */
export function operationsOf(doc: OpenApiDocument): RestOperation[] {
  const ops: RestOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      const params = [...shared, ...(op.parameters ?? [])];
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? ''),
        query: params.filter((p) => p.in === 'query'),
        body: op.requestBody?.content?.['application/json']?.schema,
        idempotencyKey: params.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'),
        secured: (op.security ?? []).length > 0,
      });
    }
  }
  return ops;
}

/** The number of operations in the document, counted independently of {@link operationsOf}. */
export function countOperations(doc: OpenApiDocument): number {
  return Object.values(doc.paths).reduce(
    (n, item) => n + Object.keys(item).filter((k) => (METHODS as readonly string[]).includes(k)).length,
    0,
  );
}

/** Garbage for a path parameter: a 300-character id, a NUL byte, non-ASCII text, and bytes that are not UTF-8. */
const PATH_GARBAGE: [string, string][] = [
  ['a 300-character id', 'x'.repeat(300)],
  ['a NUL byte', '%00'],
  ['unicode', encodeURIComponent('茶🍵\u202e')],
  ['percent-encoded bytes that are not UTF-8', '%C3%28'],
];
/** About 2 MB: over the gateway's body limit. */
const HUGE = 2 * 1024 * 1024 + 1;

/** Every case for one operation, with real ids (`ids`, by parameter name) wherever a parameter is not the target. */
export function restCases(
  op: RestOperation,
  options: { baseUrl: string; key: string; ids: Record<string, string>; schemas: Record<string, Schema> },
): RestCase[] {
  const idOf = (name: string) => encodeURIComponent(options.ids[name] ?? `sweep-missing-${name}`);
  const urlWith = (overrides: Record<string, string> = {}, query = '') =>
    options.baseUrl +
    op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => overrides[name] ?? idOf(name)) +
    (query ? `?${query}` : '');
  const mutation = op.method !== 'GET';
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    'x-api-key': options.key,
    accept: 'application/json',
    // A fresh key per case: a replay of an earlier answer must not be what answers.
    ...(mutation ? { 'idempotency-key': `sweep-${randomUUID()}` } : {}),
    ...extra,
  });
  const json = (body: string | Buffer, contentType = 'application/json') => ({
    body,
    headers: headers({ 'content-type': contentType }),
  });
  const cases: RestCase[] = [];
  const add = (
    name: string,
    init: { url?: string; headers?: Record<string, string>; body?: string | Buffer; expect?: number },
  ) =>
    cases.push({
      op,
      name,
      method: op.method,
      url: init.url ?? urlWith(),
      headers: init.headers ?? headers(),
      body: init.body,
      expect: init.expect,
    });

  if (op.body) {
    add('malformed JSON', json('{"a": '));
    add('a JSON array', json('[]'));
    add('a JSON string', json('"hello"'));
    const schema = resolve(op.body, options.schemas);
    const properties = Object.entries(schema.properties ?? {});
    for (const [name, property] of properties) {
      const value = wrongValue(resolve(property, options.schemas));
      add(`${name} of the wrong type`, json(JSON.stringify({ [name]: value })));
      add(`${name} null`, json(JSON.stringify({ [name]: null })));
    }
    const text = properties.find(([, p]) => typesOf(resolve(p, options.schemas)).includes('string'));
    if (text) {
      // JSON text must be UTF-8 (RFC 8259): C3 28 is not, and must not become U+FFFD on the way in.
      const bytes = Buffer.concat([Buffer.from(`{"${text[0]}": "`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      add(`invalid UTF-8 in ${text[0]}`, json(bytes));
      // Long, but within the gateway's 64 KiB body limit: what a service quotes back must still fit its trailers.
      add(`a 60 kB ${text[0]}`, json(JSON.stringify({ [text[0]]: 'x'.repeat(60_000) })));
    }
    add('an unknown property', json(JSON.stringify({ sweepUnknownProperty: true })));
    add('JSON nested 10,000 deep', json(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`));
    add('a 2 MB body', { ...json(Buffer.alloc(HUGE, 0x20)), expect: 413 });
    add('a wrong content type', { ...json('{}', 'text/plain'), expect: 415 });
  }
  for (const param of op.pathParams) {
    for (const [what, value] of PATH_GARBAGE) {
      add(`${what} as ${param}`, { url: urlWith({ [param]: value }), ...(op.body ? json('{}') : {}) });
    }
  }
  for (const param of op.query) {
    const value = wrongQueryValue(resolve(param.schema ?? {}, options.schemas));
    // Free text takes any string, but not bytes that are not UTF-8.
    const encoded = value === undefined ? '%C3%28' : encodeURIComponent(value);
    add(`${param.name}=${encoded.slice(0, 20)}`, { url: urlWith({}, `${encodeURIComponent(param.name)}=${encoded}`) });
  }
  add('an unknown query parameter', { url: urlWith({}, 'sweepUnknown=1'), ...(op.body ? json('{}') : {}) });
  if (op.idempotencyKey) {
    // The header's pattern is 1..128 printable ASCII characters.
    add('an Idempotency-Key of 200 characters', {
      headers: headers({ 'idempotency-key': 'k'.repeat(200), 'content-type': 'application/json' }),
      body: '{}',
    });
  }
  if (op.secured) {
    const anonymous = headers();
    delete anonymous['x-api-key'];
    add('no credential', { headers: anonymous, ...(op.body ? { body: '{}' } : {}), expect: 401 });
  }
  return cases;
}

/** The schema a $ref points at (components/schemas only), or the schema itself. */
export function resolve(schema: Schema, schemas: Record<string, Schema>): Schema {
  let current = schema;
  for (let hops = 0; current.$ref && hops < 10; hops++) {
    const name = current.$ref.replace('#/components/schemas/', '');
    current = { ...schemas[name], ...current, $ref: schemas[name]?.$ref };
  }
  return current;
}

function typesOf(schema: Schema): string[] {
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const alternatives = [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].flatMap(typesOf);
  return [...own, ...alternatives];
}

/** A JSON value the schema refuses: string→number, number→object, array→string, enum→"NOT_A_VALUE". */
export function wrongValue(schema: Schema): unknown {
  if (schema.enum) return 'NOT_A_VALUE';
  const types = new Set(typesOf(schema));
  const candidates: [string, unknown][] = [
    ['string', 12345],
    ['integer', { sweep: 1 }],
    ['number', { sweep: 1 }],
    ['boolean', 'yes'],
    ['array', 'not-an-array'],
    ['object', 'not-an-object'],
  ];
  const primary = candidates.find(([type]) => types.has(type));
  if (primary && !accepts(types, primary[1])) return primary[1];
  // Several types allowed (an int64 is a string or an integer): the first value none of them takes.
  const fallback: unknown[] = [{ sweep: 1 }, ['sweep'], true, 12.5, 'NOT_A_VALUE'];
  return fallback.find((v) => !accepts(types, v)) ?? null;
}

/** Whether a value's JSON type is one of the schema's types (an integral number is also an "integer"). */
function accepts(types: Set<string>, value: unknown): boolean {
  const type = jsonType(value);
  return types.has(type) || (type === 'number' && Number.isInteger(value) && types.has('integer'));
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'number' ? 'number' : typeof value;
}

/** A query value the parameter's schema refuses, or undefined for a free-text string (any text is right for it). */
export function wrongQueryValue(schema: Schema): string | undefined {
  const item = schema.type === 'array' && schema.items ? schema.items : schema;
  if (item.enum) return 'NOT_A_VALUE';
  const types = typesOf(item);
  if (types.includes('integer') || types.includes('number')) return 'not-a-number';
  if (types.includes('boolean')) return 'maybe';
  if (item.format === 'date-time') return 'yesterday';
  if (item.pattern) return '!!!';
  if (item.maxLength !== undefined) return 'x'.repeat(item.maxLength + 1);
  return undefined;
}

/** How the gateway answered a case. */
export interface RestOutcome {
  case: RestCase;
  status: number;
  contentType: string;
  /** The problem's title/detail, or the start of a non-problem body, or the transport error. */
  summary: string;
}

/** Sends one case; resolves with the answer or the transport failure (status 0). */
export async function send(c: RestCase, timeoutMs: number): Promise<RestOutcome> {
  try {
    const res = await fetch(c.url, {
      method: c.method,
      headers: c.headers,
      body: c.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let summary = text.slice(0, 200);
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string };
      summary = [problem.title, problem.detail].filter(Boolean).join(': ') || summary;
    } catch {
      // not JSON: the text is the summary
    }
    return { case: c, status: res.status, contentType: res.headers.get('content-type') ?? '', summary };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      case: c,
      status: 0,
      contentType: '',
      summary: `${(error as Error).name}: ${cause ?? (error as Error).message}`,
    };
  }
}

/** Why an answer is a failure, or undefined when it is an acceptable one. */
export function restFailure(o: RestOutcome): string | undefined {
  if (o.status === 0) return `no answer (${o.summary})`;
  if (o.status >= 500) return `${o.status}: a server error`;
  if (o.status < 400) return `${o.status}: accepted bad input`;
  if (!o.contentType.startsWith('application/problem+json'))
    return `${o.status} with content-type "${o.contentType}", not a problem`;
  if (o.case.expect !== undefined && o.status !== o.case.expect) return `${o.status}, expected ${o.case.expect}`;
  return undefined;
}
