// The delivery consumer against real protobuf bytes: what it decodes, what it applies to the order (through the use
// cases and the aggregate, with an in-memory repository), what it counts, and what it skips without a word.
import { TaskStage } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import * as delivery from '@o2o/contracts/gen/o2o/delivery/v1/events';
import type { IncomingMessage } from '@o2o/kit-kafka';
import { createLogger } from '@o2o/kit-log';
import type { Deps, OrderRepository } from '../app/ports';
import { Order, type OrderPolicy } from '../domain/order';
import type { OrderEvent, OrderState, TaskOutcome } from '../domain/types';
import { deliveryEventHandler, type OverdueStage, readDelivery } from './kafka-event-consumers';

const t0 = new Date('2026-11-22T12:00:00.000Z');
const policy: OrderPolicy = {
  placementTimeoutMs: 60_000,
  placementHoldTtlMs: 15 * 60_000,
  walletPayTtlMs: 10 * 60_000,
  confirmedHoldTtlMs: 72 * 3_600_000,
  maxReroutes: 2,
};
const ref = { orderId: 'o-1', groupId: 'g1', locationId: 'store-7' };

/** A card order for pick-up at store-7, confirmed, its group READY_FOR_PICKUP, no task left. */
function readyPickupOrder(): OrderState {
  const { order } = Order.place(
    'o-1',
    {
      requestId: 'req-1',
      channel: 'APP',
      customerId: 'cust-1',
      lines: [{ skuCode: 'A', quantity: 2 }],
      currency: 'CNY',
      fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-7' },
      payment: { method: 'CARD', cardLast4: '4242' },
    },
    t0,
    policy,
  );
  const answers: Record<string, TaskOutcome> = {
    PRICE: {
      kind: 'priced',
      skus: [{ skuCode: 'A', unitPrice: { currency: 'CNY', amountMinor: 1000 }, productId: 'p-A', productName: 'A' }],
    },
    PLAN: {
      kind: 'planned',
      allocations: [{ locationId: 'store-7', items: [{ skuCode: 'A', quantity: 2 }], distanceM: 0, sameDay: true }],
    },
    HOLD: { kind: 'held' },
    AUTHORIZE: { kind: 'authorized', paymentId: 'pay-1', amount: { currency: 'CNY', amountMinor: 2000 } },
    EXTEND_HOLD: { kind: 'done' },
  };
  for (let task = order.nextTask(); task; task = order.nextTask()) {
    order.completeTask(task.id, answers[task.kind]!, t0, policy);
  }
  order.advanceGroup('g1', 'READY_FOR_PICKUP', t0);
  return order.snapshot();
}

/** The use cases' dependencies with the order in memory; tasks are left queued (another runner "holds" them). */
function setup() {
  let state = readyPickupOrder();
  const published: OrderEvent[] = [];
  const orders: Pick<OrderRepository, 'get' | 'update' | 'claim'> = {
    async get(id) {
      return id === state.id ? structuredClone(state) : undefined;
    },
    async update(id, change) {
      const order = Order.fromState(state);
      const { events, result } = change(order);
      state = order.snapshot();
      published.push(...events);
      return { state: structuredClone(state), result };
    },
    async claim() {
      return false;
    },
  };
  const unused = () => {
    throw new Error('not used by the delivery consumer');
  };
  const deps = {
    orders: orders as OrderRepository,
    policy,
    clock: { now: () => new Date(t0.getTime() + 3_600_000) },
    newId: unused,
    runnerId: 'runner-1',
    leaseMs: 30_000,
    afterWrite: () => undefined,
    onTaskError: (_id: string, error: unknown) => {
      throw error;
    },
  } as unknown as Deps;
  type Line = { level: string; msg: string; type?: string };
  const lines: Line[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    destination: { write: (l) => lines.push(JSON.parse(l) as Line) },
  });
  const refused: string[] = [];
  const overdue: OverdueStage[] = [];
  const handle = deliveryEventHandler(deps, logger, {
    onRefused: (type) => refused.push(type),
    onOverdue: (stage) => overdue.push(stage),
  });
  return { handle, state: () => state, published, lines, refused, overdue };
}

function message(type: string, value: Uint8Array): IncomingMessage {
  return {
    topic: 'o2o.delivery.v1',
    partition: 0,
    offset: '0',
    key: 'o-1',
    value: Buffer.from(value),
    headers: { ce_type: `o2o.delivery.v1.${type}`, ce_subject: 'o-1' },
  };
}

const pickupExpired = () =>
  message('PickupExpired', delivery.PickupExpired.encode({ ref, time: new Date(t0.getTime() + 60_000) }).finish());
const taskOverdue = (stage: TaskStage, taskId = 'task-1') =>
  message(
    'TaskOverdue',
    delivery.TaskOverdue.encode({ ref, taskId, deadline: new Date(t0.getTime() + 900_000), stage }).finish(),
  );

describe('readDelivery', () => {
  it('decodes PickupExpired and TaskOverdue from their protobuf bytes', () => {
    expect(readDelivery('o2o.delivery.v1.PickupExpired', pickupExpired().value)).toEqual({
      kind: 'step',
      orderId: 'o-1',
      groupId: 'g1',
      step: 'PICKUP_EXPIRED',
    });
    expect(readDelivery('o2o.delivery.v1.TaskOverdue', taskOverdue(TaskStage.TASK_STAGE_PACK).value)).toEqual({
      kind: 'overdue',
      orderId: 'o-1',
      groupId: 'g1',
      taskId: 'task-1',
      deadline: new Date(t0.getTime() + 900_000),
      stage: 'PACK',
    });
  });

  it('skips the events orders does not act on, and events without a ref', () => {
    const noRef = delivery.PickupExpired.encode({ ref: undefined, time: t0 }).finish();
    expect(readDelivery('o2o.delivery.v1.PickupExpired', noRef)).toBeUndefined();
    const cancelled = delivery.FulfilmentCancelled.encode({ ref, shipmentId: '', time: t0 }).finish();
    expect(readDelivery('o2o.delivery.v1.FulfilmentCancelled', cancelled)).toBeUndefined();
  });
});

describe('deliveryEventHandler', () => {
  it('PickupExpired cancels the READY_FOR_PICKUP group: release and void queued, OrderCancelled; a repeat is a no-op', async () => {
    const { handle, state, published, refused, lines } = setup();
    await handle(pickupExpired());
    expect(state()).toMatchObject({ status: 'CANCELLED', statusReason: 'pick-up not collected' });
    expect(state().groups[0]?.status).toBe('CANCELLED');
    expect(state().tasks.map((t) => t.kind)).toEqual(['RELEASE_HOLD', 'VOID_PAYMENTS']);
    expect(published).toEqual([{ type: 'OrderCancelled', reason: 'pick-up not collected' }]);

    const version = state().version;
    await handle(pickupExpired());
    expect(state().version).toBe(version);
    expect(published).toHaveLength(1);
    expect(refused).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('a PickupExpired the lifecycle refuses (a delivery group, or not ready) is logged, counted and skipped', async () => {
    const { handle, state, refused, lines } = setup();
    await handle(message('PickedUp', delivery.PickedUp.encode({ ref, shipmentId: '', time: t0 }).finish()));
    expect(state().groups[0]?.status).toBe('PICKED_UP');
    const before = state();
    await handle(pickupExpired());
    expect(state()).toEqual(before);
    expect(refused).toEqual(['o2o.delivery.v1.PickupExpired']);
    expect(lines).toMatchObject([{ level: 'warn', type: 'o2o.delivery.v1.PickupExpired' }]);
  });

  it('TaskOverdue: every stage counted; ACCEPT recorded on the timeline once, PICK and PACK not', async () => {
    const { handle, state, published, overdue } = setup();
    const entries = state().timeline.length;
    await handle(taskOverdue(TaskStage.TASK_STAGE_PICK));
    await handle(taskOverdue(TaskStage.TASK_STAGE_PACK));
    expect(state().timeline).toHaveLength(entries);
    await handle(taskOverdue(TaskStage.TASK_STAGE_ACCEPT));
    await handle(taskOverdue(TaskStage.TASK_STAGE_ACCEPT));
    expect(overdue).toEqual(['PICK', 'PACK', 'ACCEPT', 'ACCEPT']);
    expect(state().timeline.slice(entries)).toMatchObject([
      { groupId: 'g1', cause: 'delivery: task task-1 not accepted at store-7 by 2026-11-22T12:15:00.000Z' },
    ]);
    expect(state().status).toBe('READY_FOR_PICKUP');
    expect(published).toEqual([]);
  });

  it('FulfilmentCancelled, ShipmentCreated, CourierAssigned and ShipmentPosition change nothing and log nothing', async () => {
    const { handle, state, published, refused, overdue, lines } = setup();
    const before = state();
    await handle(
      message(
        'FulfilmentCancelled',
        delivery.FulfilmentCancelled.encode({ ref, shipmentId: 's-1', time: t0 }).finish(),
      ),
    );
    await handle(
      message('ShipmentCreated', delivery.ShipmentCreated.encode({ ref, shipmentId: 's-1', time: t0 }).finish()),
    );
    await handle(
      message(
        'CourierAssigned',
        delivery.CourierAssigned.encode({ ref, shipmentId: 's-1', courierId: 'c-1', time: t0 }).finish(),
      ),
    );
    await handle(
      message(
        'ShipmentPosition',
        delivery.ShipmentPosition.encode({
          ref,
          shipmentId: 's-1',
          courierId: 'c-1',
          point: { latitude: 31.2, longitude: 121.5 },
          time: t0,
          eta: t0,
          remainingDistanceM: '1200',
        }).finish(),
      ),
    );
    expect(state()).toEqual(before);
    expect([published, refused, overdue, lines]).toEqual([[], [], [], []]);
  });
});
