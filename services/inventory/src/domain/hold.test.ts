import { InventoryError } from './errors';
import {
  activate,
  commit,
  DEFAULT_HOLD_TTL_MS,
  expire,
  extend,
  fail,
  type Hold,
  type HoldLine,
  type HoldStatus,
  isFinal,
  MAX_HOLD_LINES,
  MAX_HOLD_TTL_MS,
  MAX_LINE_QUANTITY,
  mergeLines,
  newHold,
  release,
  type ReserveInput,
  sameRequest,
} from './hold';

const now = new Date('2026-11-22T10:00:00Z');
const later = new Date('2026-11-22T10:05:00Z');
const inMs = (ms: number, from = now) => new Date(from.getTime() + ms);

function input(overrides: Partial<ReserveInput> = {}): ReserveInput {
  return {
    holdId: 'h-1',
    ownerId: 'order:o-1',
    lines: [{ skuCode: 'TEA-250', locationId: 'sh-01', quantity: 2 }],
    expiresAt: inMs(10 * 60_000),
    ...overrides,
  };
}

function line(skuCode: string, locationId: string, quantity: number): HoldLine {
  return { skuCode, locationId, quantity };
}

function holdIn(status: HoldStatus, overrides: Partial<Hold> = {}): Hold {
  return { ...newHold(input(), now), status, ...overrides };
}

function errorOf(fn: () => unknown): InventoryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('expected an InventoryError');
}

function fieldsOf(fn: () => unknown): string[] {
  const error = errorOf(fn);
  expect(error.kind).toBe('invalid-argument');
  return error.violations.map((v) => v.field);
}

describe('newHold', () => {
  it('is PENDING at version 1 with the request as asked', () => {
    const hold = newHold(input(), now);
    expect(hold).toEqual({
      id: 'h-1',
      ownerId: 'order:o-1',
      lines: [line('TEA-250', 'sh-01', 2)],
      status: 'PENDING',
      expiresAt: inMs(10 * 60_000),
      reason: '',
      shortages: [],
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
  });

  it('expires 15 minutes from now when no expiry is given', () => {
    expect(newHold(input({ expiresAt: undefined }), now).expiresAt).toEqual(inMs(DEFAULT_HOLD_TTL_MS));
    expect(DEFAULT_HOLD_TTL_MS).toBe(15 * 60_000);
  });

  it.each([
    ['an empty hold id', { holdId: '' }, 'hold_id', 'is required'],
    ['a hold id with a space', { holdId: 'h 1' }, 'hold_id', 'must be 1..128 of A-Z a-z 0-9 . _ : -'],
    ['a 129-character hold id', { holdId: 'h'.repeat(129) }, 'hold_id', 'must be 1..128 of A-Z a-z 0-9 . _ : -'],
    ['an empty owner id', { ownerId: '' }, 'owner_id', 'is required'],
    ['an owner id with a slash', { ownerId: 'order/1' }, 'owner_id', 'must be 1..128 of A-Z a-z 0-9 . _ : -'],
    ['a SKU code with "@"', { lines: [line('TEA@250', 'sh-01', 1)] }, 'lines[0].sku_code', 'must be a SKU code'],
    ['an empty location id', { lines: [line('TEA', '', 1)] }, 'lines[0].location_id', 'is required'],
    ['a zero quantity', { lines: [line('TEA', 'sh-01', 0)] }, 'lines[0].quantity', 'must be 1..100000'],
    ['a negative quantity', { lines: [line('TEA', 'sh-01', -3)] }, 'lines[0].quantity', 'must be 1..100000'],
    ['a fractional quantity', { lines: [line('TEA', 'sh-01', 1.5)] }, 'lines[0].quantity', 'must be 1..100000'],
    ['a NaN quantity', { lines: [line('TEA', 'sh-01', NaN)] }, 'lines[0].quantity', 'must be 1..100000'],
    [
      'a quantity over the line limit',
      { lines: [line('TEA', 'sh-01', MAX_LINE_QUANTITY + 1)] },
      'lines[0].quantity',
      'must be 1..100000',
    ],
    ['no lines', { lines: [] }, 'lines', 'must have at least one line'],
    [
      '201 lines',
      { lines: Array.from({ length: MAX_HOLD_LINES + 1 }, (_, i) => line(`SKU-${i}`, 'sh-01', 1)) },
      'lines',
      'must have at most 200 lines (got 201)',
    ],
    ['an expiry of now', { expiresAt: now }, 'expire_time', 'must be in the future'],
    ['an expiry in the past', { expiresAt: inMs(-1) }, 'expire_time', 'must be in the future'],
    ['an expiry past 7 days', { expiresAt: inMs(MAX_HOLD_TTL_MS + 1) }, 'expire_time', 'must be at most 7 days ahead'],
    ['an invalid expiry', { expiresAt: new Date(NaN) }, 'expire_time', 'is not a valid time'],
  ])('refuses %s, naming the field', (_case, overrides: Partial<ReserveInput>, field, description) => {
    const error = errorOf(() => newHold(input(overrides), now));
    expect(error.kind).toBe('invalid-argument');
    expect(error.violations).toEqual([{ field, description }]);
    expect(error.message).toBe(`Invalid request: ${field}: ${description}`);
  });

  it('accepts the limits themselves: 200 lines, 100000 units, 7 days', () => {
    const lines = Array.from({ length: MAX_HOLD_LINES }, (_, i) => line(`SKU-${i}`, 'sh-01', MAX_LINE_QUANTITY));
    const hold = newHold(input({ lines, expiresAt: inMs(MAX_HOLD_TTL_MS) }), now);
    expect(hold.lines).toHaveLength(200);
    expect(hold.expiresAt).toEqual(inMs(7 * 24 * 3_600_000));
  });

  it('names every problem at once, line by line', () => {
    const fields = fieldsOf(() =>
      newHold(
        {
          holdId: '',
          ownerId: 'o 1',
          lines: [line('OK', 'sh-01', 1), line('', 'sh 2', 0)],
          expiresAt: inMs(-1000),
        },
        now,
      ),
    );
    expect(fields).toEqual([
      'hold_id',
      'owner_id',
      'lines[1].sku_code',
      'lines[1].location_id',
      'lines[1].quantity',
      'expire_time',
    ]);
    expect(errorOf(() => newHold(input({ holdId: '', ownerId: '' }), now)).message).toBe(
      'Invalid request: hold_id: is required (and 1 more)',
    );
  });

  it('refuses lines for the same SKU and location that add up to more than the line limit', () => {
    const error = errorOf(() =>
      newHold(input({ lines: [line('TEA', 'sh-01', 60_000), line('TEA', 'sh-01', 40_001)] }), now),
    );
    expect(error.kind).toBe('invalid-argument');
    expect(error.violations).toEqual([
      { field: 'lines', description: 'SKU "TEA" at "sh-01" adds up to more than 100000' },
    ]);
    expect(newHold(input({ lines: [line('TEA', 'sh-01', 60_000), line('TEA', 'sh-01', 40_000)] }), now).lines).toEqual([
      line('TEA', 'sh-01', 100_000),
    ]);
  });
});

describe('mergeLines', () => {
  it('adds up lines for the same SKU and location and sorts by location, then SKU', () => {
    const merged = mergeLines([
      line('CUP', 'sh-02', 1),
      line('BOWL', 'sh-02', 2),
      line('TEA', 'sh-01', 3),
      line('CUP', 'sh-02', 4),
      line('CUP', 'sh-01', 5),
    ]);
    expect(merged).toEqual([
      line('CUP', 'sh-01', 5),
      line('TEA', 'sh-01', 3),
      line('BOWL', 'sh-02', 2),
      line('CUP', 'sh-02', 5),
    ]);
  });

  it('sorts a location before the locations its id is a prefix of, whatever the SKU', () => {
    expect(mergeLines([line('A', 'L10', 1), line('Z', 'L1', 1)]).map((l) => l.locationId)).toEqual(['L1', 'L10']);
  });

  it('keeps the same SKU at two locations apart', () => {
    expect(mergeLines([line('TEA', 'b', 1), line('TEA', 'a', 1)])).toEqual([line('TEA', 'a', 1), line('TEA', 'b', 1)]);
  });

  it('does not change the lines it was given', () => {
    const lines = [line('TEA', 'sh-01', 1), line('TEA', 'sh-01', 2)];
    mergeLines(lines);
    expect(lines).toEqual([line('TEA', 'sh-01', 1), line('TEA', 'sh-01', 2)]);
  });
});

describe('sameRequest', () => {
  const lines = [line('TEA', 'sh-01', 2), line('CUP', 'sh-02', 1)];
  const first = newHold(input({ lines }), now);

  it('is true for a repeat, even with the lines in another order or split differently, and at another time', () => {
    const reordered = newHold(
      input({ lines: [line('CUP', 'sh-02', 1), line('TEA', 'sh-01', 1), line('TEA', 'sh-01', 1)] }),
      later,
    );
    expect(sameRequest(first, reordered)).toBe(true);
    expect(sameRequest(first, newHold(input({ lines, expiresAt: inMs(60 * 60_000) }), now))).toBe(true);
  });

  it.each([
    ['another owner', input({ lines, ownerId: 'order:o-2' })],
    ['another quantity', input({ lines: [line('TEA', 'sh-01', 3), line('CUP', 'sh-02', 1)] })],
    ['another location', input({ lines: [line('TEA', 'sh-03', 2), line('CUP', 'sh-02', 1)] })],
    ['another SKU', input({ lines: [line('POT', 'sh-01', 2), line('CUP', 'sh-02', 1)] })],
    ['a line fewer', input({ lines: [line('TEA', 'sh-01', 2)] })],
  ])('is false for %s', (_case, other) => {
    expect(sameRequest(first, newHold(other, now))).toBe(false);
  });
});

describe('hold transitions', () => {
  const statuses: HoldStatus[] = ['PENDING', 'ACTIVE', 'RELEASED', 'COMMITTED', 'EXPIRED', 'FAILED'];
  const afterExpiry = inMs(20 * 60_000);
  // Each action, the only status it starts from, and the status it ends in. Expire runs after the expiry passed.
  const actions: [string, HoldStatus, HoldStatus, (hold: Hold) => Hold][] = [
    ['activate', 'PENDING', 'ACTIVE', (h) => activate(h, later)],
    ['fail', 'PENDING', 'FAILED', (h) => fail(h, 'insufficient stock', [], later)],
    ['release', 'ACTIVE', 'RELEASED', (h) => release(h, '', later)],
    ['commit', 'ACTIVE', 'COMMITTED', (h) => commit(h, later)],
    ['expire', 'ACTIVE', 'EXPIRED', (h) => expire(h, afterExpiry)],
    ['extend', 'ACTIVE', 'ACTIVE', (h) => extend(h, inMs(30 * 60_000), later)],
  ];
  const cases = actions.flatMap(([action, from, to, apply]) =>
    statuses.map((status) => ({ action, status, allowed: status === from, to, apply })),
  );

  it.each(cases.filter((c) => c.allowed))('$action from $status is allowed', ({ status, to, apply }) => {
    const hold = holdIn(status, { version: 3 });
    const next = apply(hold);
    expect(next.status).toBe(to);
    expect(next.version).toBe(4);
    expect(next.lines).toEqual(hold.lines);
    expect(next.createdAt).toEqual(now);
    expect(hold.status).toBe(status); // the old value is left alone
  });

  it.each(cases.filter((c) => !c.allowed))('$action from $status is refused', ({ action, status, apply }) => {
    const error = errorOf(() => apply(holdIn(status)));
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toBe(`Cannot ${action} hold "h-1": it is ${status.toLowerCase()}`);
  });

  it('stamps the time of the change', () => {
    expect(activate(holdIn('PENDING'), later).updatedAt).toEqual(later);
    expect(commit(holdIn('ACTIVE'), later).updatedAt).toEqual(later);
    expect(expire(holdIn('ACTIVE'), afterExpiry).updatedAt).toEqual(afterExpiry);
  });

  it('fail keeps the reason and the shortages', () => {
    const shortages = [{ ...line('TEA-250', 'sh-01', 2), available: 1 }];
    const failed = fail(holdIn('PENDING'), 'insufficient stock: TEA-250', shortages, later);
    expect(failed).toMatchObject({ status: 'FAILED', reason: 'insufficient stock: TEA-250', shortages });
  });

  it('release says "released" unless given a reason, and refuses a reason over 500 characters', () => {
    expect(release(holdIn('ACTIVE'), '', later).reason).toBe('released');
    expect(release(holdIn('ACTIVE'), 'customer cancelled', later).reason).toBe('customer cancelled');
    expect(release(holdIn('ACTIVE'), 'x'.repeat(500), later).status).toBe('RELEASED');
    // The request is checked before the state: a too-long reason is INVALID_ARGUMENT even on a settled hold.
    expect(fieldsOf(() => release(holdIn('COMMITTED'), 'x'.repeat(501), later))).toEqual(['reason']);
  });

  it('expire is refused before the expiry and allowed from the expiry on', () => {
    const hold = holdIn('ACTIVE');
    const error = errorOf(() => expire(hold, inMs(-1, hold.expiresAt)));
    expect(error.kind).toBe('failed-precondition');
    expect(error.message).toBe('Cannot expire hold "h-1": it runs until 2026-11-22T10:10:00.000Z');
    expect(expire(hold, hold.expiresAt)).toMatchObject({ status: 'EXPIRED', reason: 'expired' });
  });

  it('isFinal is true exactly for the statuses nothing can change', () => {
    expect(statuses.filter(isFinal)).toEqual(['RELEASED', 'COMMITTED', 'EXPIRED', 'FAILED']);
  });
});

describe('extend', () => {
  const hold = holdIn('ACTIVE');

  it('moves the expiry, later or sooner, measured from now', () => {
    expect(extend(hold, inMs(60 * 60_000), later).expiresAt).toEqual(inMs(60 * 60_000));
    expect(extend(hold, inMs(60_000, later), later).expiresAt).toEqual(inMs(60_000, later));
    // Seven days from the time of the extension, not from the hold's creation.
    expect(extend(hold, inMs(MAX_HOLD_TTL_MS, later), later).expiresAt).toEqual(inMs(MAX_HOLD_TTL_MS, later));
  });

  it.each([
    ['in the past', inMs(-1, later), 'must be in the future'],
    ['now', later, 'must be in the future'],
    ['more than 7 days ahead', inMs(MAX_HOLD_TTL_MS + 1, later), 'must be at most 7 days ahead'],
  ])('refuses a new expiry %s', (_case, expiresAt, description) => {
    const error = errorOf(() => extend(hold, expiresAt, later));
    expect(error.kind).toBe('invalid-argument');
    expect(error.violations).toEqual([{ field: 'expire_time', description }]);
  });

  it('checks the new expiry before the status', () => {
    expect(errorOf(() => extend(holdIn('RELEASED'), inMs(-1, later), later)).kind).toBe('invalid-argument');
    expect(errorOf(() => extend(holdIn('RELEASED'), inMs(60_000, later), later)).kind).toBe('failed-precondition');
  });
});
