// Inventory's business metrics. Counted where a write is known to have happened: around the repositories (a save
// that returned true, a StockLow the record stored), so retries after a conflict and no-op repeats count nothing.
import type { Connection } from '@o2o/kit-mongo';
import { serviceMeter, startPolledGauges } from '@o2o/kit-telemetry';
import type { HoldRepository, StockRepository } from '../app/ports';
import type { InventoryEvent } from '../domain/events';
import type { HoldStatus } from '../domain/hold';
import type { HoldDocument } from './mongo-hold-repository';

/** Holds that reached an outcome (counter, attribute `outcome`). */
export const HOLDS = 'o2o.inventory.holds';
/** What the hold sweeper did (counter, attribute `action`: expired, recovered, settled, archived). */
export const SWEEPER_HOLDS = 'o2o.inventory.sweeper.holds';
/** StockLow announcements stored (counter). */
export const STOCK_LOW = 'o2o.inventory.stock.low';
/** ACTIVE holds past their expiry that the sweeper has not expired yet (gauge). */
export const EXPIRED_HOLD_BACKLOG = 'o2o.inventory.holds.expired_backlog';
/** Age of the oldest of them, seconds past its expiry; 0 when there is none (gauge). */
export const EXPIRED_HOLD_OLDEST_AGE = 'o2o.inventory.holds.expired_oldest_age';

type Outcome = 'reserved' | 'failed' | 'released' | 'committed' | 'expired';

const OUTCOME_OF_EVENT: Partial<Record<InventoryEvent['type'], Outcome>> = {
  StockReserved: 'reserved',
  ReservationReleased: 'released',
  ReservationCommitted: 'committed',
  ReservationExpired: 'expired',
};

/** Inventory's metrics: repository wrappers that count, the sweeper's tally, and the expired-hold backlog gauges. */
export function inventoryMetrics() {
  const meter = serviceMeter('o2o-inventory');
  const holds = meter.createCounter(HOLDS, {
    description: 'Holds that reached an outcome: reserved (active), failed, released, committed, expired',
    unit: '{hold}',
  });
  const sweeper = meter.createCounter(SWEEPER_HOLDS, {
    description: 'Holds the sweeper expired, recovered (left PENDING by a crash), settled or archived',
    unit: '{hold}',
  });
  const stockLow = meter.createCounter(STOCK_LOW, {
    description: 'StockLow events stored: a stock record fell to or below its low-stock threshold',
    unit: '{event}',
  });

  function countOutcome(status: HoldStatus, events: InventoryEvent[]): void {
    // A FAILED hold has no event of its own; an extension (ACTIVE, no event) is no outcome.
    const outcome = status === 'FAILED' ? 'failed' : events.map((e) => OUTCOME_OF_EVENT[e.type]).find(Boolean);
    if (outcome) holds.add(1, { outcome });
  }
  function countStockLow(events: InventoryEvent[]): void {
    const low = events.filter((e) => e.type === 'StockLow').length;
    if (low > 0) stockLow.add(low);
  }

  return {
    /** The hold repository, counting each outcome once, when its save succeeded. */
    holds(inner: HoldRepository): HoldRepository {
      return {
        ...inner,
        async save(hold, storedVersion, events, sweepAt) {
          const saved = await inner.save(hold, storedVersion, events, sweepAt);
          if (saved) countOutcome(hold.status, events);
          return saved;
        },
      };
    },
    /** The stock repository, counting StockLow events that were stored (adjustments, and flags after a hold). */
    stock(inner: StockRepository): StockRepository {
      return {
        ...inner,
        async change(key, change) {
          let last: InventoryEvent[] = [];
          const result = await inner.change(key, (current) => {
            const applied = change(current);
            last = applied.events;
            return applied;
          });
          if (result.applied) countStockLow(last);
          return result;
        },
        async flagLow(stock, event) {
          const stored = await inner.flagLow(stock, event);
          if (stored) countStockLow([event]);
          return stored;
        },
      };
    },
    /** Adds one sweeper pass's tally. */
    swept(result: { expired: number; recovered: number; settled: number; archived: number }): void {
      for (const action of ['expired', 'recovered', 'settled', 'archived'] as const) {
        if (result[action] > 0) sweeper.add(result[action], { action });
      }
    },
    /**
     * The expired-hold backlog, counted in the database when metrics are collected (at most once per `maxAgeMs`), not by
     * the sweeper: when the sweeper stops or falls behind, this is what must keep growing.
     */
    startBacklogGauges(connection: Connection, options: { maxAgeMs: number }): { stop(): void } {
      const db = connection.db;
      if (!db) throw new Error('Mongo connection is not open');
      const collection = db.collection<HoldDocument>('holds');
      return startPolledGauges(
        meter,
        {
          [EXPIRED_HOLD_BACKLOG]: {
            description: 'ACTIVE holds past their expiry that the sweeper has not expired yet',
            unit: '{hold}',
          },
          [EXPIRED_HOLD_OLDEST_AGE]: {
            description: 'How long ago the oldest not-yet-expired overdue hold should have expired (0: none)',
            unit: 's',
          },
        },
        async () => {
          const now = new Date();
          // An ACTIVE hold's sweepAt is its expiry, and sweepAt is indexed.
          const overdue = { sweepAt: { $lte: now }, status: 'ACTIVE' as const };
          const [count, oldest] = await Promise.all([
            collection.countDocuments(overdue),
            collection.findOne(overdue, { sort: { sweepAt: 1 }, projection: { sweepAt: 1 } }),
          ]);
          const age = oldest?.sweepAt ? (now.getTime() - oldest.sweepAt.getTime()) / 1000 : 0;
          return { [EXPIRED_HOLD_BACKLOG]: count, [EXPIRED_HOLD_OLDEST_AGE]: Math.max(0, age) };
        },
        options,
      );
    },
  };
}
