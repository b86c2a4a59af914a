import { createHash } from 'node:crypto';

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
