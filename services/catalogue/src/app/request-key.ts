import { requestFingerprint } from '@o2o/kit-grpc';
import { CatalogueError } from '../domain/errors';
import type { RequestKey } from './ports';

const MAX_REQUEST_ID = 128;

/** Checks the client's idempotency key and hashes the request's content (key order does not matter). */
export function requestKey(requestId: string, content: unknown): RequestKey {
  if (requestId.length === 0 || requestId.length > MAX_REQUEST_ID) {
    throw CatalogueError.invalid([{ field: 'request_id', description: `must be 1..${MAX_REQUEST_ID} characters` }]);
  }
  return { requestId, requestHash: requestFingerprint(content) };
}

/** The error for a key used again with different content. */
export function keyReused(requestId: string): CatalogueError {
  return CatalogueError.invalid([
    { field: 'request_id', description: `"${requestId}" was already used for a different request` },
  ]);
}
