import { InventoryError } from '../domain/errors';
import type { InventoryEvent } from '../domain/events';
import { commit, expire, extend, fail, type Hold, type HoldStatus, isFinal, release } from '../domain/hold';
import { isLow } from '../domain/stock';
import type { InventoryDeps } from './ports';

/** How soon the sweeper retries settling a final hold's lines if the process that changed it did not finish. */
export const SETTLE_RETRY_MS = 30_000;

/**
 * Gives an active hold's stock back. A hold that already holds nothing (released, expired or failed) is returned
 * unchanged, so a compensating release is always safe to send; a committed hold cannot be released.
 */
export async function releaseHold(deps: InventoryDeps, id: string, reason: string): Promise<Hold> {
  return transition(deps, id, ['RELEASED', 'EXPIRED', 'FAILED'], (hold, now) => {
    const next = release(hold, reason, now);
    return { next, events: [{ type: 'ReservationReleased', hold: next }] };
  });
}

/** The goods left: on hand and held go down on every line. A repeat on a committed hold returns it unchanged. */
export async function commitHold(deps: InventoryDeps, id: string): Promise<Hold> {
  return transition(deps, id, ['COMMITTED'], (hold, now) => {
    const next = commit(hold, now);
    return { next, events: [{ type: 'ReservationCommitted', hold: next }] };
  });
}

/** Moves an active hold's expiry. */
export async function extendHold(deps: InventoryDeps, id: string, expiresAt: Date): Promise<Hold> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const hold = await getHold(deps, id);
    const next = extend(hold, expiresAt, deps.clock.now());
    if (await deps.holds.save(next, hold.version, [], next.expiresAt)) return next;
  }
  throw new InventoryError('aborted', `Hold "${id}" kept changing: retry`);
}

/** The hold, or NOT_FOUND. */
export async function getHold(deps: Pick<InventoryDeps, 'holds'>, id: string): Promise<Hold> {
  const hold = await deps.holds.find(id);
  if (!hold) throw new InventoryError('not-found', `Hold "${id}" does not exist`);
  return hold;
}

/**
 * One pass of the sweeper: expires active holds past their expiry (ReservationExpired), fails holds left PENDING
 * by a crash, and settles the stock lines of final holds whose process did not finish. Safe with many replicas:
 * every step is a version-checked update or an idempotent line settlement. Returns what it did.
 */
export async function sweepHolds(
  deps: InventoryDeps,
  batch = 200,
): Promise<{ expired: number; recovered: number; settled: number; archived: number }> {
  const now = deps.clock.now();
  const result = { expired: 0, recovered: 0, settled: 0, archived: 0 };
  // Batches until nothing is due (bounded, so one pass never runs away); what a batch could not finish (an
  // archive waiting for its events) is due again later, not now.
  for (let round = 0; round < 20; round++) {
    const due = await deps.holds.due(now, batch);
    for (const { hold, settled } of due) await sweepOne(deps, hold, settled, now, result);
    if (due.length < batch) break;
  }
  return result;
}

async function sweepOne(
  deps: InventoryDeps,
  hold: Hold,
  settled: boolean,
  now: Date,
  result: { expired: number; recovered: number; settled: number; archived: number },
): Promise<void> {
  if (settled) {
    if (await deps.holds.archive(hold.id)) result.archived++;
  } else if (hold.status === 'ACTIVE') {
    if (hold.expiresAt > now) return; // extended since it was listed
    const next = expire(hold, now);
    if (await deps.holds.save(next, hold.version, [{ type: 'ReservationExpired', hold: next }], retryAt(now))) {
      await settleLines(deps, next);
      result.expired++;
    }
  } else if (hold.status === 'PENDING') {
    const next = fail(hold, 'interrupted before every line was held', [], now);
    if (await deps.holds.save(next, hold.version, [], retryAt(now))) {
      await settleLines(deps, next);
      result.recovered++;
    }
  } else if (isFinal(hold.status)) {
    await settleLines(deps, hold);
    result.settled++;
  }
}

/**
 * Settles every line of a final hold on its stock record, then tells the repository the hold needs no more
 * attention, then lets the records forget their markers. A FAILED hold never became active: its held lines are
 * taken back. A COMMITTED hold's goods are taken out; a RELEASED or EXPIRED hold's are given back. Every step is
 * idempotent, so the sweeper can repeat it after a crash; markers are forgotten only after the hold says settled.
 */
export async function settleLines(deps: Pick<InventoryDeps, 'stock' | 'holds' | 'clock'>, hold: Hold): Promise<void> {
  if (hold.status === 'FAILED') {
    for (const line of hold.lines) await deps.stock.undoLine(hold.id, line);
    await deps.holds.markSettled(hold.id);
    return;
  }
  const mode = hold.status === 'COMMITTED' ? 'commit' : 'release';
  for (const line of hold.lines) {
    const stock = await deps.stock.settleLine(hold.id, line, mode);
    if (stock && mode === 'commit' && isLow(stock)) {
      await deps.stock.flagLow(stock, { type: 'StockLow', stock, detectedAt: deps.clock.now() });
    }
  }
  await deps.holds.markSettled(hold.id);
  for (const line of hold.lines) await deps.stock.forgetLine(hold.id, line);
}

async function transition(
  deps: InventoryDeps,
  id: string,
  done: HoldStatus[],
  change: (hold: Hold, now: Date) => { next: Hold; events: InventoryEvent[] },
): Promise<Hold> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const hold = await getHold(deps, id);
    if (done.includes(hold.status)) return hold;
    if (hold.status === 'PENDING') throw new InventoryError('aborted', `Hold "${id}" is still being applied: retry`);
    const now = deps.clock.now();
    const { next, events } = change(hold, now);
    if (await deps.holds.save(next, hold.version, events, retryAt(now))) {
      await settleLines(deps, next);
      return next;
    }
  }
  throw new InventoryError('aborted', `Hold "${id}" kept changing: retry`);
}

function retryAt(now: Date): Date {
  return new Date(now.getTime() + SETTLE_RETRY_MS);
}
