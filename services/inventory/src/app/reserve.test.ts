// Use-case tests with in-memory fakes of the ports: all-or-nothing holds, repeats, settlement, the sweeper, and
// stock adjustments.
import { InventoryError, type InventoryErrorKind } from '../domain/errors';
import type { InventoryEvent } from '../domain/events';
import { type HoldLine, newHold, type ReserveInput } from '../domain/hold';
import { type LocationInput, type LocationStatus, newLocation } from '../domain/location';
import { commitHold, extendHold, getHold, releaseHold, SETTLE_RETRY_MS, sweepHolds } from './hold-lifecycle';
import { PENDING_RECOVERY_MS, reserve } from './reserve';
import { adjustStock, type AdjustRequest, setStockPolicy } from './stock-changes';
import { memoryInventory } from './testing/in-memory';

const start = new Date('2026-11-22T10:00:00Z');
const MINUTE = 60_000;

function storeInput(status: LocationStatus = 'OPEN'): LocationInput {
  return {
    name: 'Store',
    kind: 'STORE',
    point: { latitude: 31.2304, longitude: 121.4737 },
    address: { lines: [], district: '', city: 'Shanghai', region: '', postalCode: '', countryCode: 'CN' },
    timeZone: 'Asia/Shanghai',
    openingHours: [],
    capabilities: { shipsParcels: true, storePickup: true, sameDayRadiusM: 0, acceptsReturns: true },
    status,
  };
}

/** Two open stores (L1, L2) and a paused one; TEA and CUP in the catalogue, OLD discontinued; 5 of each everywhere. */
async function setup(options: { relay: 'instant' | 'manual' } = { relay: 'instant' }) {
  const mem = memoryInventory(start, options);
  await mem.locations.insert(newLocation('L1', storeInput(), start));
  await mem.locations.insert(newLocation('L2', storeInput(), start));
  await mem.locations.insert(newLocation('PAUSED', storeInput('PAUSED'), start));
  await mem.skus.record([
    { skuCode: 'TEA', productId: 'p-tea', discontinued: false, productVersion: 1 },
    { skuCode: 'CUP', productId: 'p-cup', discontinued: false, productVersion: 1 },
    { skuCode: 'OLD', productId: 'p-old', discontinued: true, productVersion: 2 },
  ]);
  for (const sku of ['TEA', 'CUP', 'OLD']) {
    for (const loc of ['L1', 'L2', 'PAUSED']) mem.stock.seed(sku, loc, { onHand: 5 });
  }
  const onHand = async (sku: string, loc: string) => (await mem.stock.find(sku, loc))?.onHand;
  const held = async (sku: string, loc: string) => (await mem.stock.find(sku, loc))?.held;
  const types = () => mem.events.map((e) => e.type);
  return { ...mem, onHand, held, types };
}

function line(skuCode: string, locationId: string, quantity: number): HoldLine {
  return { skuCode, locationId, quantity };
}

function request(holdId: string, lines: HoldLine[], overrides: Partial<ReserveInput> = {}): ReserveInput {
  return { holdId, ownerId: 'order:o-1', lines, expiresAt: new Date(start.getTime() + 10 * MINUTE), ...overrides };
}

async function refusal(promise: Promise<unknown>): Promise<InventoryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('expected an InventoryError');
}

async function expectRefused(promise: Promise<unknown>, kind: InventoryErrorKind, message?: string): Promise<void> {
  const error = await refusal(promise);
  expect(error.kind).toBe(kind);
  if (message !== undefined) expect(error.message).toBe(message);
}

describe('reserve', () => {
  it('holds every line and announces StockReserved', async () => {
    const t = await setup();
    const hold = await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2), line('CUP', 'L2', 3)]));
    expect(hold).toMatchObject({ id: 'h-1', status: 'ACTIVE', version: 2, reason: '', shortages: [] });
    expect(await t.held('TEA', 'L1')).toBe(2);
    expect(await t.held('CUP', 'L2')).toBe(3);
    expect(await t.onHand('TEA', 'L1')).toBe(5);
    // Once the hold says ACTIVE, the records forget their in-flight markers (they do not grow with active holds).
    expect(t.stock.holdsOn('CUP', 'L2').size).toBe(0);
    expect(t.events).toEqual([{ type: 'StockReserved', hold }]);
    expect(await getHold(t.deps, 'h-1')).toEqual(hold);
    // The sweeper looks at it again at its expiry.
    expect(t.holds.rows.get('h-1')?.sweepAt).toEqual(hold.expiresAt);
  });

  it('can take everything that is available, and then refuses one more', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 5)]));
    await expectRefused(reserve(t.deps, request('h-2', [line('TEA', 'L1', 1)])), 'failed-precondition');
    expect(await t.held('TEA', 'L1')).toBe(5);
  });

  it('is all or nothing: a later line found short gives the earlier lines back and the hold ends FAILED', async () => {
    const t = await setup();
    // Between the read and the holds, a rival takes the CUP at L2 (lines are applied L1 first, then L2).
    const holdLine = t.stock.holdLine.bind(t.stock);
    t.stock.holdLine = async (holdId, l) => {
      if (holdId === 'h-1' && l.locationId === 'L2') await holdLine('rival', line('CUP', 'L2', 4));
      return holdLine(holdId, l);
    };
    const error = await refusal(
      reserve(t.deps, request('h-1', [line('CUP', 'L2', 3), line('TEA', 'L2', 1), line('TEA', 'L1', 2)])),
    );
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toBe(
      'Cannot hold "h-1": insufficient stock: SKU "CUP" at "L2" (requested 3, available 1); nothing was held',
    );
    const failed = await getHold(t.deps, 'h-1');
    expect(failed).toMatchObject({
      status: 'FAILED',
      shortages: [{ skuCode: 'CUP', locationId: 'L2', quantity: 3, available: 1 }],
    });
    // The earlier line (TEA at L1) is back; only the rival still holds anything.
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(t.stock.holdsOn('TEA', 'L1').size).toBe(0);
    expect(await t.held('TEA', 'L2')).toBe(0);
    expect(t.stock.holdsOn('CUP', 'L2')).toEqual(new Map([['rival', 4]]));
    expect(t.types()).not.toContain('StockReserved');
    expect(t.holds.rows.get('h-1')?.settled).toBe(true);
  });

  it('names every short line after the first one it met', async () => {
    const t = await setup();
    const holdLine = t.stock.holdLine.bind(t.stock);
    t.stock.holdLine = async (holdId, l) => {
      if (holdId === 'h-1' && l.locationId === 'L1') {
        await holdLine('rival', line('CUP', 'L1', 5));
        await holdLine('rival', line('TEA', 'L2', 4));
      }
      return holdLine(holdId, l);
    };
    const error = await refusal(
      reserve(t.deps, request('h-1', [line('CUP', 'L1', 1), line('TEA', 'L2', 2), line('CUP', 'L2', 1)])),
    );
    expect(error.message).toContain('SKU "CUP" at "L1" (requested 1, available 0); SKU "TEA" at "L2" (requested 2');
    expect((await getHold(t.deps, 'h-1')).shortages.map((s) => `${s.skuCode}@${s.locationId}`)).toEqual([
      'CUP@L1',
      'TEA@L2',
    ]);
  });

  it('refuses a line visibly short without writing anything; a retry later is a fresh attempt', async () => {
    const t = await setup();
    await expectRefused(
      reserve(t.deps, request('h-1', [line('TEA', 'L1', 1), line('CUP', 'L1', 6)])),
      'failed-precondition',
      'Cannot hold "h-1": insufficient stock: SKU "CUP" at "L1" (requested 6, available 5); nothing was held',
    );
    expect(t.holds.rows.size).toBe(0);
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(t.events).toEqual([]);
    await adjustStock(t.deps, {
      requestId: 'r-1',
      skuCode: 'CUP',
      locationId: 'L1',
      reason: 'RECEIPT',
      quantity: 1,
      note: '',
    });
    const hold = await reserve(t.deps, request('h-1', [line('TEA', 'L1', 1), line('CUP', 'L1', 6)]));
    expect(hold.status).toBe('ACTIVE');
  });

  it('counts a SKU never stocked at a location as none available', async () => {
    const t = await setup();
    t.stock.rows.clear();
    await expectRefused(
      reserve(t.deps, request('h-1', [line('TEA', 'L1', 1)])),
      'failed-precondition',
      'Cannot hold "h-1": insufficient stock: SKU "TEA" at "L1" (requested 1, available 0); nothing was held',
    );
  });

  it('respects safety stock', async () => {
    const t = await setup();
    t.stock.seed('TEA', 'L1', { onHand: 5, safetyStock: 2 });
    await expectRefused(reserve(t.deps, request('h-1', [line('TEA', 'L1', 4)])), 'failed-precondition');
    expect((await reserve(t.deps, request('h-2', [line('TEA', 'L1', 3)]))).status).toBe('ACTIVE');
  });

  it('answers a repeat with the first outcome, holding the stock once', async () => {
    const t = await setup();
    const first = await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2), line('CUP', 'L1', 1)]));
    t.clock.advance(MINUTE);
    // Same lines in another order and another split, asked a minute later: still the same request.
    const again = await reserve(
      t.deps,
      request('h-1', [line('CUP', 'L1', 1), line('TEA', 'L1', 1), line('TEA', 'L1', 1)]),
    );
    expect(again).toEqual(first);
    expect(await t.held('TEA', 'L1')).toBe(2);
    expect(t.types()).toEqual(['StockReserved']);
  });

  it('answers a repeat of a failed hold with the same failure, even once stock has arrived', async () => {
    const t = await setup();
    const holdLine = t.stock.holdLine.bind(t.stock);
    t.stock.holdLine = async (holdId, l) => {
      if (holdId === 'h-1') await holdLine('rival', line('TEA', 'L1', 5));
      return holdLine(holdId, l);
    };
    const first = await refusal(reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)])));
    t.stock.holdLine = holdLine;
    t.stock.seed('TEA', 'L1', { onHand: 100 });
    const again = await refusal(reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)])));
    expect(again.kind).toBe('failed-precondition');
    expect(again.message).toBe(first.message);
    expect(await t.held('TEA', 'L1')).toBe(0);
  });

  it('refuses to reuse a hold id for other lines or another owner', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    const reused = 'Hold "h-1" already exists with other lines or another owner';
    await expectRefused(reserve(t.deps, request('h-1', [line('TEA', 'L1', 3)])), 'already-exists', reused);
    await expectRefused(reserve(t.deps, request('h-1', [line('CUP', 'L1', 2)])), 'already-exists', reused);
    await expectRefused(
      reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)], { ownerId: 'order:o-2' })),
      'already-exists',
      reused,
    );
    expect(await t.held('TEA', 'L1')).toBe(2);
  });

  it.each<[string, HoldLine, InventoryErrorKind, string]>([
    ['an unknown SKU', line('NOPE', 'L1', 1), 'not-found', 'SKU "NOPE" is not in the catalogue'],
    ['an unknown location', line('TEA', 'NOWHERE', 1), 'not-found', 'Location "NOWHERE" does not exist'],
    ['a discontinued SKU', line('OLD', 'L1', 1), 'failed-precondition', 'Cannot hold SKU "OLD": it is discontinued'],
    [
      'a location that is not open',
      line('TEA', 'PAUSED', 1),
      'failed-precondition',
      'Cannot hold stock at location "PAUSED": it is paused',
    ],
  ])('refuses %s and writes no hold', async (_case, bad, kind, message) => {
    const t = await setup();
    await expectRefused(reserve(t.deps, request('h-1', [line('TEA', 'L1', 1), bad])), kind, message);
    expect(t.holds.rows.size).toBe(0);
    expect(await t.held('TEA', 'L1')).toBe(0);
  });

  it('refuses bad input before looking anything up', async () => {
    const t = await setup();
    const error = await refusal(reserve(t.deps, request('h 1', [line('TEA', 'L1', 0)])));
    expect(error.kind).toBe('invalid-argument');
    expect(error.violations.map((v) => v.field)).toEqual(['hold_id', 'lines[0].quantity']);
    expect(t.holds.rows.size).toBe(0);
  });

  it('announces StockLow once when a hold takes a record below its threshold', async () => {
    const t = await setup();
    await setStockPolicy(t.deps, {
      requestId: 'p-1',
      skuCode: 'TEA',
      locationId: 'L1',
      safetyStock: 0,
      lowStockThreshold: 3,
    });
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    expect(t.types().filter((x) => x === 'StockLow')).toHaveLength(0); // 3 left: at the threshold
    await reserve(t.deps, request('h-2', [line('TEA', 'L1', 1)]));
    await reserve(t.deps, request('h-3', [line('TEA', 'L1', 1)]));
    const lows = t.events.filter((e): e is Extract<InventoryEvent, { type: 'StockLow' }> => e.type === 'StockLow');
    expect(lows).toHaveLength(1);
    expect(lows[0]).toMatchObject({
      stock: { skuCode: 'TEA', locationId: 'L1', onHand: 5, held: 3 },
      detectedAt: start,
    });
    // Back above the threshold and down again: a new crossing, a new StockLow.
    await releaseHold(t.deps, 'h-2', '');
    await releaseHold(t.deps, 'h-3', '');
    await reserve(t.deps, request('h-4', [line('TEA', 'L1', 2)]));
    expect(t.types().filter((x) => x === 'StockLow')).toHaveLength(2);
  });
});

describe('release and commit', () => {
  it('release gives the stock back and announces ReservationReleased', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2), line('CUP', 'L2', 1)]));
    t.clock.advance(MINUTE);
    const released = await releaseHold(t.deps, 'h-1', 'basket emptied');
    expect(released).toMatchObject({ status: 'RELEASED', reason: 'basket emptied', version: 3 });
    expect(released.updatedAt).toEqual(new Date(start.getTime() + MINUTE));
    expect([await t.held('TEA', 'L1'), await t.held('CUP', 'L2')]).toEqual([0, 0]);
    expect([await t.onHand('TEA', 'L1'), await t.onHand('CUP', 'L2')]).toEqual([5, 5]);
    expect(t.types()).toEqual(['StockReserved', 'ReservationReleased']);
    expect(t.events[1]).toEqual({ type: 'ReservationReleased', hold: released });
  });

  it('commit takes the goods out: on hand and held go down; ReservationCommitted', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2), line('CUP', 'L2', 1)]));
    const committed = await commitHold(t.deps, 'h-1');
    expect(committed.status).toBe('COMMITTED');
    expect([await t.onHand('TEA', 'L1'), await t.held('TEA', 'L1')]).toEqual([3, 0]);
    expect([await t.onHand('CUP', 'L2'), await t.held('CUP', 'L2')]).toEqual([4, 0]);
    expect(t.types()).toEqual(['StockReserved', 'ReservationCommitted']);
  });

  it('a commit after damage took some of the held goods stops on hand at zero', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 4)]));
    await adjustStock(t.deps, {
      requestId: 'd-1',
      skuCode: 'TEA',
      locationId: 'L1',
      reason: 'DAMAGE',
      quantity: 3,
      note: '',
    });
    await commitHold(t.deps, 'h-1');
    expect([await t.onHand('TEA', 'L1'), await t.held('TEA', 'L1')]).toEqual([0, 0]);
  });

  it('repeats of release and commit are no-ops returning the settled hold', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    await reserve(t.deps, request('h-2', [line('TEA', 'L1', 2)]));
    const released = await releaseHold(t.deps, 'h-1', 'first');
    const committed = await commitHold(t.deps, 'h-2');
    t.clock.advance(MINUTE);
    expect(await releaseHold(t.deps, 'h-1', 'second')).toEqual(released);
    expect(await commitHold(t.deps, 'h-2')).toEqual(committed);
    expect([await t.onHand('TEA', 'L1'), await t.held('TEA', 'L1')]).toEqual([3, 0]);
    expect(t.types()).toEqual(['StockReserved', 'StockReserved', 'ReservationReleased', 'ReservationCommitted']);
  });

  it('refuses to commit a released hold or release a committed one', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    await reserve(t.deps, request('h-2', [line('TEA', 'L1', 2)]));
    await releaseHold(t.deps, 'h-1', '');
    await commitHold(t.deps, 'h-2');
    await expectRefused(commitHold(t.deps, 'h-1'), 'failed-precondition', 'Cannot commit hold "h-1": it is released');
    await expectRefused(
      releaseHold(t.deps, 'h-2', ''),
      'failed-precondition',
      'Cannot release hold "h-2": it is committed',
    );
    expect([await t.onHand('TEA', 'L1'), await t.held('TEA', 'L1')]).toEqual([3, 0]);
  });

  it('a compensating release of a hold that holds nothing (expired or failed) returns it unchanged', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    t.clock.advance(10 * MINUTE);
    await sweepHolds(t.deps);
    const expired = await getHold(t.deps, 'h-1');
    expect(await releaseHold(t.deps, 'h-1', 'order cancelled')).toEqual(expired);
    const holdLine = t.stock.holdLine.bind(t.stock);
    t.stock.holdLine = async (holdId, l) => {
      if (holdId === 'h-2') await holdLine('rival', line('CUP', 'L1', 5));
      return holdLine(holdId, l);
    };
    await expectRefused(
      reserve(t.deps, request('h-2', [line('CUP', 'L1', 1)], { expiresAt: undefined })),
      'failed-precondition',
    );
    const failed = await getHold(t.deps, 'h-2');
    expect(await releaseHold(t.deps, 'h-2', '')).toEqual(failed);
    expect(t.types().filter((x) => x === 'ReservationReleased')).toEqual([]);
    expect(t.stock.holdsOn('CUP', 'L1')).toEqual(new Map([['rival', 5]]));
  });

  it('answers ABORTED to a release or commit of a hold still being applied', async () => {
    const t = await setup();
    await t.holds.insert(newHold(request('h-1', [line('TEA', 'L1', 2)]), start), start);
    await expectRefused(releaseHold(t.deps, 'h-1', ''), 'aborted', 'Hold "h-1" is still being applied: retry');
    await expectRefused(commitHold(t.deps, 'h-1'), 'aborted');
    expect((await getHold(t.deps, 'h-1')).status).toBe('PENDING');
  });

  it('answers NOT_FOUND for an unknown hold', async () => {
    const t = await setup();
    await expectRefused(releaseHold(t.deps, 'nope', ''), 'not-found', 'Hold "nope" does not exist');
    await expectRefused(commitHold(t.deps, 'nope'), 'not-found');
    await expectRefused(extendHold(t.deps, 'nope', new Date(start.getTime() + MINUTE)), 'not-found');
  });
});

describe('sweepHolds', () => {
  it('expires a hold once its expiry has passed, gives the stock back, and announces ReservationExpired', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    t.clock.advance(10 * MINUTE - 1);
    expect(await sweepHolds(t.deps)).toEqual({ expired: 0, recovered: 0, settled: 0, archived: 0 });
    expect((await getHold(t.deps, 'h-1')).status).toBe('ACTIVE');
    t.clock.advance(1);
    expect(await sweepHolds(t.deps)).toEqual({ expired: 1, recovered: 0, settled: 0, archived: 0 });
    const expired = await getHold(t.deps, 'h-1');
    expect(expired).toMatchObject({ status: 'EXPIRED', reason: 'expired' });
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(t.events[t.events.length - 1]).toEqual({ type: 'ReservationExpired', hold: expired });
    // Too late to commit.
    await expectRefused(commitHold(t.deps, 'h-1'), 'failed-precondition', 'Cannot commit hold "h-1": it is expired');
  });

  it('leaves a hold alone until its new expiry once extended', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    t.clock.advance(5 * MINUTE);
    const extended = await extendHold(t.deps, 'h-1', new Date(start.getTime() + 30 * MINUTE));
    expect(extended.expiresAt).toEqual(new Date(start.getTime() + 30 * MINUTE));
    t.clock.set(new Date(start.getTime() + 20 * MINUTE));
    expect((await sweepHolds(t.deps)).expired).toBe(0);
    t.clock.set(new Date(start.getTime() + 30 * MINUTE));
    expect((await sweepHolds(t.deps)).expired).toBe(1);
    expect(await t.held('TEA', 'L1')).toBe(0);
  });

  it('recovers a hold left PENDING by a crash once the recovery time has passed, giving its lines back', async () => {
    const t = await setup();
    // A crash after the hold was written and its first line held: the PENDING hold and one held line remain.
    const pending = newHold(request('h-1', [line('TEA', 'L1', 2), line('CUP', 'L2', 1)]), t.clock.now());
    await t.holds.insert(pending, new Date(start.getTime() + PENDING_RECOVERY_MS));
    await t.stock.holdLine('h-1', line('TEA', 'L1', 2));
    t.clock.advance(PENDING_RECOVERY_MS - 1);
    expect((await sweepHolds(t.deps)).recovered).toBe(0);
    expect(await t.held('TEA', 'L1')).toBe(2);
    t.clock.advance(1);
    expect(await sweepHolds(t.deps)).toEqual({ expired: 0, recovered: 1, settled: 0, archived: 0 });
    expect(await getHold(t.deps, 'h-1')).toMatchObject({
      status: 'FAILED',
      reason: 'interrupted before every line was held',
    });
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(t.events).toEqual([]);
    // The client's retry now hears the failure.
    await expectRefused(
      reserve(t.deps, request('h-1', [line('TEA', 'L1', 2), line('CUP', 'L2', 1)])),
      'failed-precondition',
      'Cannot hold "h-1": interrupted before every line was held; nothing was held',
    );
  });

  it('settles the lines of a final hold whose process stopped before settling them', async () => {
    const t = await setup();
    const active = await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    // A crash right after the RELEASED hold was saved, before its lines were given back.
    const released = { ...active, status: 'RELEASED' as const, version: active.version + 1 };
    await t.holds.save(released, active.version, [], new Date(start.getTime() + SETTLE_RETRY_MS));
    expect(await t.held('TEA', 'L1')).toBe(2);
    t.clock.advance(SETTLE_RETRY_MS);
    expect(await sweepHolds(t.deps)).toEqual({ expired: 0, recovered: 0, settled: 1, archived: 0 });
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(await t.onHand('TEA', 'L1')).toBe(5);
  });

  it('archives settled holds, which stay readable by id and still answer repeats', async () => {
    const t = await setup();
    const hold = await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    const committed = await commitHold(t.deps, 'h-1');
    expect(await sweepHolds(t.deps)).toEqual({ expired: 0, recovered: 0, settled: 0, archived: 1 });
    expect(t.holds.rows.has('h-1')).toBe(false);
    expect(await getHold(t.deps, 'h-1')).toEqual(committed);
    // A late repeat of the Reserve finds it in the archive: the hold as it now stands, nothing held again.
    expect(await reserve(t.deps, request('h-1', hold.lines))).toEqual(committed);
    expect([await t.onHand('TEA', 'L1'), await t.held('TEA', 'L1')]).toEqual([3, 0]);
    // Nothing left to do.
    t.clock.advance(SETTLE_RETRY_MS);
    expect(await sweepHolds(t.deps)).toEqual({ expired: 0, recovered: 0, settled: 0, archived: 0 });
  });

  it('waits to archive a settled hold until its events are published', async () => {
    const t = await setup({ relay: 'manual' });
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    await releaseHold(t.deps, 'h-1', '');
    expect((await sweepHolds(t.deps)).archived).toBe(0);
    expect(t.holds.rows.has('h-1')).toBe(true);
    t.holds.publishAll();
    t.clock.advance(2_000);
    expect((await sweepHolds(t.deps)).archived).toBe(1);
    expect(t.holds.archived.has('h-1')).toBe(true);
  });
});

describe('adjustStock', () => {
  const receipt = (requestId: string, quantity: number): AdjustRequest => ({
    requestId,
    skuCode: 'TEA',
    locationId: 'L1',
    reason: 'RECEIPT',
    quantity,
    note: 'delivery 42',
  });

  it('applies an adjustment once per request id and announces StockAdjusted', async () => {
    const t = await setup();
    const first = await adjustStock(t.deps, receipt('r-1', 3));
    expect(first.applied).toBe(true);
    expect(first.stock).toMatchObject({ onHand: 8, version: 2, updatedAt: start });
    expect(t.events).toEqual([
      { type: 'StockAdjusted', requestId: 'r-1', reason: 'RECEIPT', delta: 3, stock: first.stock, note: 'delivery 42' },
    ]);
    const repeat = await adjustStock(t.deps, receipt('r-1', 3));
    expect(repeat).toEqual({ stock: first.stock, applied: false });
    expect(await t.onHand('TEA', 'L1')).toBe(8);
    expect(t.events).toHaveLength(1);
    expect((await adjustStock(t.deps, receipt('r-2', 3))).stock.onHand).toBe(11);
  });

  it('creates the record on the first adjustment of a SKU at a location', async () => {
    const t = await setup();
    t.stock.rows.clear();
    const { stock } = await adjustStock(t.deps, receipt('r-1', 4));
    expect(stock).toMatchObject({ skuCode: 'TEA', locationId: 'L1', onHand: 4, held: 0, version: 1 });
  });

  it('keeps what holds took when on hand changes', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]));
    const { stock } = await adjustStock(t.deps, { ...receipt('c-1', 7), reason: 'COUNT' });
    expect(stock).toMatchObject({ onHand: 7, held: 2 });
  });

  it('refuses to remove more than is on hand, and stores nothing', async () => {
    const t = await setup();
    await expectRefused(
      adjustStock(t.deps, { ...receipt('d-1', 6), reason: 'DAMAGE' }),
      'failed-precondition',
      'Cannot remove 6 of SKU "TEA" at location "L1": only 5 on hand',
    );
    expect(await t.onHand('TEA', 'L1')).toBe(5);
    expect(t.events).toEqual([]);
  });

  it('refuses an unknown SKU or location with NOT_FOUND, and bad input naming the fields', async () => {
    const t = await setup();
    await expectRefused(adjustStock(t.deps, { ...receipt('r-1', 1), skuCode: 'NOPE' }), 'not-found');
    await expectRefused(adjustStock(t.deps, { ...receipt('r-1', 1), locationId: 'NOWHERE' }), 'not-found');
    const bad = await refusal(adjustStock(t.deps, { ...receipt('', 0), note: 'x'.repeat(501) }));
    expect(bad.violations.map((v) => v.field)).toEqual(['request_id', 'quantity', 'note']);
    // A count may set on hand to zero; other reasons move at least one unit.
    expect((await adjustStock(t.deps, { ...receipt('c-0', 0), reason: 'COUNT' })).stock.onHand).toBe(0);
  });

  it('announces StockLow when an adjustment crosses the threshold, not again while it stays low', async () => {
    const t = await setup();
    await setStockPolicy(t.deps, {
      requestId: 'p-1',
      skuCode: 'TEA',
      locationId: 'L1',
      safetyStock: 0,
      lowStockThreshold: 3,
    });
    const damage = (requestId: string, quantity: number) =>
      adjustStock(t.deps, { ...receipt(requestId, quantity), reason: 'DAMAGE' });
    const lows = () => t.events.filter((e) => e.type === 'StockLow');
    await damage('d-1', 2); // 3 available: at the threshold
    expect(lows()).toHaveLength(0);
    await damage('d-2', 1); // 2: crossed
    expect(lows()).toEqual([{ type: 'StockLow', stock: expect.objectContaining({ onHand: 2 }), detectedAt: start }]);
    await damage('d-3', 1); // still low
    await damage('d-3', 1); // a repeat
    expect(lows()).toHaveLength(1);
    await adjustStock(t.deps, receipt('r-1', 5)); // 6: recovered
    await damage('d-4', 4); // 2: crossed again
    expect(lows()).toHaveLength(2);
  });

  it('announces StockLow when a new policy puts the record below its threshold', async () => {
    const t = await setup();
    const policy = (requestId: string, safetyStock: number, lowStockThreshold: number) =>
      setStockPolicy(t.deps, { requestId, skuCode: 'TEA', locationId: 'L1', safetyStock, lowStockThreshold });
    const stock = await policy('p-1', 2, 4); // 3 available < 4
    expect(stock).toMatchObject({ safetyStock: 2, lowStockThreshold: 4 });
    expect(t.types()).toEqual(['StockAdjusted', 'StockLow']);
    expect(t.events[0]).toMatchObject({ reason: 'POLICY', delta: 0 });
  });
});

describe('crashes between the stock record and the hold document', () => {
  it('a release cut short after giving the lines back is finished by the sweeper without giving them back twice', async () => {
    const t = await setup();
    await reserve(t.deps, request('h-1', [line('TEA', 'L1', 2), line('CUP', 'L2', 1)]));
    const markSettled = t.holds.markSettled.bind(t.holds);
    t.holds.markSettled = () => Promise.reject(new Error('process killed'));
    await expect(releaseHold(t.deps, 'h-1', 'order cancelled')).rejects.toThrow('process killed');
    t.holds.markSettled = markSettled;
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(await t.held('CUP', 'L2')).toBe(0);

    t.clock.advance(SETTLE_RETRY_MS + 1);
    await sweepHolds(t.deps);
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(await t.held('CUP', 'L2')).toBe(0);
    expect(t.holds.rows.get('h-1')?.settled ?? true).toBe(true);
    expect(t.stock.holdsOn('TEA', 'L1').size).toBe(0);
  });

  it('a hold activated but not yet forgotten on its records still releases exactly once', async () => {
    const t = await setup();
    const forget = t.stock.forgetLine.bind(t.stock);
    t.stock.forgetLine = () => Promise.reject(new Error('process killed'));
    await expect(reserve(t.deps, request('h-1', [line('TEA', 'L1', 2)]))).rejects.toThrow('process killed');
    t.stock.forgetLine = forget;
    expect((await getHold(t.deps, 'h-1')).status).toBe('ACTIVE');
    expect(t.stock.holdsOn('TEA', 'L1')).toEqual(new Map([['h-1', 2]]));
    await releaseHold(t.deps, 'h-1', 'changed my mind');
    await releaseHold(t.deps, 'h-1', 'changed my mind');
    expect(await t.held('TEA', 'L1')).toBe(0);
    expect(t.stock.holdsOn('TEA', 'L1').size).toBe(0);
  });
});
