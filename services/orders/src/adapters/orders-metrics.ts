// Orders' business metrics: transitions by channel and event, how long placements take, events refused by the
// lifecycle, delivery tasks past a deadline and the re-routes they lead to, and the task backlog an operator alerts on (stuck sagas, compensations
// not carried out).
import type { Connection } from '@o2o/kit-mongo';
import { serviceMeter, startPolledGauges } from '@o2o/kit-telemetry';
import type { OrderRepository } from '../app/ports';
import type { OrderState } from '../domain/types';
import { ORDERS_COLLECTION } from './mongo-order-repository';

/** Order events written, by `channel` and `event` (OrderPlaced, OrderConfirmed, ...) (counter). */
export const ORDER_TRANSITIONS = 'o2o.orders.transitions';
/** Seconds from PlaceOrder to the end of the saga, by `channel` and `outcome` (the status reached) (histogram). */
export const PLACEMENT_DURATION = 'o2o.orders.placement.duration';
/** Orders still PENDING (saga running or waiting for a retry) (gauge). */
export const PLACEMENTS_PENDING = 'o2o.orders.placements.pending';
/** Orders with a task due for more than a minute: stuck sagas or compensations not carried out (gauge). */
export const TASKS_OVERDUE = 'o2o.orders.tasks.overdue';
/** Orders waiting for a wallet payment (gauge). */
export const AWAITING_PAYMENT = 'o2o.orders.awaiting_payment';
/** Payments/delivery events the lifecycle refused (counter, `type`). */
export const EVENTS_REFUSED = 'o2o.orders.events.refused';
/** Tasks that threw unexpectedly (counter). */
export const TASK_ERRORS = 'o2o.orders.task.errors';
/** Delivery tasks past a deadline as delivery announced them (TaskOverdue), by `stage`: ACCEPT, PICK, PACK (counter). */
export const FULFILMENT_OVERDUE = 'o2o.orders.fulfilment.overdue';
/**
 * Re-routes of groups nobody accepted, by `outcome`: rerouted, no_location (no single other location could take it),
 * not_allowed (a pick-up group, re-routing off, the order's limit reached), discarded (accepted or cancelled
 * meanwhile) (counter).
 */
export const REROUTED = 'o2o.orders.rerouted';

/** Orders' metrics: a counting repository wrapper, placement timing and the backlog gauges. */
export function ordersMetrics() {
  const meter = serviceMeter('o2o-orders');
  const transitions = meter.createCounter(ORDER_TRANSITIONS, {
    description: 'Order events written, by channel and event type',
    unit: '{event}',
  });
  const duration = meter.createHistogram(PLACEMENT_DURATION, {
    description: 'Time from PlaceOrder to the end of the placement saga',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] },
  });
  const refused = meter.createCounter(EVENTS_REFUSED, {
    description: 'Payments and delivery events the order lifecycle refused (skipped)',
    unit: '{event}',
  });
  const taskErrors = meter.createCounter(TASK_ERRORS, {
    description: 'Tasks that failed unexpectedly',
    unit: '{task}',
  });
  const overdue = meter.createCounter(FULFILMENT_OVERDUE, {
    description: 'Delivery tasks past their accept, pick or pack deadline (TaskOverdue), by stage',
    unit: '{task}',
  });
  const rerouted = meter.createCounter(REROUTED, {
    description: 'Re-routes of fulfilment groups nobody accepted in time, by outcome',
    unit: '{group}',
  });

  return {
    /** The repository, counting the events each successful write stored. */
    orders(inner: OrderRepository): OrderRepository {
      return {
        ...inner,
        async insert(order, events, meta) {
          const inserted = await inner.insert(order, events, meta);
          if (inserted === 'inserted') {
            for (const e of events) transitions.add(1, { channel: order.snapshot().channel, event: e.type });
          }
          return inserted;
        },
        async update(id, change, known) {
          let written: { channel: string; types: string[] } | undefined;
          const result = await inner.update(
            id,
            (order) => {
              const out = change(order);
              written = { channel: order.snapshot().channel, types: out.events.map((e) => e.type) };
              return out;
            },
            known,
          );
          // Only the last application's events were written (earlier ones lost a version race).
          for (const type of written?.types ?? []) transitions.add(1, { channel: written!.channel, event: type });
          return result;
        },
      };
    },
    placementSettled(order: OrderState, seconds: number): void {
      duration.record(seconds, { channel: order.channel, outcome: order.status });
    },
    eventRefused(type: string): void {
      refused.add(1, { type });
    },
    taskError(): void {
      taskErrors.add(1);
    },
    fulfilmentOverdue(stage: string): void {
      overdue.add(1, { stage });
    },
    reroute(outcome: string): void {
      rerouted.add(1, { outcome });
    },
    /** The backlog gauges, counted when metrics are collected. */
    startBacklogGauges(connection: Connection, options: { maxAgeMs: number }): { stop(): void } {
      const db = connection.db;
      if (!db) throw new Error('Mongo connection is not open');
      const orders = db.collection<{ status: string; nextRunAt?: Date }>(ORDERS_COLLECTION);
      return startPolledGauges(
        meter,
        {
          [PLACEMENTS_PENDING]: { description: 'Orders whose placement saga has not finished', unit: '{order}' },
          [TASKS_OVERDUE]: {
            description: 'Orders with a task due for over a minute (stuck saga or compensation)',
            unit: '{order}',
          },
          [AWAITING_PAYMENT]: { description: 'Orders waiting for a wallet payment', unit: '{order}' },
        },
        async () => {
          const [pending, overdue, awaiting] = await Promise.all([
            orders.countDocuments({ status: 'PENDING' }),
            orders.countDocuments({ nextRunAt: { $lt: new Date(Date.now() - 60_000) } }),
            orders.countDocuments({ status: 'AWAITING_PAYMENT' }),
          ]);
          return { [PLACEMENTS_PENDING]: pending, [TASKS_OVERDUE]: overdue, [AWAITING_PAYMENT]: awaiting };
        },
        options,
      );
    },
  };
}
