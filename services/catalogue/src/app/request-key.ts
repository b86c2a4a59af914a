import { createHash } from 'node:crypto';
import { CatalogueError } from '../domain/errors';
import type { RequestKey } from './ports';

const MAX_REQUEST_ID = 128;

/** Checks the client's idempotency key and hashes the request's content (key order does not matter). */
export function requestKey(requestId: string, content: unknown): RequestKey {
  if (requestId.length === 0 || requestId.length > MAX_REQUEST_ID) {
    throw CatalogueError.invalid([{ field: 'request_id', description: `must be 1..${MAX_REQUEST_ID} characters` }]);
  }
  return { requestId, requestHash: createHash('sha256').update(stableJson(content)).digest('base64url') };
}

/** The error for a key used again with different content. */
export function keyReused(requestId: string): CatalogueError {
  return CatalogueError.invalid([
    { field: 'request_id', description: `"${requestId}" was already used for a different request` },
  ]);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
