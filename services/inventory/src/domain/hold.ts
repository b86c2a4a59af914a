import { CODE_PATTERN, checkPattern, InventoryError, KEY_PATTERN, Violations } from './errors';

export type HoldStatus = 'PENDING' | 'ACTIVE' | 'RELEASED' | 'COMMITTED' | 'EXPIRED' | 'FAILED';

export interface HoldLine {
  skuCode: string;
  locationId: string;
  quantity: number;
}

/** A line the hold could not take, and what was there. */
export interface Shortage extends HoldLine {
  available: number;
}

/** Stock held for an owner across lines and locations: every line or none. */
export interface Hold {
  id: string;
  ownerId: string;
  /** Merged and sorted by location, then SKU: the order lines are applied in. */
  lines: HoldLine[];
  status: HoldStatus;
  expiresAt: Date;
  reason: string;
  shortages: Shortage[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const MAX_HOLD_LINES = 200;
export const MAX_LINE_QUANTITY = 100_000;
export const DEFAULT_HOLD_TTL_MS = 15 * 60_000;
export const MAX_HOLD_TTL_MS = 7 * 24 * 3_600_000;
const MAX_REASON = 500;

/** A Reserve request as the domain reads it. */
export interface ReserveInput {
  holdId: string;
  ownerId: string;
  lines: HoldLine[];
  /** Undefined: {@link DEFAULT_HOLD_TTL_MS} from now. */
  expiresAt?: Date;
}

/** A new PENDING hold from a request, checked and with its lines merged. Throws INVALID_ARGUMENT. */
export function newHold(input: ReserveInput, now: Date): Hold {
  const v = new Violations();
  checkPattern(v, 'hold_id', input.holdId, KEY_PATTERN, '1..128 of A-Z a-z 0-9 . _ : -');
  checkPattern(v, 'owner_id', input.ownerId, KEY_PATTERN, '1..128 of A-Z a-z 0-9 . _ : -');
  if (input.lines.length === 0) v.add('lines', 'must have at least one line');
  if (input.lines.length > MAX_HOLD_LINES) {
    v.add('lines', `must have at most ${MAX_HOLD_LINES} lines (got ${input.lines.length})`);
  } else {
    input.lines.forEach((line, i) => {
      checkPattern(v, `lines[${i}].sku_code`, line.skuCode, CODE_PATTERN, 'a SKU code');
      checkPattern(v, `lines[${i}].location_id`, line.locationId, CODE_PATTERN, 'a location id');
      checkQuantity(v, `lines[${i}].quantity`, line.quantity);
    });
  }
  const expiresAt = input.expiresAt ?? new Date(now.getTime() + DEFAULT_HOLD_TTL_MS);
  checkExpiry(v, 'expire_time', expiresAt, now);
  v.check();
  const lines = mergeLines(input.lines);
  lines.forEach((line) => {
    if (line.quantity > MAX_LINE_QUANTITY) {
      v.add('lines', `SKU "${line.skuCode}" at "${line.locationId}" adds up to more than ${MAX_LINE_QUANTITY}`);
    }
  });
  v.check();
  return {
    id: input.holdId,
    ownerId: input.ownerId,
    lines,
    status: 'PENDING',
    expiresAt,
    reason: '',
    shortages: [],
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/** Adds a violation unless the quantity is a whole number in 1..MAX_LINE_QUANTITY. */
export function checkQuantity(v: Violations, field: string, quantity: number): void {
  if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > MAX_LINE_QUANTITY) {
    v.add(field, `must be 1..${MAX_LINE_QUANTITY}`);
  }
}

/** True when two holds were asked for the same thing (owner and merged lines): a repeat, not a reuse of the id. */
export function sameRequest(a: Pick<Hold, 'ownerId' | 'lines'>, b: Pick<Hold, 'ownerId' | 'lines'>): boolean {
  const pick = (h: Pick<Hold, 'ownerId' | 'lines'>) =>
    JSON.stringify([h.ownerId, h.lines.map((l) => [l.skuCode, l.locationId, l.quantity])]);
  return pick(a) === pick(b);
}

/** Lines for the same SKU and location added together, sorted by location then SKU. */
export function mergeLines(lines: HoldLine[]): HoldLine[] {
  const merged = new Map<string, HoldLine>();
  for (const line of lines) {
    const key = `${line.locationId}\u0000${line.skuCode}`;
    const seen = merged.get(key);
    if (seen) seen.quantity += line.quantity;
    else merged.set(key, { skuCode: line.skuCode, locationId: line.locationId, quantity: line.quantity });
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
}

/** PENDING → ACTIVE: every line is held. */
export function activate(hold: Hold, now: Date): Hold {
  expectStatus(hold, ['PENDING'], 'activate');
  return { ...hold, status: 'ACTIVE', version: hold.version + 1, updatedAt: now };
}

/** PENDING → FAILED: some line lacked stock (or the hold could not proceed); nothing stays held. */
export function fail(hold: Hold, reason: string, shortages: Shortage[], now: Date): Hold {
  expectStatus(hold, ['PENDING'], 'fail');
  return { ...hold, status: 'FAILED', reason, shortages, version: hold.version + 1, updatedAt: now };
}

/** ACTIVE → RELEASED by its owner. */
export function release(hold: Hold, reason: string, now: Date): Hold {
  const v = new Violations();
  if (reason.length > MAX_REASON) v.add('reason', `must be at most ${MAX_REASON} characters`);
  v.check();
  expectStatus(hold, ['ACTIVE'], 'release');
  return { ...hold, status: 'RELEASED', reason: reason || 'released', version: hold.version + 1, updatedAt: now };
}

/** ACTIVE → COMMITTED: the goods left with the order. */
export function commit(hold: Hold, now: Date): Hold {
  expectStatus(hold, ['ACTIVE'], 'commit');
  return { ...hold, status: 'COMMITTED', version: hold.version + 1, updatedAt: now };
}

/** ACTIVE → EXPIRED, once its expiry has passed. */
export function expire(hold: Hold, now: Date): Hold {
  expectStatus(hold, ['ACTIVE'], 'expire');
  if (hold.expiresAt > now) {
    throw new InventoryError(
      'failed-precondition',
      `Cannot expire hold "${hold.id}": it runs until ${hold.expiresAt.toISOString()}`,
    );
  }
  return { ...hold, status: 'EXPIRED', reason: 'expired', version: hold.version + 1, updatedAt: now };
}

/** An ACTIVE hold with a new expiry. */
export function extend(hold: Hold, expiresAt: Date, now: Date): Hold {
  const v = new Violations();
  checkExpiry(v, 'expire_time', expiresAt, now);
  v.check();
  expectStatus(hold, ['ACTIVE'], 'extend');
  return { ...hold, expiresAt, version: hold.version + 1, updatedAt: now };
}

/** True once nothing can change the hold any more. */
export function isFinal(status: HoldStatus): boolean {
  return status !== 'PENDING' && status !== 'ACTIVE';
}

function checkExpiry(v: Violations, field: string, expiresAt: Date, now: Date): void {
  const ms = expiresAt.getTime() - now.getTime();
  if (Number.isNaN(ms)) v.add(field, 'is not a valid time');
  else if (ms <= 0) v.add(field, 'must be in the future');
  else if (ms > MAX_HOLD_TTL_MS) v.add(field, 'must be at most 7 days ahead');
}

function expectStatus(hold: Hold, allowed: HoldStatus[], action: string): void {
  if (!allowed.includes(hold.status)) {
    throw new InventoryError(
      'failed-precondition',
      `Cannot ${action} hold "${hold.id}": it is ${hold.status.toLowerCase()}`,
    );
  }
}
