// Cursor pages of newest-first lists: the opaque token (kit-grpc's, bound to the list's filters) holds the last
// item's time and id, so a page never skips or repeats items when new ones arrive.
import { pageToken } from '@o2o/kit-grpc';
import type { ListCursor } from './ports';
import type { Violations } from './validation';

/** The cursor in a token, or a violation naming `pageToken` when it is malformed or was issued for other filters. */
export function readCursor(token: string | undefined, filters: unknown, v: Violations): ListCursor | undefined {
  if (!token) return undefined;
  const cursor = pageToken.decode(token);
  const colon = cursor?.after.indexOf(':') ?? -1;
  if (!cursor || cursor.filterHash !== pageToken.filterHash(filters) || colon < 1) {
    return void v.add('pageToken', 'is not a token this list returned for the same filters');
  }
  const time = new Date(Number(cursor.after.slice(0, colon)));
  if (Number.isNaN(time.getTime())) return void v.add('pageToken', 'is not a token this list returned');
  return { time, id: cursor.after.slice(colon + 1) };
}

/** The page (at most `size` of the `size + 1` items read) and the token of the next one ('' at the end). */
export function pageOf<T>(
  found: T[],
  size: number,
  filters: unknown,
  cursorOf: (item: T) => ListCursor,
): { items: T[]; nextPageToken: string } {
  const items = found.slice(0, size);
  const last = items[items.length - 1];
  if (found.length <= size || !last) return { items, nextPageToken: '' };
  const { time, id } = cursorOf(last);
  return {
    items,
    nextPageToken: pageToken.encode({ after: `${time.getTime()}:${id}`, filterHash: pageToken.filterHash(filters) }),
  };
}
