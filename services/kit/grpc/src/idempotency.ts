import { createHash } from 'node:crypto';

/**
 * A fingerprint of a request's content, to tell a repeat of an idempotency key (same content) from a reuse of the
 * key for something else. Object key order and undefined fields do not matter; dates count by their instant.
 */
export function requestFingerprint(content: unknown): string {
  return createHash('sha256').update(stableJson(content)).digest('base64url');
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
