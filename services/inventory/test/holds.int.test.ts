// Holds through the real gRPC server, against the real database and Kafka: no oversell under concurrency, no double
// counting of repeats, all-or-nothing multi-line holds, expiry by the sweeper, and bad input that changes nothing.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { ReservationExpired, StockReserved } from '@o2o/contracts/gen/o2o/inventory/v1/events';
import { HoldStatus, LocationStatus, type ReserveRequest } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { waitFor } from '@o2o/kit-testing';
import { collectTopic, type Harness, refusal, skuCode, startHarness, statusOf } from './harness';

let h: Harness;
let topic: Awaited<ReturnType<typeof collectTopic>>;
const STORE = 'sh-nanjing-rd';
const DARK = 'sh-dark-1';

beforeAll(async () => {
  h = await startHarness();
  topic = await collectTopic(h.service.topic);
  await h.addLocation(STORE);
  await h.addLocation(DARK, { name: 'Jing’an dark store', point: { latitude: 31.2286, longitude: 121.4484 } });
});
afterAll(async () => {
  await topic?.stop();
  await h?.close();
});

async function stockOf(sku: string, location = STORE) {
  const { stock } = await h.client.getStock({ skuCode: sku, locationId: location });
  return { onHand: Number(stock?.onHand), held: Number(stock?.held), available: Number(stock?.available) };
}

function oneUnit(sku: string, holdId = randomUUID()): ReserveRequest {
  return {
    holdId,
    ownerId: `order-${holdId}`,
    lines: [{ skuCode: sku, locationId: STORE, quantity: '1' }],
    expireTime: undefined,
  };
}

async function outcomes(calls: Promise<unknown>[]) {
  const settled = await Promise.allSettled(calls);
  const ok = settled.filter((s) => s.status === 'fulfilled').length;
  const codes = settled.flatMap((s) => (s.status === 'rejected' ? [statusOf(s.reason).code] : []));
  return { ok, codes };
}

describe('no oversell', () => {
  it('200 concurrent holds of 1 unit on 25 available: exactly 25 succeed, nothing negative, release restores 25', async () => {
    const sku = skuCode('hot');
    await h.announceSkus([sku]);
    await h.receive(sku, STORE, 25);
    const requests = Array.from({ length: 200 }, () => oneUnit(sku));
    const { ok, codes } = await outcomes(requests.map((r) => h.client.reserve(r)));
    expect(ok).toBe(25);
    expect(codes).toHaveLength(175);
    expect(new Set(codes)).toEqual(new Set([status.FAILED_PRECONDITION]));
    expect(await stockOf(sku)).toEqual({ onHand: 25, held: 25, available: 0 });

    // Refused holds are FAILED, or were never recorded when a read already showed no stock.
    const holds = await Promise.all(
      requests.map((r) => h.client.getHold({ holdId: r.holdId }).catch(() => ({ hold: undefined }))),
    );
    const active = holds.filter((x) => x.hold?.status === HoldStatus.HOLD_STATUS_ACTIVE);
    expect(active).toHaveLength(25);
    expect(holds.every((x) => x.hold === undefined || x.hold.status !== HoldStatus.HOLD_STATUS_PENDING)).toBe(true);

    await Promise.all(active.map((x) => h.client.releaseHold({ holdId: x.hold?.id ?? '', reason: 'test' })));
    expect(await stockOf(sku)).toEqual({ onHand: 25, held: 0, available: 25 });
  });

  it('the same with every request sent twice at once: 25 holds, counted once each', async () => {
    const sku = skuCode('dup');
    await h.announceSkus([sku]);
    await h.receive(sku, STORE, 25);
    const requests = Array.from({ length: 200 }, () => oneUnit(sku));
    // ABORTED means "the first copy is still being applied: retry", so each copy retries it as a client would.
    const reserveRetrying = async (r: ReserveRequest) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await h.client.reserve(r);
        } catch (error) {
          if (statusOf(error).code !== Number(status.ABORTED) || attempt === 5) throw error;
        }
      }
    };
    const calls = requests.flatMap((r) => [reserveRetrying(r), reserveRetrying(r)]);
    const settled = await Promise.allSettled(calls);
    expect(await stockOf(sku)).toEqual({ onHand: 25, held: 25, available: 0 });
    // Both copies of a request got the same answer.
    const byHold = new Map<string, string[]>();
    settled.forEach((s, i) => {
      const id = requests[Math.floor(i / 2)]?.holdId ?? '';
      const answer = s.status === 'fulfilled' ? `ok:${s.value.hold?.status}` : `err:${statusOf(s.reason).code}`;
      byHold.set(id, [...(byHold.get(id) ?? []), answer]);
    });
    const winners = [...byHold.values()].filter(([a]) => a === `ok:${HoldStatus.HOLD_STATUS_ACTIVE}`);
    expect(winners).toHaveLength(25);
    for (const answers of byHold.values()) expect(answers[0]).toBe(answers[1]);

    // Releasing twice gives back once.
    const held = requests.filter((r) => byHold.get(r.holdId)?.[0]?.startsWith('ok'));
    await Promise.all(
      held.flatMap((r) => [1, 2].map(() => h.client.releaseHold({ holdId: r.holdId, reason: 'twice' }))),
    );
    expect(await stockOf(sku)).toEqual({ onHand: 25, held: 0, available: 25 });
  });
});

describe('all or nothing', () => {
  it('a multi-line hold where one line lacks stock changes nothing at any location', async () => {
    const [a, b, c] = [skuCode('a'), skuCode('b'), skuCode('c')];
    await h.announceSkus([a, b, c]);
    await h.receive(a, STORE, 10);
    await h.receive(b, DARK, 10);
    await h.receive(c, DARK, 2);
    const before = [await stockOf(a), await stockOf(b, DARK), await stockOf(c, DARK)];
    const holdId = randomUUID();
    const error = await refusal(
      h.client.reserve({
        holdId,
        ownerId: 'order-1',
        lines: [
          { skuCode: a, locationId: STORE, quantity: '3' },
          { skuCode: b, locationId: DARK, quantity: '4' },
          { skuCode: c, locationId: DARK, quantity: '5' },
        ],
        expireTime: undefined,
      }),
    );
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toContain(`SKU "${c}" at "${DARK}" (requested 5, available 2)`);
    expect([await stockOf(a), await stockOf(b, DARK), await stockOf(c, DARK)]).toEqual(before);
    expect((await refusal(h.client.getHold({ holdId }))).code).toBe(status.NOT_FOUND);
    // A repeat gets the same answer and still holds nothing.
    const again = await refusal(
      h.client.reserve({
        holdId,
        ownerId: 'order-1',
        lines: [
          { skuCode: a, locationId: STORE, quantity: '3' },
          { skuCode: b, locationId: DARK, quantity: '4' },
          { skuCode: c, locationId: DARK, quantity: '5' },
        ],
        expireTime: undefined,
      }),
    );
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect([await stockOf(a), await stockOf(b, DARK), await stockOf(c, DARK)]).toEqual(before);
  });

  it('a multi-line hold across locations holds every line, publishes StockReserved, and commits on fulfilment', async () => {
    const [a, b] = [skuCode('a'), skuCode('b')];
    await h.announceSkus([a, b]);
    await h.receive(a, STORE, 10);
    await h.receive(b, DARK, 10);
    const holdId = randomUUID();
    const { hold } = await h.client.reserve({
      holdId,
      ownerId: 'order-2',
      lines: [
        { skuCode: b, locationId: DARK, quantity: '2' },
        { skuCode: a, locationId: STORE, quantity: '1' },
        { skuCode: a, locationId: STORE, quantity: '2' },
      ],
      expireTime: undefined,
    });
    expect(hold?.status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
    expect(hold?.lines).toEqual([
      { skuCode: b, locationId: DARK, quantity: '2' },
      { skuCode: a, locationId: STORE, quantity: '3' },
    ]);
    expect(await stockOf(a)).toEqual({ onHand: 10, held: 3, available: 7 });
    const reserved = await waitFor(() => topic.messages.find((m) => m.key === holdId));
    expect(reserved.headers.ce_type).toBe('o2o.inventory.v1.StockReserved');
    expect(StockReserved.decode(reserved.value).hold?.lines).toHaveLength(2);

    const committed = await h.client.commitHold({ holdId });
    expect(committed.hold?.status).toBe(HoldStatus.HOLD_STATUS_COMMITTED);
    expect(await stockOf(a)).toEqual({ onHand: 7, held: 0, available: 7 });
    expect(await stockOf(b, DARK)).toEqual({ onHand: 8, held: 0, available: 8 });
    expect((await h.client.commitHold({ holdId })).hold?.status).toBe(HoldStatus.HOLD_STATUS_COMMITTED);
    expect(await stockOf(a)).toEqual({ onHand: 7, held: 0, available: 7 });
    expect((await refusal(h.client.releaseHold({ holdId, reason: 'too late' }))).code).toBe(status.FAILED_PRECONDITION);
    await waitFor(() =>
      topic.messages.find((m) => m.key === holdId && m.headers.ce_type?.endsWith('ReservationCommitted')),
    );
  });
});

describe('expiry', () => {
  it('the sweeper releases an expired hold and publishes ReservationExpired', async () => {
    const sku = skuCode('exp');
    await h.announceSkus([sku]);
    await h.receive(sku, STORE, 5);
    const holdId = randomUUID();
    await h.client.reserve({ ...oneUnit(sku, holdId), expireTime: new Date(Date.now() + 1500) });
    expect(await stockOf(sku)).toEqual({ onHand: 5, held: 1, available: 4 });
    await h.service.sweep();
    expect((await h.client.getHold({ holdId })).hold?.status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await h.service.sweep()).expired).toBeGreaterThanOrEqual(1);
    expect(await stockOf(sku)).toEqual({ onHand: 5, held: 0, available: 5 });
    expect((await h.client.getHold({ holdId })).hold?.status).toBe(HoldStatus.HOLD_STATUS_EXPIRED);
    const event = await waitFor(() =>
      topic.messages.find((m) => m.key === holdId && m.headers.ce_type?.endsWith('ReservationExpired')),
    );
    expect(ReservationExpired.decode(event.value).hold?.status).toBe(HoldStatus.HOLD_STATUS_EXPIRED);
    expect((await refusal(h.client.commitHold({ holdId }))).code).toBe(status.FAILED_PRECONDITION);
    // A compensating release of an expired hold is harmless: it holds nothing and stays expired.
    expect((await h.client.releaseHold({ holdId, reason: 'order cancelled' })).hold?.status).toBe(
      HoldStatus.HOLD_STATUS_EXPIRED,
    );
    expect(await stockOf(sku)).toEqual({ onHand: 5, held: 0, available: 5 });
    // Once its event is out, the next pass archives it; it stays readable.
    await waitFor(
      async () => {
        await h.service.sweep();
        return (await h.db.collection('holds').countDocuments({ _id: holdId } as object)) === 0;
      },
      { what: 'the expired hold to be archived' },
    );
    expect((await h.client.getHold({ holdId })).hold?.status).toBe(HoldStatus.HOLD_STATUS_EXPIRED);
    expect(await h.db.collection('holds').countDocuments({ _id: holdId } as object)).toBe(0);
  });

  it('an extended hold outlives its first expiry', async () => {
    const sku = skuCode('ext');
    await h.announceSkus([sku]);
    await h.receive(sku, STORE, 5);
    const holdId = randomUUID();
    await h.client.reserve({ ...oneUnit(sku, holdId), expireTime: new Date(Date.now() + 1000) });
    await h.client.extendHold({ holdId, expireTime: new Date(Date.now() + 60_000) });
    await new Promise((r) => setTimeout(r, 1100));
    await h.service.sweep();
    expect((await h.client.getHold({ holdId })).hold?.status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
    expect(await stockOf(sku)).toEqual({ onHand: 5, held: 1, available: 4 });
  });
});

describe('bad input changes nothing', () => {
  let sku: string;
  beforeAll(async () => {
    sku = skuCode('bad');
    await h.announceSkus([sku]);
    await h.receive(sku, STORE, 10);
  });

  async function refusedWithNothingChanged(request: ReserveRequest, code: status, field?: string) {
    const before = await stockOf(sku);
    const error = await refusal(h.client.reserve(request));
    expect(error.code).toBe(code);
    if (field) expect(decodeFieldViolations(error.metadata).map((v) => v.field)).toContain(field);
    expect(await stockOf(sku)).toEqual(before);
    expect((await refusal(h.client.getHold({ holdId: request.holdId }))).code).toBe(status.NOT_FOUND);
    return error;
  }

  it('zero quantity', async () => {
    const r = oneUnit(sku);
    await refusedWithNothingChanged(
      { ...r, lines: [{ ...r.lines[0]!, quantity: '0' }] },
      status.INVALID_ARGUMENT,
      'lines[0].quantity',
    );
  });

  it('negative quantity', async () => {
    const r = oneUnit(sku);
    await refusedWithNothingChanged(
      { ...r, lines: [{ ...r.lines[0]!, quantity: '-3' }] },
      status.INVALID_ARGUMENT,
      'lines[0].quantity',
    );
  });

  it('unknown SKU', async () => {
    const r = oneUnit(sku);
    const e = await refusedWithNothingChanged(
      { ...r, lines: [...r.lines, { skuCode: 'no-such-sku', locationId: STORE, quantity: '1' }] },
      status.NOT_FOUND,
    );
    expect(e.details).toContain('no-such-sku');
  });

  it('unknown location', async () => {
    const r = oneUnit(sku);
    const e = await refusedWithNothingChanged(
      { ...r, lines: [...r.lines, { skuCode: sku, locationId: 'nowhere', quantity: '1' }] },
      status.NOT_FOUND,
    );
    expect(e.details).toContain('nowhere');
  });

  it('expiry in the past', async () => {
    await refusedWithNothingChanged(
      { ...oneUnit(sku), expireTime: new Date(Date.now() - 1000) },
      status.INVALID_ARGUMENT,
      'expire_time',
    );
  });

  it('10,000 lines', async () => {
    const r = oneUnit(sku);
    const lines = Array.from({ length: 10_000 }, () => ({ skuCode: sku, locationId: STORE, quantity: '1' }));
    await refusedWithNothingChanged({ ...r, lines }, status.INVALID_ARGUMENT, 'lines');
  });

  it('a closed location', async () => {
    const closed = 'sh-closed';
    await h.addLocation(closed, { status: LocationStatus.LOCATION_STATUS_CLOSED });
    const r = oneUnit(sku);
    const e = await refusedWithNothingChanged(
      { ...r, lines: [...r.lines, { skuCode: sku, locationId: closed, quantity: '1' }] },
      status.FAILED_PRECONDITION,
    );
    expect(e.details).toContain('closed');
  });

  it('a discontinued SKU', async () => {
    const gone = skuCode('gone');
    await h.announceSkus([gone]);
    await h.receive(gone, STORE, 3);
    await h.announceSkus([gone], { discontinued: true });
    const r = oneUnit(gone);
    expect((await refusal(h.client.reserve(r))).code).toBe(status.FAILED_PRECONDITION);
    expect(await stockOf(gone)).toEqual({ onHand: 3, held: 0, available: 3 });
  });

  it('a hold id reused for other lines', async () => {
    const r = oneUnit(sku);
    await h.client.reserve(r);
    const before = await stockOf(sku);
    const error = await refusal(h.client.reserve({ ...r, lines: [{ ...r.lines[0]!, quantity: '2' }] }));
    expect(error.code).toBe(status.ALREADY_EXISTS);
    expect(await stockOf(sku)).toEqual(before);
  });

  it('a missing hold id and owner', async () => {
    const error = await refusal(h.client.reserve({ ...oneUnit(sku), holdId: '', ownerId: '' }));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(error.metadata).map((v) => v.field)).toEqual(['hold_id', 'owner_id']);
  });
});

describe('crash recovery', () => {
  it('a hold left PENDING by a crash mid-way is failed by the sweeper and its held lines are given back', async () => {
    const sku = skuCode('crash');
    await h.announceSkus([sku]);
    await h.receive(sku, STORE, 10);
    // What a process killed after holding the first line leaves behind: the PENDING hold and one held line.
    const holdId = randomUUID();
    const past = new Date(Date.now() - 120_000);
    await h.db.collection('holds').insertOne({
      _id: holdId,
      ownerId: 'order-crashed',
      lines: [
        { skuCode: sku, locationId: STORE, quantity: 3 },
        { skuCode: sku, locationId: DARK, quantity: 1 },
      ],
      status: 'PENDING',
      expiresAt: new Date(Date.now() + 600_000),
      reason: '',
      shortages: [],
      version: 1,
      createdAt: past,
      updatedAt: past,
      sweepAt: past,
      settled: false,
      outbox: [],
    } as object);
    await h.db.collection('stock').updateOne(
      { _id: `${sku}@${STORE}` } as object,
      {
        $inc: { free: -3, held: 3, version: 1 },
        $push: { holding: holdId },
      } as object,
    );
    expect(await stockOf(sku)).toEqual({ onHand: 10, held: 3, available: 7 });
    // A client retrying the same hold meanwhile is told to come back, not given a half-applied hold.
    const retry = await refusal(h.client.releaseHold({ holdId, reason: 'client gave up' }));
    expect(retry.code).toBe(status.ABORTED);

    expect((await h.service.sweep()).recovered).toBeGreaterThanOrEqual(1);
    expect(await stockOf(sku)).toEqual({ onHand: 10, held: 0, available: 10 });
    const { hold } = await h.client.getHold({ holdId });
    expect(hold?.status).toBe(HoldStatus.HOLD_STATUS_FAILED);
    expect(hold?.reason).toContain('interrupted');
  });
});
