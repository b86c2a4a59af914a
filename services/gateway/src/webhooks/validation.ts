// Validation of every webhook request, the authority behind the HTTP layer's schema check: each problem is reported
// with the field it is about (`url`, `eventTypes[1]`, `filters.storeIds[0]`), all of them at once, before anything is
// written. The readers return the normalised values to use.
import { BlockList, isIP } from 'node:net';
import type { Principal } from '@o2o/kit-grpc';
import type { InvalidParam } from '../http/problem';
import type { EventCatalog } from './event-catalog';
import { DELIVERY_STATUSES, type DeliveryStatus, SUBSCRIPTION_STATUSES, type SubscriptionFilters } from './model';

/** Limits of the webhook API. */
export const LIMITS = {
  urlLength: 2_048,
  eventTypes: 64,
  filterValues: 100,
  idLength: 128,
  descriptionLength: 500,
  pageSizeDefault: 50,
  pageSizeMax: 100,
  maxOverlapSeconds: 7 * 86_400,
  defaultOverlapSeconds: 86_400,
} as const;

/** Collects field problems. */
export class Violations {
  readonly list: InvalidParam[] = [];
  add(name: string, reason: string): void {
    this.list.push({ name, reason });
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reports fields the request does not define (a typo must not be silently ignored). */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[], v: Violations, at = ''): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) v.add(at + key, 'is not a field of this request');
}

/** The body as an object, or a violation naming `body`. */
export function readBody(body: unknown, v: Violations): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (isObject(body)) return body;
  v.add('body', 'must be a JSON object');
  return {};
}

// Addresses a webhook must not target unless allowed (tests, a private deployment): loopback, private, link-local
// (cloud metadata), CGNAT, unspecified, unique-local. A host name can still resolve to one of them: the egress
// network policy is the real fence; this refuses the obvious cases early with a clear answer.
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
PRIVATE.addAddress('::', 'ipv6');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 4) return PRIVATE.check(host, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    return mapped?.[1] ? PRIVATE.check(mapped[1], 'ipv4') : PRIVATE.check(host, 'ipv6');
  }
  return false;
}

/** The endpoint URL, normalised: absolute http(s), at most 2048 characters, no credentials, no fragment. */
export function readUrl(value: unknown, v: Violations, options: { allowPrivate: boolean }): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return void v.add('url', 'is required: an absolute http(s) URL');
  if (value.length > LIMITS.urlLength) return void v.add('url', `must be at most ${LIMITS.urlLength} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return void v.add('url', 'is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return void v.add('url', 'must be an http or https URL');
  if (url.username || url.password) return void v.add('url', 'must not contain credentials');
  if (url.hash) return void v.add('url', 'must not have a fragment');
  if (!options.allowPrivate && isPrivateHost(url.hostname)) {
    return void v.add('url', 'must not target a loopback, private or link-local address');
  }
  if (url.href.length > LIMITS.urlLength) return void v.add('url', `must be at most ${LIMITS.urlLength} characters`);
  return url.href;
}

/** Event type names or per-domain wildcards, each known to the catalogue, no repeats; at least one. */
export function readEventTypes(value: unknown, v: Violations, catalog: EventCatalog): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    return void v.add('eventTypes', 'is required: a non-empty list of event types');
  }
  if (value.length > LIMITS.eventTypes)
    return void v.add('eventTypes', `must have at most ${LIMITS.eventTypes} entries`);
  const domains = new Set(catalog.eventTypes.map((t) => t.slice(0, t.lastIndexOf('.'))));
  const seen = new Set<string>();
  const before = v.list.length;
  value.forEach((entry, i) => {
    const name = `eventTypes[${i}]`;
    if (typeof entry !== 'string') return v.add(name, 'must be a string');
    if (seen.has(entry)) return v.add(name, `repeats "${entry}"`);
    seen.add(entry);
    if (entry.endsWith('.*')) {
      if (!domains.has(entry.slice(0, -2))) v.add(name, `"${entry}" is not a wildcard of a webhook domain`);
    } else if (!catalog.domainOf(entry)) {
      v.add(name, `"${entry}" is not an event type (e.g. o2o.orders.v1.OrderConfirmed, or o2o.orders.v1.*)`);
    }
  });
  return v.list.length === before ? (value as string[]) : undefined;
}

function readIdList(value: unknown, name: string, v: Violations, check: (id: string) => string | undefined) {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return void v.add(name, 'must be a list');
  if (value.length > LIMITS.filterValues) return void v.add(name, `must have at most ${LIMITS.filterValues} entries`);
  const before = v.list.length;
  value.forEach((entry, i) => {
    if (typeof entry !== 'string' || entry.length === 0 || entry.length > LIMITS.idLength) {
      return v.add(`${name}[${i}]`, `must be a non-empty string of at most ${LIMITS.idLength} characters`);
    }
    if (value.indexOf(entry) !== i) return v.add(`${name}[${i}]`, `repeats "${entry}"`);
    const problem = check(entry);
    if (problem) v.add(`${name}[${i}]`, problem);
  });
  return v.list.length === before ? (value as string[]) : undefined;
}

/** Filters: a partner may only name its own stores; channels are o2o.orders.v1.Channel names. */
export function readFilters(
  value: unknown,
  v: Violations,
  context: { principal: Principal; catalog: EventCatalog },
): SubscriptionFilters | undefined {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) return void v.add('filters', 'must be an object');
  onlyFields(value, ['storeIds', 'channels'], v, 'filters.');
  const { principal, catalog } = context;
  const storeIds = readIdList(value.storeIds, 'filters.storeIds', v, (id) =>
    principal.role !== 'admin' && !principal.storeIds.includes(id) ? `"${id}" is not one of your stores` : undefined,
  );
  const channels = readIdList(value.channels, 'filters.channels', v, (c) =>
    catalog.channels.includes(c) ? undefined : `"${c}" is not a channel (one of ${catalog.channels.join(', ')})`,
  );
  const filters: SubscriptionFilters = {};
  if (storeIds && storeIds.length > 0) filters.storeIds = storeIds;
  if (channels && channels.length > 0) filters.channels = channels;
  return filters;
}

/** A free text of at most 500 characters. */
export function readDescription(value: unknown, v: Violations): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return void v.add('description', 'must be a string');
  if (value.length > LIMITS.descriptionLength) {
    return void v.add('description', `must be at most ${LIMITS.descriptionLength} characters`);
  }
  return value;
}

/** ACTIVE or PAUSED. */
export function readStatus(value: unknown, v: Violations): 'ACTIVE' | 'PAUSED' | undefined {
  if (value === undefined) return undefined;
  if (!SUBSCRIPTION_STATUSES.includes(value as 'ACTIVE')) return void v.add('status', 'must be ACTIVE or PAUSED');
  return value as 'ACTIVE' | 'PAUSED';
}

/** An integer in a range, or the default when absent. */
export function readInteger(
  value: unknown,
  name: string,
  v: Violations,
  range: { min: number; max: number; default?: number },
): number | undefined {
  if (value === undefined) return range.default;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    return void v.add(name, `must be an integer from ${range.min} to ${range.max}`);
  }
  return value;
}

/** A page request: size 1..100 (default 50) and an optional opaque token. */
export function readPage(query: Record<string, unknown>, v: Violations): { size: number; token?: string } {
  const size = readInteger(query.pageSize, 'pageSize', v, {
    min: 1,
    max: LIMITS.pageSizeMax,
    default: LIMITS.pageSizeDefault,
  });
  const token = query.pageToken;
  if (token !== undefined && (typeof token !== 'string' || token.length > 512)) {
    v.add('pageToken', 'must be a token from a previous page');
  }
  return { size: size ?? LIMITS.pageSizeDefault, token: typeof token === 'string' && token ? token : undefined };
}

/** A delivery status filter. */
export function readDeliveryStatus(value: unknown, v: Violations): DeliveryStatus | undefined {
  if (value === undefined) return undefined;
  if (!DELIVERY_STATUSES.includes(value as DeliveryStatus)) {
    return void v.add('status', 'must be PENDING, DELIVERED or DEAD');
  }
  return value as DeliveryStatus;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 time. */
export function readTime(value: unknown, name: string, v: Violations, required: boolean): Date | undefined {
  if (value === undefined) return required ? void v.add(name, 'is required: an RFC 3339 time') : undefined;
  const time = typeof value === 'string' && RFC3339.test(value) ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) return void v.add(name, 'must be an RFC 3339 time');
  return time;
}

/** A boolean. */
export function readBoolean(value: unknown, name: string, v: Violations): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') return void v.add(name, 'must be true or false');
  return value;
}
