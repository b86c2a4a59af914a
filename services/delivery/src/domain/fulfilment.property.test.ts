// Property tests of the fulfilment aggregate: random fulfilments driven by random sequences of task, pick-up, courier
// and clock steps. After every step: statuses only move forward along the allowed graphs, at most one courier is
// busy, an ended shipment never changes, every event matches a state change (and appears at most once, TaskOverdue
// once per stage), a refused command changes nothing, a change always moves updatedAt forward (even within one
// millisecond), and dueAt is exactly when the sweeper next has something to do.
import fc from 'fast-check';
import { DeliveryError } from './errors';
import { busyCouriers, type CodeCheck, Fulfilment } from './fulfilment';
import { isFinal } from './tracking';
import { codeMatches, handoverCode } from '../app/handover-code';
import type {
  DeliveryEvent,
  FulfilmentPolicy,
  FulfilmentState,
  FulfilmentType,
  ShipmentStatus,
  TaskStatus,
} from './types';

const t0 = new Date('2026-11-22T12:00:00.000Z');
// Short timings, so random clock steps cross every deadline, expiry, lapse, lock and retry.
const policy: FulfilmentPolicy = {
  acceptMs: 60_000,
  pickMs: 120_000,
  packMs: 120_000,
  pickupExpiryMs: 300_000,
  offerTimeoutMs: 30_000,
  codeMaxAttempts: 2,
  codeLockMs: 60_000,
  dispatchRetryMs: 20_000,
};
const SECRET = 'property-secret';
const STORE = 'store-1';
const FAR_FUTURE = new Date('2100-01-01T00:00:00.000Z');

const TASK_NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  OPEN: ['ACCEPTED', 'CANCELLED'],
  ACCEPTED: ['PICKED', 'READY', 'CANCELLED'],
  PICKED: ['READY', 'CANCELLED'],
  READY: ['HANDED_OVER', 'EXPIRED', 'CANCELLED'],
  HANDED_OVER: [],
  EXPIRED: [],
  CANCELLED: [],
};
const SHIPMENT_NEXT: Record<ShipmentStatus, readonly ShipmentStatus[]> = {
  AWAITING_COURIER: ['ASSIGNED', 'CANCELLED'],
  ASSIGNED: ['PICKED_UP', 'CANCELLED'],
  PICKED_UP: ['OUT_FOR_DELIVERY'],
  OUT_FOR_DELIVERY: ['DELIVERED', 'FAILED'],
  DELIVERED: [],
  FAILED: [],
  CANCELLED: [],
};

/** Courier 3 means "the courier the shipment is offered to or carried by", so runs get far often. */
type CourierPick = 0 | 1 | 2 | 3;

type Command =
  | { t: 'accept' | 'picked' | 'ready'; here: boolean }
  | { t: 'offer' | 'acceptAssignment' | 'decline' | 'collect' | 'start' | 'fail'; courier: CourierPick }
  | { t: 'deliver'; courier: CourierPick; right: boolean }
  | { t: 'verify'; right: boolean; here: boolean }
  | { t: 'noCourier' }
  | { t: 'cancel' }
  | { t: 'tick' }
  /** The natural next step from where the fulfilment is (so random runs reach the ends of the paths). */
  | { t: 'progress'; way: 0 | 1 | 2 };

/** A command and how long the clock moves before it (often not at all: changes within one millisecond happen). */
interface Step {
  dt: number;
  command: Command;
}

const courierPick = fc.constantFrom<CourierPick>(0, 1, 2, 3, 3, 3);
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({ t: fc.constant('progress' as const), way: fc.constantFrom<0 | 1 | 2>(0, 0, 1, 2) }),
  },
  fc.record({ t: fc.constantFrom('accept' as const, 'picked' as const, 'ready' as const), here: fc.boolean() }),
  fc.record({
    t: fc.constantFrom(
      'offer' as const,
      'acceptAssignment' as const,
      'decline' as const,
      'collect' as const,
      'start' as const,
      'fail' as const,
    ),
    courier: courierPick,
  }),
  fc.record({ t: fc.constant('deliver' as const), courier: courierPick, right: fc.boolean() }),
  fc.record({ t: fc.constant('verify' as const), right: fc.boolean(), here: fc.boolean() }),
  fc.record({ t: fc.constantFrom('noCourier' as const, 'tick' as const, 'tick' as const) }),
  { weight: 1, arbitrary: fc.constant({ t: 'cancel' as const }) },
);
const step: fc.Arbitrary<Step> = fc.record({
  dt: fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 20_000 }) },
    { weight: 2, arbitrary: fc.integer({ min: 20_000, max: 130_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 130_000, max: 400_000 }) },
  ),
  command,
});
const scenario = fc.record({
  type: fc.constantFrom<FulfilmentType>('STORE_PICKUP', 'HOME_DELIVERY', 'SHIP_FROM_STORE'),
  startDt: fc.integer({ min: 0, max: 3_600_000 }),
  steps: fc.array(step, { minLength: 1, maxLength: 60 }),
});

function newFulfilment(type: FulfilmentType, now: Date): Fulfilment {
  return Fulfilment.create(
    {
      orderId: 'o-1',
      groupId: 'g-1',
      locationId: STORE,
      type,
      items: [{ sku: 'A', quantity: 1 }],
      ...(type === 'STORE_PICKUP'
        ? {}
        : {
            delivery: { point: { latitude: 31.24, longitude: 121.49 } },
            origin: { latitude: 31.23, longitude: 121.47 },
          }),
    },
    policy,
    now,
  );
}

function codeOf(s: FulfilmentState, purpose: 'pickup' | 'delivery'): string {
  const nonce = purpose === 'pickup' ? s.pickup?.code.nonce : s.shipment?.code.nonce;
  return nonce === undefined ? '123456' : handoverCode(SECRET, { fulfilmentId: s.id, purpose, nonce });
}

const wrong = (code: string) => (code === '000000' ? '999999' : '000000');

/** Runs one command at `now` on the aggregate. */
function apply(f: Fulfilment, c: Command, now: Date): void {
  const s = f.snapshot();
  const check: CodeCheck = (purpose, nonce, given) =>
    codeMatches(handoverCode(SECRET, { fulfilmentId: s.id, purpose, nonce }), given);
  const location = (here: boolean) => ({ locationId: here ? STORE : 'store-2' });
  const courier = (pick: CourierPick) =>
    pick === 3 ? (s.shipment?.offer?.courierId ?? s.shipment?.courierId ?? 'k-0') : `k-${pick}`;
  switch (c.t) {
    case 'accept':
      return f.accept({ ...location(c.here), associateId: 'a-1' }, now);
    case 'picked':
      return f.markPicked(location(c.here), now);
    case 'ready':
      return f.markReady(location(c.here), now);
    case 'offer':
      return f.offerTo(courier(c.courier), now);
    case 'noCourier':
      return f.noCourierFound(now);
    case 'acceptAssignment':
      return f.acceptAssignment(courier(c.courier), now);
    case 'decline':
      return f.declineOffer(courier(c.courier), now);
    case 'collect':
      return f.confirmCollection(courier(c.courier), now);
    case 'start':
      return f.startDelivery(courier(c.courier), now);
    case 'deliver': {
      const code = codeOf(s, 'delivery');
      f.confirmDelivery(courier(c.courier), c.right ? code : wrong(code), check, now);
      return;
    }
    case 'fail':
      return f.failDelivery(courier(c.courier), 'nobody home', now);
    case 'verify': {
      const code = codeOf(s, 'pickup');
      f.verifyPickup({ ...location(c.here), code: c.right ? code : wrong(code) }, check, now);
      return;
    }
    case 'cancel':
      f.cancel(now);
      return;
    case 'tick':
      f.tick(now);
      return;
    case 'progress':
      return apply(f, next(s, c.way), now);
  }
}

// What the location, courier or shopper would do next (`way` 1 and 2: the other ways, where there are any).
function next(s: FulfilmentState, way: 0 | 1 | 2): Command {
  const sh = s.shipment;
  if (s.task.status === 'OPEN') return { t: 'accept', here: true };
  if (sh?.status === 'AWAITING_COURIER') {
    if (sh.offer) return { t: way === 1 ? 'decline' : 'acceptAssignment', courier: 3 };
    return { t: 'offer', courier: (sh.passedBy.length % 3) as CourierPick };
  }
  if (s.task.status === 'ACCEPTED') return { t: 'picked', here: true };
  if (s.task.status === 'PICKED') return { t: 'ready', here: true };
  if (s.task.status === 'READY') {
    if (sh) return { t: 'collect', courier: 3 };
    return way === 1 ? { t: 'tick' } : { t: 'verify', right: way === 0, here: true };
  }
  if (sh?.status === 'PICKED_UP') return { t: 'start', courier: 3 };
  if (sh?.status === 'OUT_FOR_DELIVERY') {
    return way === 1 ? { t: 'fail', courier: 3 } : { t: 'deliver', courier: 3, right: way === 0 };
  }
  // At the end: repeats, right and wrong (they must change nothing, or only count the wrong code).
  if (s.task.status === 'HANDED_OVER' && !sh) return { t: 'verify', right: way !== 1, here: true };
  if (sh?.status === 'DELIVERED' || sh?.status === 'FAILED') return { t: 'deliver', courier: 3, right: way !== 1 };
  return { t: 'tick' };
}

/** The earliest pending time, worked out from the state by the rules the sweeper serves. */
function expectedDue(s: FulfilmentState): number | undefined {
  const times: number[] = [];
  const { task } = s;
  if (task.status === 'OPEN' && !task.overdue.includes('ACCEPT')) times.push(task.acceptBy.getTime());
  if (task.status === 'ACCEPTED' && !task.overdue.includes('PICK')) times.push(task.pickBy!.getTime());
  if (task.status === 'PICKED' && !task.overdue.includes('PACK')) times.push(task.packBy!.getTime());
  if (task.status === 'READY' && s.pickup) times.push(s.pickup.expiresAt.getTime());
  const sh = s.shipment;
  if (sh?.status === 'AWAITING_COURIER') {
    times.push((sh.offer?.expiresAt ?? sh.dispatchAfter ?? sh.createdAt).getTime());
  }
  return times.length === 0 ? undefined : Math.min(...times);
}

/** Which events (other than TaskOverdue) the change from `a` to `b` must have announced. */
function expectedEvents(a: FulfilmentState, b: FulfilmentState): string[] {
  const out: string[] = [];
  const moved = (to: TaskStatus) => a.task.status !== to && b.task.status === to;
  const shipped = (to: ShipmentStatus) => a.shipment?.status !== to && b.shipment?.status === to;
  if (moved('ACCEPTED')) out.push('TaskAccepted');
  if (!a.shipment && b.shipment) out.push('ShipmentCreated');
  if (!a.shipment?.courierId && b.shipment?.courierId) out.push('CourierAssigned');
  if (moved('READY') && b.type === 'STORE_PICKUP') out.push('ReadyForPickup');
  if (moved('HANDED_OVER')) out.push('PickedUp');
  if (shipped('OUT_FOR_DELIVERY')) out.push('OutForDelivery');
  if (shipped('DELIVERED')) out.push('Delivered');
  if (shipped('FAILED')) out.push('DeliveryFailed');
  if (moved('EXPIRED')) out.push('PickupExpired');
  if (moved('CANCELLED')) out.push('FulfilmentCancelled');
  return out.sort();
}

function checkStep(f: Fulfilment, before: FulfilmentState, events: DeliveryEvent[], now: Date, threw: unknown): void {
  const after = f.snapshot();
  if (threw !== undefined) {
    expect(threw).toBeInstanceOf(DeliveryError);
    expect(after).toEqual(before);
    expect(events).toEqual([]);
    return;
  }
  // A change always moves updatedAt forward (to now, or just past the last change): the repository writes only
  // then. No change leaves everything, updatedAt included, alone.
  if (after.updatedAt.getTime() === before.updatedAt.getTime()) {
    expect(after).toEqual(before);
    expect(events).toEqual([]);
  } else {
    expect(after.updatedAt.getTime()).toBe(Math.max(now.getTime(), before.updatedAt.getTime() + 1));
  }
  // Forward only.
  if (after.task.status !== before.task.status) expect(TASK_NEXT[before.task.status]).toContain(after.task.status);
  const sa = before.shipment;
  const sb = after.shipment;
  if (sa) {
    expect(sb).toBeDefined();
    if (sb!.status !== sa.status) expect(SHIPMENT_NEXT[sa.status]).toContain(sb!.status);
    if (isFinal(sa.status)) expect(sb).toEqual(sa);
    for (const c of sa.passedBy) expect(sb!.passedBy).toContain(c);
    if (sa.courierId) expect(sb!.courierId).toBe(sa.courierId);
  }
  // Events match the state change; TaskOverdue adds exactly its stage to the overdue list.
  expect(
    events
      .filter((e) => e.type !== 'TaskOverdue')
      .map((e) => e.type)
      .sort(),
  ).toEqual(expectedEvents(before, after));
  const overdueStages = events.flatMap((e) => (e.type === 'TaskOverdue' ? [e.stage] : []));
  expect(after.task.overdue).toEqual([...before.task.overdue, ...overdueStages]);
}

function checkState(s: FulfilmentState, f: Fulfilment): void {
  expect(s.version).toBe(0);
  expect(busyCouriers(s).length).toBeLessThanOrEqual(1);
  if (s.type === 'STORE_PICKUP') expect(s.shipment).toBeUndefined();
  else expect(s.pickup).toBeUndefined();
  const sh = s.shipment;
  if (sh) {
    if (sh.offer) {
      expect(sh.status).toBe('AWAITING_COURIER');
      expect(sh.passedBy).not.toContain(sh.offer.courierId);
    }
    if (sh.courierId) expect(sh.passedBy).not.toContain(sh.courierId);
    // A courier is named from the acceptance on (a cancelled shipment may or may not have had one).
    if (sh.status === 'AWAITING_COURIER') expect(sh.courierId).toBeUndefined();
    else if (sh.status !== 'CANCELLED') expect(sh.courierId).toBeDefined();
    if (
      sh.status === 'PICKED_UP' ||
      sh.status === 'OUT_FOR_DELIVERY' ||
      sh.status === 'DELIVERED' ||
      sh.status === 'FAILED'
    ) {
      expect(s.task.status).toBe('HANDED_OVER');
    }
  }
  expect(new Set(s.task.overdue).size).toBe(s.task.overdue.length);

  // dueAt is the earliest pending time...
  expect(s.dueAt?.getTime()).toEqual(expectedDue(s));
  // ...and means it: before it the sweeper has nothing to do, at it something; with nothing due, never anything.
  const copy = () => Fulfilment.fromState(s, policy);
  if (s.dueAt === undefined) {
    expect(copy().tick(FAR_FUTURE)).toBe(false);
    expect(f.needsCourier(FAR_FUTURE)).toBe(false);
  } else {
    expect(copy().tick(new Date(s.dueAt.getTime() - 1))).toBe(false);
    expect(copy().tick(s.dueAt) || f.needsCourier(s.dueAt)).toBe(true);
  }
}

describe('fulfilment properties', () => {
  it('keeps every invariant under random commands and clock steps', () => {
    fc.assert(
      fc.property(scenario, ({ type, startDt, steps }) => {
        let now = new Date(t0.getTime() + startDt);
        const f = newFulfilment(type, now);
        const all: DeliveryEvent[] = [...f.pullEvents()];
        checkState(f.snapshot(), f);
        for (const { dt, command: c } of steps) {
          now = new Date(now.getTime() + dt);
          const before = f.snapshot();
          let threw: unknown;
          try {
            apply(f, c, now);
          } catch (error) {
            threw = error;
          }
          const events = f.pullEvents();
          checkStep(f, before, events, now, threw);
          checkState(f.snapshot(), f);
          all.push(...events);
        }
        // Every event at most once per fulfilment; TaskOverdue at most once per stage.
        const keys = all.map((e) => (e.type === 'TaskOverdue' ? `TaskOverdue:${e.stage}` : e.type));
        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: 400 },
    );
  });

  it('reaches the end of each path often enough to mean something', () => {
    // Guards the generators: if a refactor made the happy paths unreachable, the property above would pass vacuously.
    const seen = new Set<string>();
    fc.assert(
      fc.property(scenario, ({ type, steps }) => {
        const f = newFulfilment(type, t0);
        let now = t0;
        for (const { dt, command: c } of steps) {
          now = new Date(now.getTime() + dt);
          try {
            apply(f, c, now);
          } catch {
            // refused: fine here
          }
          const s = f.snapshot();
          seen.add(`task:${s.task.status}`);
          if (s.shipment) seen.add(`shipment:${s.shipment.status}`);
          for (const stage of s.task.overdue) seen.add(`overdue:${stage}`);
          if (s.pickup?.code.lockedUntil ?? s.shipment?.code.lockedUntil) seen.add('locked');
        }
      }),
      { numRuns: 400, seed: 42 },
    );
    for (const status of ['HANDED_OVER', 'EXPIRED', 'CANCELLED', 'READY']) expect(seen).toContain(`task:${status}`);
    for (const status of ['AWAITING_COURIER', 'ASSIGNED', 'DELIVERED', 'FAILED', 'CANCELLED']) {
      expect(seen).toContain(`shipment:${status}`);
    }
    for (const stage of ['ACCEPT', 'PICK', 'PACK']) expect(seen).toContain(`overdue:${stage}`);
    expect(seen).toContain('locked');
  });
});
