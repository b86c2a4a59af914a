// Delivery's business metrics: events written by type, orders events skipped, the live-tracking counters, and the
// backlog gauges an operator alerts on (tasks nobody accepted, shipments without a courier, pick-ups waiting).
import type { Connection } from '@o2o/kit-mongo';
import { serviceMeter, startPolledGauges } from '@o2o/kit-telemetry';
import type { FulfilmentRepository } from '../app/ports';
import { FULFILMENTS_COLLECTION } from './mongo-fulfilment-repository';

/** Delivery events written, by `event` (TaskAccepted, CourierAssigned, Delivered, ...) (counter). */
export const DELIVERY_EVENTS = 'o2o.delivery.events';
/** Orders events delivery could not act on (unknown location, no destination) (counter, `type`). */
export const ORDERS_EVENTS_SKIPPED = 'o2o.delivery.orders_events.skipped';
/** Position reports, by `outcome` (accepted, or the reason it was dropped) (counter). */
export const POSITIONS = 'o2o.delivery.positions';
/** Tasks still OPEN past their acceptance deadline (gauge). */
export const TASKS_UNACCEPTED = 'o2o.delivery.tasks.unaccepted';
/** Shipments waiting for a courier for more than a minute (gauge). */
export const SHIPMENTS_WITHOUT_COURIER = 'o2o.delivery.shipments.without_courier';
/** Pick-ups ready and waiting for their shopper (gauge). */
export const PICKUPS_WAITING = 'o2o.delivery.pickups.waiting';
/** Shipment watchers connected to this replica (gauge). */
export const WATCHERS = 'o2o.delivery.watchers';

/** Delivery's metrics. */
export function deliveryMetrics() {
  const meter = serviceMeter('o2o-delivery');
  const written = meter.createCounter(DELIVERY_EVENTS, {
    description: 'Delivery events written, by type',
    unit: '{event}',
  });
  const skipped = meter.createCounter(ORDERS_EVENTS_SKIPPED, {
    description: 'Orders events delivery could not act on (skipped)',
    unit: '{event}',
  });
  const positions = meter.createCounter(POSITIONS, {
    description: 'Courier position reports, by outcome',
    unit: '{report}',
  });

  return {
    /** The repository, counting the events each successful write stored. */
    fulfilments<R extends FulfilmentRepository>(inner: R): R {
      return {
        ...inner,
        async update(id, change) {
          const changed = await inner.update(id, change);
          for (const e of changed.events) written.add(1, { event: e.type });
          return changed;
        },
      };
    },
    ordersEventSkipped(type: string): void {
      skipped.add(1, { type });
    },
    position(outcome: string, count = 1): void {
      positions.add(count, { outcome });
    },
    /** A gauge of this replica's watchers, read when metrics are collected. */
    watchers(read: () => number): void {
      meter
        .createObservableGauge(WATCHERS, { description: 'Shipment watchers on this replica', unit: '{watcher}' })
        .addCallback((r) => r.observe(read()));
    },
    /** The backlog gauges, counted when metrics are collected. */
    startBacklogGauges(connection: Connection, options: { maxAgeMs: number }): { stop(): void } {
      const db = connection.db;
      if (!db) throw new Error('Mongo connection is not open');
      const docs = db.collection(FULFILMENTS_COLLECTION);
      return startPolledGauges(
        meter,
        {
          [TASKS_UNACCEPTED]: { description: 'Tasks still open past their acceptance deadline', unit: '{task}' },
          [SHIPMENTS_WITHOUT_COURIER]: {
            description: 'Shipments waiting over a minute for a courier',
            unit: '{shipment}',
          },
          [PICKUPS_WAITING]: { description: 'Pick-ups ready and waiting for their shopper', unit: '{pickup}' },
        },
        async () => {
          const minuteAgo = new Date(Date.now() - 60_000);
          const [unaccepted, withoutCourier, waiting] = await Promise.all([
            docs.countDocuments({ 'task.status': 'OPEN', 'task.acceptBy': { $lt: new Date() } }),
            docs.countDocuments({ 'shipment.status': 'AWAITING_COURIER', 'shipment.createdAt': { $lt: minuteAgo } }),
            docs.countDocuments({ type: 'STORE_PICKUP', 'task.status': 'READY' }),
          ]);
          return {
            [TASKS_UNACCEPTED]: unaccepted,
            [SHIPMENTS_WITHOUT_COURIER]: withoutCourier,
            [PICKUPS_WAITING]: waiting,
          };
        },
        options,
      );
    },
  };
}
