import { InventoryError } from '../domain/errors';
import {
  activate,
  fail,
  type Hold,
  type HoldLine,
  newHold,
  type ReserveInput,
  sameRequest,
  type Shortage,
} from '../domain/hold';
import { available, isLow } from '../domain/stock';
import { settleLines, SETTLE_RETRY_MS } from './hold-lifecycle';
import type { InventoryDeps } from './ports';

/** How long a repeat waits for the first attempt of the same hold to finish before answering ABORTED (retry). */
const REPEAT_WAIT_MS = 15_000;
/** A hold still PENDING this long after creation was interrupted; the sweeper fails it and gives its lines back. */
export const PENDING_RECOVERY_MS = 60_000;

/**
 * Holds every line or none. The hold document is written first (PENDING), then each line is a conditional update
 * of its stock record (available ≥ quantity and this hold not yet on it). If a line lacks stock, the lines already
 * held are given back and the hold ends FAILED (FAILED_PRECONDITION naming the short lines). Idempotent by hold
 * id: a repeat returns the first outcome; a repeat of a hold still being applied waits for it. A request refused
 * before anything was written (bad input, unknown SKU, or a line visibly short) leaves no hold: retrying it is a
 * fresh attempt.
 */
export async function reserve(deps: InventoryDeps, input: ReserveInput): Promise<Hold> {
  const hold = newHold(input, deps.clock.now());
  const existing = await deps.holds.find(hold.id);
  if (existing) return answerRepeat(deps, existing, hold);
  await checkLines(deps, hold);
  // Fast refusal: when a read already shows a line short, nothing is written at all (sell-outs send many such
  // requests). The conditional updates below still decide every race; this only spares doomed attempts.
  const short = await shortages(deps, hold.lines);
  if (short.length > 0) {
    throw new InventoryError(
      'failed-precondition',
      `Cannot hold "${hold.id}": ${shortageMessage(short)}; nothing was held`,
    );
  }
  if ((await deps.holds.insert(hold, new Date(hold.createdAt.getTime() + PENDING_RECOVERY_MS))) === 'exists') {
    const raced = await deps.holds.find(hold.id);
    if (!raced) throw new InventoryError('aborted', `Hold "${hold.id}" is changing: retry`);
    return answerRepeat(deps, raced, hold);
  }
  return applyLines(deps, hold);
}

async function applyLines(deps: InventoryDeps, hold: Hold): Promise<Hold> {
  let shortage: Shortage | undefined;
  for (const line of hold.lines) {
    const result = await deps.stock.holdLine(hold.id, line);
    if (result.held) {
      if (isLow(result.stock)) {
        await deps.stock.flagLow(result.stock, { type: 'StockLow', stock: result.stock, detectedAt: deps.clock.now() });
      }
      continue;
    }
    if (await deps.stock.isHeld(hold.id, line)) continue;
    shortage = { ...line, available: result.available };
    break;
  }
  const now = deps.clock.now();
  if (!shortage) {
    const active = activate(hold, now);
    if (await deps.holds.save(active, hold.version, [{ type: 'StockReserved', hold: active }], active.expiresAt)) {
      // The hold document now says every line is held: the records may forget their in-flight markers.
      for (const line of hold.lines) await deps.stock.forgetLine(hold.id, line);
      return active;
    }
    return afterConflict(deps, hold);
  }
  const short = await allShortages(deps, hold, shortage);
  const failed = fail(hold, shortageMessage(short), short, now);
  if (!(await deps.holds.save(failed, hold.version, [], new Date(now.getTime() + SETTLE_RETRY_MS)))) {
    return afterConflict(deps, hold);
  }
  await settleLines(deps, failed);
  throw holdFailed(failed);
}

/** The first short line and every later line that is also short, for one clear answer. */
async function allShortages(deps: InventoryDeps, hold: Hold, first: Shortage): Promise<Shortage[]> {
  const at = hold.lines.findIndex((l) => l.skuCode === first.skuCode && l.locationId === first.locationId);
  return [first, ...(await shortages(deps, hold.lines.slice(at + 1)))];
}

/** Lines whose stock record shows less available than they ask for, as read now. */
async function shortages(deps: InventoryDeps, lines: HoldLine[]): Promise<Shortage[]> {
  const found: Shortage[] = [];
  for (const line of lines) {
    const stock = await deps.stock.find(line.skuCode, line.locationId);
    const free = stock ? available(stock) : 0;
    if (free < line.quantity) found.push({ ...line, available: free });
  }
  return found;
}

/** The sweeper moved the hold on while it was being applied: give back what this attempt may have held. */
async function afterConflict(deps: InventoryDeps, hold: Hold): Promise<Hold> {
  const stored = await deps.holds.find(hold.id);
  if (!stored) throw new InventoryError('aborted', `Hold "${hold.id}" changed while it was being applied: retry`);
  if (stored.status === 'FAILED') {
    await settleLines(deps, stored);
    throw holdFailed(stored);
  }
  return stored;
}

async function answerRepeat(deps: InventoryDeps, stored: Hold, asked: Hold): Promise<Hold> {
  if (!sameRequest(stored, asked)) {
    throw new InventoryError('already-exists', `Hold "${asked.id}" already exists with other lines or another owner`);
  }
  let current: Hold | undefined = stored;
  const deadline = Date.now() + REPEAT_WAIT_MS;
  while (current?.status === 'PENDING' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    current = await deps.holds.find(asked.id);
  }
  if (!current || current.status === 'PENDING') {
    throw new InventoryError('aborted', `Hold "${asked.id}" is still being applied: retry`);
  }
  if (current.status === 'FAILED') throw holdFailed(current);
  return current;
}

/** NOT_FOUND for unknown SKUs and locations; FAILED_PRECONDITION for discontinued SKUs and locations not open. */
async function checkLines(deps: InventoryDeps, hold: Hold): Promise<void> {
  const skuCodes = [...new Set(hold.lines.map((l) => l.skuCode))];
  const locationIds = [...new Set(hold.lines.map((l) => l.locationId))];
  const [skus, locations] = await Promise.all([
    deps.skus.find(skuCodes),
    Promise.all(locationIds.map((id) => deps.locations.find(id))),
  ]);
  for (const code of skuCodes) {
    const facts = skus.get(code);
    if (!facts) throw new InventoryError('not-found', `SKU "${code}" is not in the catalogue`);
    if (facts.discontinued) {
      throw new InventoryError('failed-precondition', `Cannot hold SKU "${code}": it is discontinued`);
    }
  }
  locationIds.forEach((id, i) => {
    const location = locations[i];
    if (!location) throw new InventoryError('not-found', `Location "${id}" does not exist`);
    if (location.status !== 'OPEN') {
      throw new InventoryError(
        'failed-precondition',
        `Cannot hold stock at location "${id}": it is ${location.status.toLowerCase()}`,
      );
    }
  });
}

function shortageMessage(shortages: Shortage[]): string {
  const parts = shortages.map(
    (s) => `SKU "${s.skuCode}" at "${s.locationId}" (requested ${s.quantity}, available ${s.available})`,
  );
  return `insufficient stock: ${parts.join('; ')}`;
}

function holdFailed(hold: Hold): InventoryError {
  return new InventoryError('failed-precondition', `Cannot hold "${hold.id}": ${hold.reason}; nothing was held`);
}
