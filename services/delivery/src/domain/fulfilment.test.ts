// The fulfilment aggregate: the task's lifecycle and deadlines, the pick-up code, the shipment and its courier, and
// cancellation. Every refused command is checked to leave the aggregate exactly as it was (state and events), and
// every repeated command to change nothing at all (not even updatedAt).
import { DeliveryError, type DeliveryErrorKind } from './errors';
import {
  busyCouriers,
  type CodeCheck,
  Fulfilment,
  fulfilmentIdFor,
  fulfilmentIdOfShipment,
  shipmentIdFor,
} from './fulfilment';
import { codeMatches, handoverCode } from '../app/handover-code';
import type { FulfilmentState, FulfilmentType } from './types';
import { MIN, T0, TEST_POLICY } from '../app/testing/fixtures';

const t0 = T0;
const policy = TEST_POLICY;
const SECRET = 'test-secret';
const STORE = 'store-1';
const PEOPLES_SQUARE = { latitude: 31.2304, longitude: 121.4737 };
const THE_BUND = { latitude: 31.2397, longitude: 121.4903 };

/** `ms` after t0. */
function at(ms: number): Date {
  return new Date(t0.getTime() + ms);
}

function newFulfilment(type: FulfilmentType = 'STORE_PICKUP', now = t0): Fulfilment {
  return Fulfilment.create(
    {
      orderId: 'o-1',
      groupId: 'g-1',
      locationId: STORE,
      type,
      items: [{ sku: 'A', quantity: 2 }],
      customerId: 'c-1',
      ...(type === 'STORE_PICKUP'
        ? {}
        : { delivery: { point: THE_BUND, recipientName: 'Li Lei' }, origin: PEOPLES_SQUARE }),
    },
    policy,
    now,
  );
}

/** The real code check, as the use cases build it. */
function checkFor(f: Fulfilment): CodeCheck {
  const id = f.snapshot().id;
  return (purpose, nonce, given) => codeMatches(handoverCode(SECRET, { fulfilmentId: id, purpose, nonce }), given);
}

function pickupCode(f: Fulfilment): string {
  const s = f.snapshot();
  return handoverCode(SECRET, { fulfilmentId: s.id, purpose: 'pickup', nonce: s.pickup!.code.nonce });
}

function deliveryCode(f: Fulfilment): string {
  const s = f.snapshot();
  return handoverCode(SECRET, { fulfilmentId: s.id, purpose: 'delivery', nonce: s.shipment!.code.nonce });
}

/** A six-digit code that is not `code`. */
function other(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

/** Asserts the command throws a DeliveryError of `kind` and leaves state and events exactly as they were. */
function expectRefused(f: Fulfilment, command: () => unknown, kind: DeliveryErrorKind): DeliveryError {
  f.pullEvents();
  const before = f.snapshot();
  let thrown: unknown;
  try {
    command();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DeliveryError);
  expect((thrown as DeliveryError).kind).toBe(kind);
  expect(f.snapshot()).toEqual(before);
  expect(f.pullEvents()).toEqual([]);
  return thrown as DeliveryError;
}

/** Asserts the command changes nothing (a repeat): no events, same state, updatedAt included. */
function expectNoop<R>(f: Fulfilment, command: () => R): R {
  f.pullEvents();
  const before = f.snapshot();
  const result = command();
  expect(f.snapshot()).toEqual(before);
  expect(f.pullEvents()).toEqual([]);
  return result;
}

/** A delivery group accepted, offered to and accepted by `courier`. */
function assigned(courier = 'k-1', type: FulfilmentType = 'HOME_DELIVERY'): Fulfilment {
  const f = newFulfilment(type);
  f.accept({ locationId: STORE }, at(MIN));
  f.offerTo(courier, at(MIN));
  f.acceptAssignment(courier, at(MIN + 10_000));
  f.pullEvents();
  return f;
}

/** A delivery group out for delivery with `courier`. */
function outForDelivery(courier = 'k-1'): Fulfilment {
  const f = assigned(courier);
  f.markReady({ locationId: STORE }, at(5 * MIN));
  f.confirmCollection(courier, at(6 * MIN));
  f.startDelivery(courier, at(7 * MIN));
  f.pullEvents();
  return f;
}

/** A store pick-up ready at `readyAt`. */
function readyPickup(readyAt = at(3 * MIN)): Fulfilment {
  const f = newFulfilment();
  f.accept({ locationId: STORE }, at(MIN));
  f.markReady({ locationId: STORE }, readyAt);
  f.pullEvents();
  return f;
}

describe('ids', () => {
  it('derives the fulfilment id from order and group', () => {
    expect(fulfilmentIdFor('o-1', 'g-1')).toBe('o-1.g-1');
    expect(newFulfilment().snapshot().id).toBe(fulfilmentIdFor('o-1', 'g-1'));
  });

  it('round-trips a shipment id to its fulfilment id', () => {
    for (const id of ['o-1.g-1', 'a', 'x.s', 'weird.s.s']) {
      expect(fulfilmentIdOfShipment(shipmentIdFor(id))).toBe(id);
    }
  });

  it('answers undefined for ids that are not shipment ids', () => {
    for (const id of ['', '.s', 's', 'o-1.g-1', 'o-1.g-1.x', 'o-1.g-1s']) {
      expect(fulfilmentIdOfShipment(id)).toBeUndefined();
    }
  });
});

describe('create, fromState and snapshot', () => {
  it('opens the task with its accept deadline due, and announces nothing', () => {
    const f = newFulfilment();
    expect(f.snapshot()).toEqual<FulfilmentState>({
      id: 'o-1.g-1',
      orderId: 'o-1',
      groupId: 'g-1',
      locationId: STORE,
      type: 'STORE_PICKUP',
      items: [{ sku: 'A', quantity: 2 }],
      customerId: 'c-1',
      task: { status: 'OPEN', acceptBy: at(policy.acceptMs), overdue: [] },
      dueAt: at(policy.acceptMs),
      version: 0,
      createdAt: t0,
      updatedAt: t0,
    });
    expect(f.pullEvents()).toEqual([]);
    expect(busyCouriers(f.snapshot())).toEqual([]);
  });

  it('keeps the destination and origin of a delivery group', () => {
    const s = newFulfilment('HOME_DELIVERY').snapshot();
    expect(s.delivery).toEqual({ point: THE_BUND, recipientName: 'Li Lei' });
    expect(s.origin).toEqual(PEOPLES_SQUARE);
    expect(s.shipment).toBeUndefined();
  });

  it.each(['HOME_DELIVERY', 'SHIP_FROM_STORE'] as const)('refuses a %s group without destination or origin', (type) => {
    const base = { orderId: 'o-1', groupId: 'g-1', locationId: STORE, type, items: [] };
    const kind = (input: Parameters<typeof Fulfilment.create>[0]) => {
      try {
        Fulfilment.create(input, policy, t0);
      } catch (error) {
        return (error as DeliveryError).kind;
      }
      return 'created';
    };
    expect(kind(base)).toBe('invalid-argument');
    expect(kind({ ...base, origin: PEOPLES_SQUARE })).toBe('invalid-argument');
    expect(kind({ ...base, delivery: { point: THE_BUND } })).toBe('invalid-argument');
    expect(kind({ ...base, delivery: { point: THE_BUND }, origin: PEOPLES_SQUARE })).toBe('created');
  });

  it('copies the items it is given, and snapshots are copies', () => {
    const items = [{ sku: 'A', quantity: 1 }];
    const f = Fulfilment.create(
      { orderId: 'o', groupId: 'g', locationId: STORE, type: 'STORE_PICKUP', items },
      policy,
      t0,
    );
    items[0]!.quantity = 99;
    const s = f.snapshot();
    expect(s.items).toEqual([{ sku: 'A', quantity: 1 }]);
    s.task.status = 'CANCELLED';
    expect(f.snapshot().task.status).toBe('OPEN');
  });

  it('moves updatedAt forward on every change, even within one millisecond or with a clock behind', () => {
    // The repository writes only when updatedAt moved or events came: a change leaving it equal would be lost.
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    expect(f.snapshot().updatedAt).toEqual(at(MIN));
    f.offerTo('k-1', at(MIN));
    expect(f.snapshot().updatedAt).toEqual(at(MIN + 1));
    f.declineOffer('k-1', at(MIN - 5_000));
    expect(f.snapshot().updatedAt).toEqual(at(MIN + 2));
    f.noCourierFound(at(2 * MIN));
    expect(f.snapshot().updatedAt).toEqual(at(2 * MIN));
  });

  it('rebuilds from a copy of the stored state', () => {
    const stored = newFulfilment().snapshot();
    const f = Fulfilment.fromState(stored, policy);
    stored.task.status = 'CANCELLED';
    expect(f.snapshot().task.status).toBe('OPEN');
    f.accept({ locationId: STORE }, at(MIN));
    expect(stored.task.acceptedAt).toBeUndefined();
  });
});

describe('task lifecycle', () => {
  it('goes OPEN → ACCEPTED → PICKED → READY, recording times, deadlines and what is due', () => {
    const f = newFulfilment();
    f.accept({ locationId: STORE, associateId: 'a-7' }, at(MIN));
    expect(f.pullEvents()).toEqual([{ type: 'TaskAccepted', time: at(MIN) }]);
    let s = f.snapshot();
    expect(s.task).toEqual({
      status: 'ACCEPTED',
      acceptBy: at(policy.acceptMs),
      acceptedAt: at(MIN),
      pickBy: at(MIN + policy.pickMs),
      overdue: [],
      associateId: 'a-7',
    });
    expect(s.updatedAt).toEqual(at(MIN));
    expect(s.dueAt).toEqual(at(MIN + policy.pickMs));
    expect(s.shipment).toBeUndefined();

    f.markPicked({ locationId: STORE }, at(4 * MIN));
    expect(f.pullEvents()).toEqual([]);
    s = f.snapshot();
    expect(s.task.status).toBe('PICKED');
    expect(s.task.pickedAt).toEqual(at(4 * MIN));
    expect(s.task.packBy).toEqual(at(4 * MIN + policy.packMs));
    expect(s.dueAt).toEqual(at(4 * MIN + policy.packMs));
    expect(s.updatedAt).toEqual(at(4 * MIN));

    f.markReady({ locationId: STORE }, at(6 * MIN));
    expect(f.pullEvents()).toEqual([{ type: 'ReadyForPickup', time: at(6 * MIN) }]);
    s = f.snapshot();
    expect(s.task.status).toBe('READY');
    expect(s.task.readyAt).toEqual(at(6 * MIN));
    expect(s.task.pickedAt).toEqual(at(4 * MIN));
    expect(s.pickup).toEqual({
      readyAt: at(6 * MIN),
      expiresAt: at(6 * MIN + policy.pickupExpiryMs),
      code: { nonce: expect.any(String), failedAttempts: 0 },
    });
    expect(s.dueAt).toEqual(at(6 * MIN + policy.pickupExpiryMs));
    expect(s.version).toBe(0);
  });

  it('goes from ACCEPTED straight to READY (picking and packing in one step)', () => {
    const f = newFulfilment();
    f.accept({ locationId: STORE }, at(MIN));
    f.markReady({ locationId: STORE }, at(2 * MIN));
    const s = f.snapshot();
    expect(s.task.status).toBe('READY');
    expect(s.task.pickedAt).toEqual(at(2 * MIN));
    expect(s.task.packBy).toBeUndefined();
    expect(s.task.associateId).toBeUndefined();
    expect(f.pullEvents().map((e) => e.type)).toEqual(['TaskAccepted', 'ReadyForPickup']);
  });

  it('gives each pick-up a fresh random nonce', () => {
    expect(readyPickup().snapshot().pickup!.code.nonce).not.toBe(readyPickup().snapshot().pickup!.code.nonce);
  });

  it('refuses every task command from another location', () => {
    const f = newFulfilment();
    expectRefused(f, () => f.accept({ locationId: 'store-2' }, at(MIN)), 'permission-denied');
    f.accept({ locationId: STORE }, at(MIN));
    expectRefused(f, () => f.markPicked({ locationId: 'store-2' }, at(2 * MIN)), 'permission-denied');
    expectRefused(f, () => f.markReady({ locationId: 'store-2' }, at(2 * MIN)), 'permission-denied');
    f.markReady({ locationId: STORE }, at(2 * MIN));
    // Even a repeat is refused from elsewhere.
    expectRefused(f, () => f.accept({ locationId: 'store-2' }, at(3 * MIN)), 'permission-denied');
  });

  it('refuses picking or packing a task nobody accepted', () => {
    const f = newFulfilment();
    const error = expectRefused(f, () => f.markPicked({ locationId: STORE }, at(MIN)), 'failed-precondition');
    expect(error.message).toBe('Cannot mark picked fulfilment "o-1.g-1": its task is not accepted yet');
    expectRefused(f, () => f.markReady({ locationId: STORE }, at(MIN)), 'failed-precondition');
  });

  it('treats repeats as no-ops, even later and with another associate', () => {
    const f = newFulfilment();
    f.accept({ locationId: STORE, associateId: 'a-1' }, at(MIN));
    expectNoop(f, () => f.accept({ locationId: STORE, associateId: 'a-2' }, at(2 * MIN)));
    f.markPicked({ locationId: STORE }, at(3 * MIN));
    expectNoop(f, () => f.markPicked({ locationId: STORE }, at(4 * MIN)));
    expectNoop(f, () => f.accept({ locationId: STORE }, at(4 * MIN)));
    f.markReady({ locationId: STORE }, at(5 * MIN));
    expectNoop(f, () => f.markReady({ locationId: STORE }, at(6 * MIN)));
    expectNoop(f, () => f.markPicked({ locationId: STORE }, at(6 * MIN)));
    expectNoop(f, () => f.accept({ locationId: STORE }, at(6 * MIN)));
    f.verifyPickup({ locationId: STORE, code: pickupCode(f) }, checkFor(f), at(7 * MIN));
    expectNoop(f, () => f.accept({ locationId: STORE }, at(8 * MIN)));
    expectNoop(f, () => f.markPicked({ locationId: STORE }, at(8 * MIN)));
    expectNoop(f, () => f.markReady({ locationId: STORE }, at(8 * MIN)));
  });

  it('refuses task commands once the order is cancelled', () => {
    for (const step of [0, 1, 2, 3]) {
      const f = newFulfilment();
      if (step >= 1) f.accept({ locationId: STORE }, at(MIN));
      if (step >= 2) f.markPicked({ locationId: STORE }, at(MIN));
      if (step >= 3) f.markReady({ locationId: STORE }, at(MIN));
      f.cancel(at(2 * MIN));
      for (const command of [
        () => f.accept({ locationId: STORE }, at(3 * MIN)),
        () => f.markPicked({ locationId: STORE }, at(3 * MIN)),
        () => f.markReady({ locationId: STORE }, at(3 * MIN)),
      ]) {
        expectRefused(f, command, 'failed-precondition');
      }
    }
  });

  it('refuses task commands once the pick-up expired', () => {
    const f = readyPickup(at(MIN));
    f.tick(at(MIN + policy.pickupExpiryMs));
    expect(f.snapshot().task.status).toBe('EXPIRED');
    const later = at(MIN + policy.pickupExpiryMs + 1);
    const error = expectRefused(f, () => f.accept({ locationId: STORE }, later), 'failed-precondition');
    expect(error.message).toContain('expired');
    expectRefused(f, () => f.markPicked({ locationId: STORE }, later), 'failed-precondition');
    expectRefused(f, () => f.markReady({ locationId: STORE }, later), 'failed-precondition');
  });
});

describe('deadlines', () => {
  it('announces a task not accepted in time, once; then nothing is due', () => {
    const f = newFulfilment();
    expect(expectNoop(f, () => f.tick(at(policy.acceptMs - 1)))).toBe(false);
    expect(f.tick(at(policy.acceptMs))).toBe(true);
    expect(f.pullEvents()).toEqual([{ type: 'TaskOverdue', stage: 'ACCEPT', deadline: at(policy.acceptMs) }]);
    const s = f.snapshot();
    expect(s.task.overdue).toEqual(['ACCEPT']);
    expect(s.task.status).toBe('OPEN');
    expect(s.updatedAt).toEqual(at(policy.acceptMs));
    expect(s.dueAt).toBeUndefined();
    expect(expectNoop(f, () => f.tick(at(policy.acceptMs + 60 * MIN)))).toBe(false);
  });

  it('still takes a late acceptance, keeping the overdue mark, and then watches the pick deadline', () => {
    const f = newFulfilment();
    f.tick(at(10 * MIN));
    f.accept({ locationId: STORE }, at(11 * MIN));
    const s = f.snapshot();
    expect(s.task.status).toBe('ACCEPTED');
    expect(s.task.overdue).toEqual(['ACCEPT']);
    expect(s.dueAt).toEqual(at(11 * MIN + policy.pickMs));
  });

  it('announces PICK and PACK once each, at their deadlines', () => {
    const f = newFulfilment();
    f.accept({ locationId: STORE }, at(MIN));
    const pickBy = at(MIN + policy.pickMs);
    expect(expectNoop(f, () => f.tick(at(MIN + policy.pickMs - 1)))).toBe(false);
    expect(f.tick(pickBy)).toBe(true);
    expect(f.pullEvents()).toEqual([{ type: 'TaskOverdue', stage: 'PICK', deadline: pickBy }]);
    expect(f.snapshot().dueAt).toBeUndefined();
    expect(expectNoop(f, () => f.tick(at(60 * MIN)))).toBe(false);

    f.markPicked({ locationId: STORE }, at(61 * MIN));
    const packBy = at(61 * MIN + policy.packMs);
    expect(f.snapshot().dueAt).toEqual(packBy);
    expect(f.tick(at(90 * MIN))).toBe(true);
    expect(f.pullEvents()).toEqual([{ type: 'TaskOverdue', stage: 'PACK', deadline: packBy }]);
    expect(f.snapshot().task.overdue).toEqual(['PICK', 'PACK']);
    expect(f.snapshot().dueAt).toBeUndefined();
    expect(expectNoop(f, () => f.tick(at(120 * MIN)))).toBe(false);

    f.markReady({ locationId: STORE }, at(121 * MIN));
    expect(f.snapshot().dueAt).toEqual(at(121 * MIN + policy.pickupExpiryMs));
  });

  it('only announces the stage the task is in (a deadline it already passed is not announced later)', () => {
    const f = newFulfilment();
    f.accept({ locationId: STORE }, at(MIN));
    f.markPicked({ locationId: STORE }, at(2 * MIN));
    f.pullEvents();
    f.tick(at(600 * MIN));
    expect(f.pullEvents()).toEqual([{ type: 'TaskOverdue', stage: 'PACK', deadline: at(2 * MIN + policy.packMs) }]);
  });

  it('announces nothing for a task that is ready, handed over or cancelled', () => {
    const delivery = newFulfilment('HOME_DELIVERY');
    delivery.accept({ locationId: STORE }, at(MIN));
    delivery.markReady({ locationId: STORE }, at(2 * MIN));
    delivery.offerTo('k-1', at(2 * MIN));
    delivery.acceptAssignment('k-1', at(2 * MIN));
    expect(delivery.snapshot().dueAt).toBeUndefined();
    expect(expectNoop(delivery, () => delivery.tick(at(10_000 * MIN)))).toBe(false);

    const cancelled = newFulfilment();
    cancelled.cancel(at(MIN));
    expect(expectNoop(cancelled, () => cancelled.tick(at(10_000 * MIN)))).toBe(false);
  });

  it('expires an uncollected pick-up at its expiry time, once', () => {
    const f = readyPickup(at(3 * MIN));
    const expiry = at(3 * MIN + policy.pickupExpiryMs);
    expect(f.snapshot().pickup!.expiresAt).toEqual(expiry);
    expect(expectNoop(f, () => f.tick(new Date(expiry.getTime() - 1)))).toBe(false);
    expect(f.tick(expiry)).toBe(true);
    expect(f.pullEvents()).toEqual([{ type: 'PickupExpired', time: expiry }]);
    const s = f.snapshot();
    expect(s.task.status).toBe('EXPIRED');
    expect(s.dueAt).toBeUndefined();
    expect(expectNoop(f, () => f.tick(at(100_000 * MIN)))).toBe(false);
    expect(expectNoop(f, () => f.cancel(at(100_000 * MIN)))).toBe(false);
  });

  it('announces the deadline and expires in one tick when both are past', () => {
    const f = newFulfilment();
    f.accept({ locationId: STORE }, at(MIN));
    f.markReady({ locationId: STORE }, at(2 * MIN));
    f.pullEvents();
    // READY: the PICK deadline no longer counts, only the expiry.
    f.tick(at(2 * MIN + policy.pickupExpiryMs));
    expect(f.pullEvents().map((e) => e.type)).toEqual(['PickupExpired']);
  });

  it('never expires a delivery group waiting for its courier', () => {
    const f = assigned();
    f.markReady({ locationId: STORE }, at(2 * MIN));
    expect(expectNoop(f, () => f.tick(at(policy.pickupExpiryMs * 10)))).toBe(false);
    expect(f.snapshot().task.status).toBe('READY');
  });
});

describe('pick-up verification', () => {
  it('hands over with the right code at the right store', () => {
    const f = readyPickup();
    const check = jest.fn(checkFor(f));
    expect(f.verifyPickup({ locationId: STORE, code: pickupCode(f), associateId: 'a-1' }, check, at(10 * MIN))).toBe(
      'accepted',
    );
    expect(check).toHaveBeenCalledWith('pickup', f.snapshot().pickup!.code.nonce, pickupCode(f));
    expect(f.pullEvents()).toEqual([{ type: 'PickedUp', byCourier: false, time: at(10 * MIN) }]);
    const s = f.snapshot();
    expect(s.task.status).toBe('HANDED_OVER');
    expect(s.task.handedOverAt).toEqual(at(10 * MIN));
    expect(s.pickup!.collectedAt).toEqual(at(10 * MIN));
    expect(s.dueAt).toBeUndefined();
  });

  it('answers a repeat after the hand-over as it is', () => {
    const f = readyPickup();
    f.verifyPickup({ locationId: STORE, code: pickupCode(f) }, checkFor(f), at(10 * MIN));
    const result = expectNoop(f, () =>
      f.verifyPickup({ locationId: STORE, code: pickupCode(f) }, checkFor(f), at(11 * MIN)),
    );
    expect(result).toBe('accepted');
  });

  it('counts nothing and changes nothing for a wrong code after the hand-over', () => {
    const f = readyPickup();
    f.verifyPickup({ locationId: STORE, code: pickupCode(f) }, checkFor(f), at(10 * MIN));
    const wrong = other(pickupCode(f));
    for (let i = 0; i < policy.codeMaxAttempts + 1; i++) {
      const result = expectNoop(f, () => f.verifyPickup({ locationId: STORE, code: wrong }, checkFor(f), at(11 * MIN)));
      expect(result).toBe('wrong-code');
    }
    expect(
      expectNoop(f, () => f.verifyPickup({ locationId: STORE, code: pickupCode(f) }, checkFor(f), at(12 * MIN))),
    ).toBe('accepted');
  });

  it('counts a wrong code and changes nothing else', () => {
    const f = readyPickup();
    const before = f.snapshot();
    expect(f.verifyPickup({ locationId: STORE, code: other(pickupCode(f)) }, checkFor(f), at(10 * MIN))).toBe(
      'wrong-code',
    );
    expect(f.pullEvents()).toEqual([]);
    const after = f.snapshot();
    expect(after).toEqual({
      ...before,
      pickup: { ...before.pickup!, code: { ...before.pickup!.code, failedAttempts: 1 } },
      updatedAt: at(10 * MIN),
    });
  });

  it('locks after too many wrong codes, refuses even the right code while locked, and unlocks after the lock', () => {
    const f = readyPickup();
    const right = pickupCode(f);
    const wrong = other(right);
    for (let i = 1; i < policy.codeMaxAttempts; i++) {
      f.verifyPickup({ locationId: STORE, code: wrong }, checkFor(f), at(10 * MIN));
      expect(f.snapshot().pickup!.code).toMatchObject({ failedAttempts: i });
      expect(f.snapshot().pickup!.code.lockedUntil).toBeUndefined();
    }
    expect(f.verifyPickup({ locationId: STORE, code: wrong }, checkFor(f), at(11 * MIN))).toBe('wrong-code');
    const lockedUntil = at(11 * MIN + policy.codeLockMs);
    expect(f.snapshot().pickup!.code).toEqual({
      nonce: expect.any(String),
      failedAttempts: 0,
      lockedUntil,
    });
    const error = expectRefused(
      f,
      () => f.verifyPickup({ locationId: STORE, code: right }, checkFor(f), new Date(lockedUntil.getTime() - 1)),
      'resource-exhausted',
    );
    expect(error.message).toContain(lockedUntil.toISOString());
    expectRefused(
      f,
      () => f.verifyPickup({ locationId: STORE, code: wrong }, checkFor(f), at(12 * MIN)),
      'resource-exhausted',
    );

    expect(f.verifyPickup({ locationId: STORE, code: right }, checkFor(f), lockedUntil)).toBe('accepted');
    const s = f.snapshot();
    expect(s.task.status).toBe('HANDED_OVER');
    expect(s.pickup!.code.lockedUntil).toBeUndefined();
    expect(s.pickup!.code.failedAttempts).toBe(0);
  });

  it('after the lock, a wrong code starts counting again', () => {
    const f = readyPickup();
    const wrong = other(pickupCode(f));
    for (let i = 0; i < policy.codeMaxAttempts; i++) {
      f.verifyPickup({ locationId: STORE, code: wrong }, checkFor(f), at(10 * MIN));
    }
    const after = at(10 * MIN + policy.codeLockMs + 1);
    expect(f.verifyPickup({ locationId: STORE, code: wrong }, checkFor(f), after)).toBe('wrong-code');
    expect(f.snapshot().pickup!.code).toEqual({ nonce: expect.any(String), failedAttempts: 1 });
    expect(f.snapshot().updatedAt).toEqual(after);
  });

  it('refuses the right code from the expiry time on, even before the sweeper expired the pick-up', () => {
    const f = readyPickup(at(MIN));
    const expiry = at(MIN + policy.pickupExpiryMs);
    const code = pickupCode(f);
    const error = expectRefused(
      f,
      () => f.verifyPickup({ locationId: STORE, code }, checkFor(f), expiry),
      'failed-precondition',
    );
    expect(error.message).toContain('expired');
    expect(f.verifyPickup({ locationId: STORE, code }, checkFor(f), new Date(expiry.getTime() - 1))).toBe('accepted');
  });

  it('resets the count of wrong codes when the right one comes', () => {
    const f = readyPickup();
    f.verifyPickup({ locationId: STORE, code: other(pickupCode(f)) }, checkFor(f), at(10 * MIN));
    f.verifyPickup({ locationId: STORE, code: pickupCode(f) }, checkFor(f), at(11 * MIN));
    expect(f.snapshot().pickup!.code.failedAttempts).toBe(0);
  });

  it('refuses the right code at another store', () => {
    const f = readyPickup();
    const error = expectRefused(
      f,
      () => f.verifyPickup({ locationId: 'store-2', code: pickupCode(f) }, checkFor(f), at(10 * MIN)),
      'permission-denied',
    );
    expect(error.message).toContain('store-2');
  });

  it('refuses before the group is ready, after it expired or was cancelled, and for a delivery group', () => {
    const open = newFulfilment();
    const never: CodeCheck = () => true;
    expectRefused(
      open,
      () => open.verifyPickup({ locationId: STORE, code: '123456' }, never, at(MIN)),
      'failed-precondition',
    );
    open.accept({ locationId: STORE }, at(MIN));
    open.markPicked({ locationId: STORE }, at(MIN));
    expectRefused(
      open,
      () => open.verifyPickup({ locationId: STORE, code: '123456' }, never, at(MIN)),
      'failed-precondition',
    );

    const expired = readyPickup(at(MIN));
    expired.tick(at(MIN + policy.pickupExpiryMs));
    const code = pickupCode(expired);
    expectRefused(
      expired,
      () => expired.verifyPickup({ locationId: STORE, code }, checkFor(expired), at(MIN + policy.pickupExpiryMs)),
      'failed-precondition',
    );

    const cancelled = readyPickup();
    cancelled.cancel(at(5 * MIN));
    const c2 = pickupCode(cancelled);
    expectRefused(
      cancelled,
      () => cancelled.verifyPickup({ locationId: STORE, code: c2 }, checkFor(cancelled), at(6 * MIN)),
      'failed-precondition',
    );

    const delivery = newFulfilment('HOME_DELIVERY');
    expectRefused(
      delivery,
      () => delivery.verifyPickup({ locationId: STORE, code: '123456' }, never, at(MIN)),
      'failed-precondition',
    );
  });
});

describe('shipment', () => {
  it.each(['HOME_DELIVERY', 'SHIP_FROM_STORE'] as const)('is created when a %s task is accepted', (type) => {
    const f = newFulfilment(type);
    f.accept({ locationId: STORE }, at(MIN));
    expect(f.pullEvents()).toEqual([
      { type: 'TaskAccepted', time: at(MIN) },
      { type: 'ShipmentCreated', time: at(MIN) },
    ]);
    const s = f.snapshot();
    expect(s.shipment).toEqual({
      id: shipmentIdFor(s.id),
      status: 'AWAITING_COURIER',
      origin: PEOPLES_SQUARE,
      passedBy: [],
      code: { nonce: expect.any(String), failedAttempts: 0 },
      createdAt: at(MIN),
    });
    // Dispatch is due at once.
    expect(s.dueAt).toEqual(at(MIN));
    expect(f.needsCourier(at(MIN))).toBe(true);
    expect(busyCouriers(s)).toEqual([]);
    // A repeat creates no second shipment.
    expectNoop(f, () => f.accept({ locationId: STORE }, at(2 * MIN)));
  });

  it('is never created for a store pick-up, and a delivery group gets no pick-up code', () => {
    const pickup = newFulfilment();
    pickup.accept({ locationId: STORE }, at(MIN));
    expect(pickup.snapshot().shipment).toBeUndefined();
    expect(pickup.needsCourier(at(MIN))).toBe(false);
    expectRefused(pickup, () => pickup.offerTo('k-1', at(MIN)), 'failed-precondition');
    expectRefused(pickup, () => pickup.acceptAssignment('k-1', at(MIN)), 'failed-precondition');
    expectRefused(pickup, () => pickup.declineOffer('k-1', at(MIN)), 'failed-precondition');
    expectRefused(pickup, () => pickup.noCourierFound(at(MIN)), 'failed-precondition');

    const delivery = newFulfilment('HOME_DELIVERY');
    delivery.accept({ locationId: STORE }, at(MIN));
    delivery.pullEvents();
    delivery.markReady({ locationId: STORE }, at(2 * MIN));
    expect(delivery.pullEvents()).toEqual([]);
    expect(delivery.snapshot().pickup).toBeUndefined();
  });

  it('refuses dispatch before the task is accepted (no shipment yet)', () => {
    const f = newFulfilment('HOME_DELIVERY');
    const error = expectRefused(f, () => f.offerTo('k-1', t0), 'failed-precondition');
    expect(error.message).toContain('no shipment yet');
    expect(f.needsCourier(t0)).toBe(false);
  });

  it('is offered to one courier at a time, until the offer lapses', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.pullEvents();
    f.offerTo('k-1', at(MIN));
    expect(f.pullEvents()).toEqual([]);
    let s = f.snapshot();
    expect(s.shipment!.offer).toEqual({ courierId: 'k-1', expiresAt: at(MIN + policy.offerTimeoutMs) });
    expect(s.dueAt).toEqual(at(MIN + policy.offerTimeoutMs));
    expect(busyCouriers(s)).toEqual(['k-1']);
    expect(f.needsCourier(at(MIN))).toBe(false);
    expectRefused(f, () => f.offerTo('k-2', at(MIN)), 'failed-precondition');
    expectRefused(f, () => f.offerTo('k-1', at(MIN)), 'failed-precondition');
    expectNoop(f, () => f.noCourierFound(at(MIN)));

    expect(expectNoop(f, () => f.tick(at(MIN + policy.offerTimeoutMs - 1)))).toBe(false);
    expect(f.tick(at(MIN + policy.offerTimeoutMs))).toBe(true);
    expect(f.pullEvents()).toEqual([]);
    s = f.snapshot();
    expect(s.shipment!.offer).toBeUndefined();
    expect(s.shipment!.passedBy).toEqual(['k-1']);
    expect(s.shipment!.status).toBe('AWAITING_COURIER');
    expect(busyCouriers(s)).toEqual([]);
    expect(s.dueAt).toEqual(at(MIN)); // dispatch is due again
    expect(f.needsCourier(at(MIN + policy.offerTimeoutMs))).toBe(true);
    // Not offered again to the courier who let it lapse, nor can it take it now.
    expectRefused(f, () => f.offerTo('k-1', at(3 * MIN)), 'failed-precondition');
    const error = expectRefused(f, () => f.acceptAssignment('k-1', at(3 * MIN)), 'failed-precondition');
    expect(error.message).toContain('lapsed');
    f.offerTo('k-2', at(3 * MIN));
    expect(busyCouriers(f.snapshot())).toEqual(['k-2']);
  });

  it('refuses an acceptance after the offer lapsed, even before the sweeper noticed', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.offerTo('k-1', at(MIN));
    expectRefused(f, () => f.acceptAssignment('k-1', at(MIN + policy.offerTimeoutMs)), 'failed-precondition');
    f.acceptAssignment('k-1', at(MIN + policy.offerTimeoutMs - 1));
    expect(f.snapshot().shipment!.status).toBe('ASSIGNED');
  });

  it('is assigned to the courier who accepts the offer', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.offerTo('k-1', at(MIN));
    f.pullEvents();
    expectRefused(f, () => f.acceptAssignment('k-2', at(MIN)), 'permission-denied');
    f.acceptAssignment('k-1', at(MIN + 5_000));
    expect(f.pullEvents()).toEqual([{ type: 'CourierAssigned', courierId: 'k-1', time: at(MIN + 5_000) }]);
    const s = f.snapshot();
    expect(s.shipment).toMatchObject({ status: 'ASSIGNED', courierId: 'k-1' });
    expect(s.shipment!.offer).toBeUndefined();
    expect(s.dueAt).toEqual(at(MIN + policy.pickMs)); // only the pick deadline is left
    expect(busyCouriers(s)).toEqual(['k-1']);
    expectNoop(f, () => f.acceptAssignment('k-1', at(2 * MIN)));
    expectRefused(f, () => f.acceptAssignment('k-2', at(2 * MIN)), 'permission-denied');
    expectRefused(f, () => f.declineOffer('k-1', at(2 * MIN)), 'permission-denied');
    expectRefused(f, () => f.offerTo('k-2', at(2 * MIN)), 'failed-precondition');
    expectRefused(f, () => f.noCourierFound(at(2 * MIN)), 'failed-precondition');
    expect(f.needsCourier(at(2 * MIN))).toBe(false);
  });

  it('moves on when the courier declines: not offered to it again', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.offerTo('k-1', at(MIN));
    f.pullEvents();
    expectRefused(f, () => f.declineOffer('k-2', at(MIN)), 'permission-denied');
    f.declineOffer('k-1', at(MIN + 1_000));
    expect(f.pullEvents()).toEqual([]);
    const s = f.snapshot();
    expect(s.shipment!.offer).toBeUndefined();
    expect(s.shipment!.passedBy).toEqual(['k-1']);
    expect(s.updatedAt).toEqual(at(MIN + 1_000));
    expect(s.dueAt).toEqual(at(MIN));
    expect(busyCouriers(s)).toEqual([]);
    expectNoop(f, () => f.declineOffer('k-1', at(MIN + 2_000)));
    expectRefused(f, () => f.offerTo('k-1', at(MIN + 2_000)), 'failed-precondition');
    expectRefused(f, () => f.acceptAssignment('k-1', at(MIN + 2_000)), 'failed-precondition');
    f.offerTo('k-2', at(MIN + 2_000));
    f.declineOffer('k-2', at(MIN + 3_000));
    expect(f.snapshot().shipment!.passedBy).toEqual(['k-1', 'k-2']);
  });

  it('waits before looking again when no courier was found', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.noCourierFound(at(MIN));
    const retry = at(MIN + policy.dispatchRetryMs);
    expect(f.snapshot().shipment!.dispatchAfter).toEqual(retry);
    expect(f.snapshot().dueAt).toEqual(retry);
    expect(f.needsCourier(new Date(retry.getTime() - 1))).toBe(false);
    expect(f.needsCourier(retry)).toBe(true);
    expect(f.pullEvents().map((e) => e.type)).toEqual(['TaskAccepted', 'ShipmentCreated']);
    f.offerTo('k-1', retry);
    expect(f.snapshot().shipment!.dispatchAfter).toBeUndefined();
    expect(f.snapshot().dueAt).toEqual(new Date(retry.getTime() + policy.offerTimeoutMs));
  });

  it('is collected only once the group is packed', () => {
    const f = assigned();
    const error = expectRefused(f, () => f.confirmCollection('k-1', at(2 * MIN)), 'failed-precondition');
    expect(error.message).toContain('not packed');
    f.markPicked({ locationId: STORE }, at(2 * MIN));
    expectRefused(f, () => f.confirmCollection('k-1', at(2 * MIN)), 'failed-precondition');
    f.markReady({ locationId: STORE }, at(3 * MIN));
    expectRefused(f, () => f.confirmCollection('k-2', at(4 * MIN)), 'permission-denied');
    f.confirmCollection('k-1', at(4 * MIN));
    expect(f.pullEvents()).toEqual([{ type: 'PickedUp', byCourier: true, time: at(4 * MIN) }]);
    const s = f.snapshot();
    expect(s.shipment).toMatchObject({ status: 'PICKED_UP', collectedAt: at(4 * MIN) });
    expect(s.task).toMatchObject({ status: 'HANDED_OVER', handedOverAt: at(4 * MIN) });
    expect(busyCouriers(s)).toEqual(['k-1']);
    expectNoop(f, () => f.confirmCollection('k-1', at(5 * MIN)));
  });

  it('refuses courier commands from a courier merely offered the shipment', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.markReady({ locationId: STORE }, at(MIN));
    f.offerTo('k-1', at(MIN));
    expectRefused(f, () => f.confirmCollection('k-1', at(MIN)), 'permission-denied');
    expectRefused(f, () => f.startDelivery('k-1', at(MIN)), 'permission-denied');
    expectRefused(f, () => f.confirmDelivery('k-1', '123456', () => true, at(MIN)), 'permission-denied');
    expectRefused(f, () => f.failDelivery('k-1', 'nobody home', at(MIN)), 'permission-denied');
  });

  it('leaves with the courier only after collection', () => {
    const f = assigned();
    expectRefused(f, () => f.startDelivery('k-1', at(2 * MIN)), 'failed-precondition');
    f.markReady({ locationId: STORE }, at(3 * MIN));
    f.confirmCollection('k-1', at(4 * MIN));
    f.pullEvents();
    expectRefused(f, () => f.startDelivery('k-2', at(5 * MIN)), 'permission-denied');
    f.startDelivery('k-1', at(5 * MIN));
    expect(f.pullEvents()).toEqual([{ type: 'OutForDelivery', courierId: 'k-1', time: at(5 * MIN) }]);
    expect(f.snapshot().shipment).toMatchObject({ status: 'OUT_FOR_DELIVERY', departedAt: at(5 * MIN) });
    expect(busyCouriers(f.snapshot())).toEqual(['k-1']);
    expectNoop(f, () => f.startDelivery('k-1', at(6 * MIN)));
    expectNoop(f, () => f.confirmCollection('k-1', at(6 * MIN)));
  });

  it('is delivered with the shopper code; a wrong code is counted and locks after too many', () => {
    const f = outForDelivery();
    const right = deliveryCode(f);
    const wrong = other(right);
    const check = jest.fn(checkFor(f));
    const before = f.snapshot();
    expect(f.confirmDelivery('k-1', wrong, check, at(20 * MIN))).toBe('wrong-code');
    expect(check).toHaveBeenCalledWith('delivery', before.shipment!.code.nonce, wrong);
    expect(f.pullEvents()).toEqual([]);
    expect(f.snapshot()).toEqual({
      ...before,
      shipment: { ...before.shipment!, code: { ...before.shipment!.code, failedAttempts: 1 } },
      updatedAt: at(20 * MIN),
    });
    for (let i = 1; i < policy.codeMaxAttempts; i++) f.confirmDelivery('k-1', wrong, check, at(21 * MIN));
    expect(f.snapshot().shipment!.code.lockedUntil).toEqual(at(21 * MIN + policy.codeLockMs));
    expectRefused(f, () => f.confirmDelivery('k-1', right, check, at(22 * MIN)), 'resource-exhausted');
    expectRefused(f, () => f.confirmDelivery('k-2', right, check, at(40 * MIN)), 'permission-denied');

    expect(f.confirmDelivery('k-1', right, check, at(40 * MIN))).toBe('accepted');
    expect(f.pullEvents()).toEqual([{ type: 'Delivered', time: at(40 * MIN) }]);
    const s = f.snapshot();
    expect(s.shipment).toMatchObject({ status: 'DELIVERED', deliveredAt: at(40 * MIN) });
    expect(s.shipment!.code).toEqual({ nonce: before.shipment!.code.nonce, failedAttempts: 0 });
    expect(busyCouriers(s)).toEqual([]);
    expect(s.dueAt).toBeUndefined();
    expect(expectNoop(f, () => f.confirmDelivery('k-1', right, check, at(41 * MIN)))).toBe('accepted');
    expectNoop(f, () => f.startDelivery('k-1', at(41 * MIN)));
    expectRefused(f, () => f.failDelivery('k-1', 'too late', at(41 * MIN)), 'failed-precondition');
    expect(expectNoop(f, () => f.cancel(at(42 * MIN)))).toBe(false);
  });

  it('refuses a delivery code before the parcel left', () => {
    const f = assigned();
    const code = deliveryCode(f);
    expectRefused(f, () => f.confirmDelivery('k-1', code, checkFor(f), at(2 * MIN)), 'failed-precondition');
    f.markReady({ locationId: STORE }, at(3 * MIN));
    f.confirmCollection('k-1', at(4 * MIN));
    expectRefused(f, () => f.confirmDelivery('k-1', code, checkFor(f), at(5 * MIN)), 'failed-precondition');
  });

  it('fails only when out for delivery', () => {
    const f = assigned();
    expectRefused(f, () => f.failDelivery('k-1', 'nobody home', at(2 * MIN)), 'failed-precondition');
    f.markReady({ locationId: STORE }, at(3 * MIN));
    f.confirmCollection('k-1', at(4 * MIN));
    expectRefused(f, () => f.failDelivery('k-1', 'nobody home', at(5 * MIN)), 'failed-precondition');
    f.startDelivery('k-1', at(5 * MIN));
    f.pullEvents();
    expectRefused(f, () => f.failDelivery('k-2', 'nobody home', at(6 * MIN)), 'permission-denied');
    f.failDelivery('k-1', 'nobody home', at(6 * MIN));
    expect(f.pullEvents()).toEqual([{ type: 'DeliveryFailed', reason: 'nobody home', time: at(6 * MIN) }]);
    const s = f.snapshot();
    expect(s.shipment).toMatchObject({ status: 'FAILED', failureReason: 'nobody home' });
    expect(busyCouriers(s)).toEqual([]);
    expectNoop(f, () => f.failDelivery('k-1', 'another reason', at(7 * MIN)));
    expectRefused(f, () => f.confirmDelivery('k-1', deliveryCode(f), checkFor(f), at(7 * MIN)), 'failed-precondition');
    expect(expectNoop(f, () => f.cancel(at(8 * MIN)))).toBe(false);
  });

  it('keeps one courier busy through the whole delivery', () => {
    const f = newFulfilment('SHIP_FROM_STORE');
    const busy = () => busyCouriers(f.snapshot());
    expect(busy()).toEqual([]);
    f.accept({ locationId: STORE }, at(MIN));
    expect(busy()).toEqual([]);
    f.offerTo('k-1', at(MIN));
    expect(busy()).toEqual(['k-1']);
    f.declineOffer('k-1', at(MIN));
    expect(busy()).toEqual([]);
    f.offerTo('k-2', at(MIN));
    expect(busy()).toEqual(['k-2']);
    f.acceptAssignment('k-2', at(MIN));
    expect(busy()).toEqual(['k-2']);
    f.markReady({ locationId: STORE }, at(2 * MIN));
    f.confirmCollection('k-2', at(3 * MIN));
    expect(busy()).toEqual(['k-2']);
    f.startDelivery('k-2', at(4 * MIN));
    expect(busy()).toEqual(['k-2']);
    f.confirmDelivery('k-2', deliveryCode(f), checkFor(f), at(5 * MIN));
    expect(busy()).toEqual([]);
    expect(f.pullEvents().map((e) => e.type)).toEqual([
      'TaskAccepted',
      'ShipmentCreated',
      'CourierAssigned',
      'PickedUp',
      'OutForDelivery',
      'Delivered',
    ]);
  });
});

describe('cancel', () => {
  it('stops an open task, once', () => {
    const f = newFulfilment();
    expect(f.cancel(at(MIN))).toBe(true);
    expect(f.pullEvents()).toEqual([{ type: 'FulfilmentCancelled', time: at(MIN) }]);
    const s = f.snapshot();
    expect(s.task.status).toBe('CANCELLED');
    expect(s.dueAt).toBeUndefined();
    expect(s.updatedAt).toEqual(at(MIN));
    expect(expectNoop(f, () => f.cancel(at(2 * MIN)))).toBe(true);
  });

  it('stops a ready pick-up: its code no longer works', () => {
    const f = readyPickup();
    expect(f.cancel(at(10 * MIN))).toBe(true);
    expect(f.snapshot().task.status).toBe('CANCELLED');
    expect(f.snapshot().dueAt).toBeUndefined();
  });

  it('stops the shipment and frees the courier it was offered to', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.offerTo('k-1', at(MIN));
    f.pullEvents();
    expect(f.cancel(at(2 * MIN))).toBe(true);
    expect(f.pullEvents()).toEqual([{ type: 'FulfilmentCancelled', time: at(2 * MIN) }]);
    const s = f.snapshot();
    expect(s.shipment!.status).toBe('CANCELLED');
    expect(s.shipment!.offer).toBeUndefined();
    expect(busyCouriers(s)).toEqual([]);
    expect(s.dueAt).toBeUndefined();
    expectRefused(f, () => f.acceptAssignment('k-1', at(2 * MIN)), 'permission-denied');
    expectRefused(f, () => f.offerTo('k-2', at(2 * MIN)), 'failed-precondition');
    expect(f.needsCourier(at(3 * MIN))).toBe(false);
  });

  it('stops a shipment waiting to retry dispatch', () => {
    const f = newFulfilment('HOME_DELIVERY');
    f.accept({ locationId: STORE }, at(MIN));
    f.noCourierFound(at(MIN));
    f.cancel(at(2 * MIN));
    expect(f.snapshot().shipment!.dispatchAfter).toBeUndefined();
    expect(f.snapshot().dueAt).toBeUndefined();
  });

  it('stops an assigned shipment: the courier is freed and its commands refused', () => {
    const f = assigned('k-1');
    f.markReady({ locationId: STORE }, at(2 * MIN));
    expect(f.cancel(at(3 * MIN))).toBe(true);
    const s = f.snapshot();
    expect(s.shipment!.status).toBe('CANCELLED');
    expect(s.shipment!.courierId).toBe('k-1');
    expect(busyCouriers(s)).toEqual([]);
    expectRefused(f, () => f.acceptAssignment('k-1', at(4 * MIN)), 'failed-precondition');
    expectRefused(f, () => f.confirmCollection('k-1', at(4 * MIN)), 'failed-precondition');
    expectRefused(f, () => f.startDelivery('k-1', at(4 * MIN)), 'failed-precondition');
    expectRefused(f, () => f.confirmDelivery('k-1', deliveryCode(f), checkFor(f), at(4 * MIN)), 'failed-precondition');
    expectRefused(f, () => f.failDelivery('k-1', 'x', at(4 * MIN)), 'failed-precondition');
  });

  it('changes nothing once handed over (collected in store or by the courier)', () => {
    const collected = readyPickup();
    collected.verifyPickup({ locationId: STORE, code: pickupCode(collected) }, checkFor(collected), at(10 * MIN));
    expect(expectNoop(collected, () => collected.cancel(at(11 * MIN)))).toBe(false);

    const carried = assigned();
    carried.markReady({ locationId: STORE }, at(2 * MIN));
    carried.confirmCollection('k-1', at(3 * MIN));
    expect(expectNoop(carried, () => carried.cancel(at(4 * MIN)))).toBe(false);
    expect(carried.snapshot().shipment!.status).toBe('PICKED_UP');
  });
});
