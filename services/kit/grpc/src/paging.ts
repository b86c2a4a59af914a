import { createHash } from 'node:crypto';
import type { FieldViolation } from './rich-status';

/** The decoded content of an opaque page token: where the previous page stopped, and a hash of its filters. */
export interface PageCursor {
  after: string;
  filterHash: string;
}

/** Opaque cursor tokens (base64url JSON) bound to the filters they were issued for. */
export const pageToken = {
  /** Hash of a request's filters, so a token used with other filters is detected. */
  filterHash(filters: unknown): string {
    return createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
  },
  encode(cursor: PageCursor): string {
    return Buffer.from(JSON.stringify(cursor)).toString('base64url');
  },
  /** The cursor, or undefined when the token is malformed. */
  decode(token: string): PageCursor | undefined {
    try {
      const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (
        typeof value === 'object' &&
        value !== null &&
        typeof (value as PageCursor).after === 'string' &&
        typeof (value as PageCursor).filterHash === 'string'
      ) {
        return value as PageCursor;
      }
    } catch {
      // fall through: malformed
    }
    return undefined;
  },
};

/** The page sizes every list RPC accepts (o2o.common.v1.PageRequest: 0 means the default). */
export const PAGE_SIZES = { default: 50, max: 200 } as const;

/**
 * Reads a PageRequest for a list bound to `filters`: the size and where to start, plus the field violations that
 * refuse it (a size out of range; a token that is malformed or was issued for other filters).
 */
export function readPageRequest(
  page: { pageSize: number; pageToken: string } | undefined,
  filters: unknown,
): { size: number; after?: string; violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  const requested = page?.pageSize ?? 0;
  let size: number = PAGE_SIZES.default;
  if (requested !== 0) {
    if (Number.isInteger(requested) && requested >= 1 && requested <= PAGE_SIZES.max) size = requested;
    else {
      violations.push({
        field: 'page.page_size',
        description: `must be 1..${PAGE_SIZES.max} (0 for ${PAGE_SIZES.default})`,
      });
    }
  }
  if (!page?.pageToken) return { size, violations };
  const cursor = pageToken.decode(page.pageToken);
  if (!cursor || cursor.filterHash !== pageToken.filterHash(filters)) {
    violations.push({
      field: 'page.page_token',
      description: 'is not a token this call returned for the same filters',
    });
    return { size, violations };
  }
  return { size, after: cursor.after, violations };
}

/** The PageResponse of a list that stopped `after` (undefined at the end), bound to the same filters. */
export function pageResponse(after: string | undefined, filters: unknown): { nextPageToken: string } {
  return { nextPageToken: after ? pageToken.encode({ after, filterHash: pageToken.filterHash(filters) }) : '' };
}
