import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { InvalidParam } from './problem';
import type { JsonSchema, QueryParam } from './route';

/** The `$id` the OpenAPI document is registered under, so route schemas can `$ref` its components. */
const DOCUMENT_ID = 'https://o2o.dev/openapi.json';

/**
 * Validates request bodies and query strings against the same schemas the OpenAPI document publishes, so what is
 * documented is what is enforced. Errors name the field in the REST API's own terms (`lines[0].quantity`).
 */
export interface Validators {
  body(schema: JsonSchema): ValidateFunction;
  query(params: readonly QueryParam[]): ValidateFunction;
}

export function createValidators(openapi: Record<string, unknown>): Validators {
  const bodies = new Ajv2020({ allErrors: true, strict: false, validateFormats: true });
  addFormats(bodies);
  bodies.addSchema({ ...openapi, $id: DOCUMENT_ID });
  // Query strings are text: numbers and booleans are coerced, and a single value of a repeated one becomes a list.
  const queries = new Ajv2020({ allErrors: true, strict: false, coerceTypes: 'array', useDefaults: false });
  addFormats(queries);
  queries.addSchema({ ...openapi, $id: DOCUMENT_ID });

  const rebase = (schema: JsonSchema): JsonSchema =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${DOCUMENT_ID}#/components/`)) as JsonSchema;
  const cache = new Map<object, ValidateFunction>();
  const cached = (key: object, make: () => ValidateFunction) => {
    let fn = cache.get(key);
    if (!fn) {
      fn = make();
      cache.set(key, fn);
    }
    return fn;
  };
  return {
    body: (schema) => cached(schema, () => bodies.compile(rebase(schema))),
    query: (params) =>
      cached(params, () =>
        queries.compile(
          rebase({
            type: 'object',
            properties: Object.fromEntries(
              params.map((p) => [p.name, p.repeated ? { type: 'array', items: p.schema, maxItems: 100 } : p.schema]),
            ),
            required: params.filter((p) => p.required).map((p) => p.name),
            additionalProperties: false,
          }),
        ),
      ),
  };
}

/** `/lines/0/quantity` → `lines[0].quantity`. */
function fieldName(pointer: string, prefix: string): string {
  let out = prefix;
  for (const part of pointer.split('/').slice(1)) {
    const token = part.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(token) ? `[${token}]` : out === '' ? token : `.${token}`;
  }
  return out;
}

/** Ajv's errors as the fields at fault, one entry per field (the first reason wins), most specific first. */
export function invalidParams(errors: ErrorObject[] | null | undefined, prefix = ''): InvalidParam[] {
  const byField = new Map<string, string>();
  for (const e of errors ?? []) {
    let name = fieldName(e.instancePath, prefix);
    let reason = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      name = name === '' ? extra : `${name}.${extra}`;
      reason = 'unknown field';
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      name = name === '' ? missing : `${name}.${missing}`;
      reason = 'is required';
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      reason = `must be one of ${allowed.slice(0, 12).join(', ')}${allowed.length > 12 ? ', …' : ''}`;
    } else if (e.keyword === 'type') {
      reason = `must be ${(e.params as { type: string | string[] }).type.toString().replace(',', ' or ')}`;
    }
    if (name === '') name = prefix === '' ? '(body)' : prefix;
    if (!byField.has(name)) byField.set(name, reason);
  }
  return [...byField].map(([name, reason]) => ({ name, reason }));
}
