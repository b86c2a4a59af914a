// In-memory fakes of the inventory ports for use-case tests. They keep the contracts of ports.ts the way the Mongo
// adapters do: conditional line holds, version-checked saves, events stored beside the state they describe.
import type { InventoryEvent } from '../../domain/events';
import type { Hold, HoldLine } from '../../domain/hold';
import type { Location } from '../../domain/location';
import { available, emptyStock, isLow, type StockLevel, stockId } from '../../domain/stock';
import type {
  Clock,
  HoldRepository,
  InventoryDeps,
  LocationRepository,
  SkuFacts,
  SkuRegistry,
  StockRepository,
} from '../ports';

/** How many applied request ids a stock record remembers (as the Mongo adapter does). */
const REMEMBERED_REQUESTS = 100;
/** How long a settled hold with unpublished events waits before the sweeper looks again (as the Mongo adapter). */
const ARCHIVE_RETRY_MS = 2_000;

/** A clock that only moves when told to. */
export interface FixedClock extends Clock {
  set(at: Date): void;
  advance(ms: number): void;
}

/** A clock standing at `start` until set or advanced. */
export function fixedClock(start: Date): FixedClock {
  let at = new Date(start.getTime());
  return {
    now: () => new Date(at.getTime()),
    set(next) {
      at = new Date(next.getTime());
    },
    advance(ms) {
      at = new Date(at.getTime() + ms);
    },
  };
}

/** Locations in a map, sorted by id when listed. */
export function memoryLocations(): LocationRepository & { rows: Map<string, Location> } {
  const rows = new Map<string, Location>();
  const sorted = () => [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(copyLocation);
  return {
    rows,
    async insert(location) {
      if (rows.has(location.id)) return 'exists';
      rows.set(location.id, copyLocation(location));
      return 'inserted';
    },
    async find(id) {
      const found = rows.get(id);
      return found && copyLocation(found);
    },
    async replace(location, storedVersion) {
      if (rows.get(location.id)?.version !== storedVersion) return false;
      rows.set(location.id, copyLocation(location));
      return true;
    },
    async list(filter, page) {
      const matching = sorted().filter(
        (l) =>
          (filter.kinds.length === 0 || filter.kinds.includes(l.kind)) &&
          (filter.statuses.length === 0 || filter.statuses.includes(l.status)) &&
          (page.after === undefined || l.id > page.after),
      );
      const items = matching.slice(0, page.size);
      return { items, after: matching.length > page.size ? items[items.length - 1]?.id : undefined };
    },
    async all() {
      return sorted();
    },
  };
}

interface StockRow {
  level: StockLevel;
  /** Holds whose line was held here and not yet confirmed by the hold document, with the units they took. */
  holding: Map<string, number>;
  /** "release:<hold>" / "commit:<hold>" markers of settled lines not yet confirmed by the hold document. */
  settling: Set<string>;
  requests: string[];
  /** StockLow was announced for the current dip below the threshold. */
  low: boolean;
}

/** Stock records in a map; every stored event is appended to `events`. */
export function memoryStock(
  clock: Clock,
  events: InventoryEvent[],
): StockRepository & {
  rows: Map<string, StockRow>;
  /** Puts a record in place directly (test set-up), as if adjusted to these numbers. */
  seed(skuCode: string, locationId: string, fields: Partial<Omit<StockLevel, 'skuCode' | 'locationId'>>): void;
  /** The holds this record carries in flight (held, not yet confirmed), by hold id. */
  holdsOn(skuCode: string, locationId: string): Map<string, number>;
} {
  const rows = new Map<string, StockRow>();
  const row = (skuCode: string, locationId: string) => rows.get(stockId(skuCode, locationId));
  const resetLowIfRecovered = (r: StockRow) => {
    if (r.low && !isLow(r.level)) r.low = false;
  };
  return {
    rows,
    seed(skuCode, locationId, fields) {
      const level = { ...emptyStock(skuCode, locationId, clock.now()), version: 1, ...fields };
      rows.set(stockId(skuCode, locationId), {
        level,
        holding: new Map(),
        settling: new Set(),
        requests: [],
        low: isLow(level),
      });
    },
    holdsOn(skuCode, locationId) {
      return new Map(row(skuCode, locationId)?.holding ?? []);
    },
    async find(skuCode, locationId) {
      const r = row(skuCode, locationId);
      return r && { ...r.level };
    },
    async findMany(skuCodes, locationIds) {
      return [...rows.values()]
        .filter(
          (r) =>
            skuCodes.includes(r.level.skuCode) &&
            (locationIds.length === 0 || locationIds.includes(r.level.locationId)),
        )
        .map((r) => ({ ...r.level }));
    },
    async change(key, change) {
      const id = stockId(key.skuCode, key.locationId);
      const r = rows.get(id);
      if (r?.requests.includes(key.requestId)) return { stock: { ...r.level }, applied: false };
      const current = r ? { ...r.level } : emptyStock(key.skuCode, key.locationId, new Date(0));
      const { next, events: produced } = change(current);
      // Holds are not the adjustment's to change: held stays what the record says.
      const level: StockLevel = { ...next, held: current.held };
      rows.set(id, {
        level,
        holding: r?.holding ?? new Map<string, number>(),
        settling: r?.settling ?? new Set<string>(),
        requests: [...(r?.requests ?? []), key.requestId].slice(-REMEMBERED_REQUESTS),
        low: isLow(level),
      });
      events.push(...produced);
      return { stock: { ...level }, applied: true };
    },
    async holdLine(holdId, line) {
      const r = row(line.skuCode, line.locationId);
      if (!r) return { held: false, available: 0 };
      if (r.holding.has(holdId) || available(r.level) < line.quantity) {
        return { held: false, available: available(r.level) };
      }
      r.holding.set(holdId, line.quantity);
      r.level = {
        ...r.level,
        held: r.level.held + line.quantity,
        version: r.level.version + 1,
        updatedAt: clock.now(),
      };
      return { held: true, stock: { ...r.level } };
    },
    async isHeld(holdId, line) {
      return row(line.skuCode, line.locationId)?.holding.has(holdId) ?? false;
    },
    async undoLine(holdId, line) {
      const r = row(line.skuCode, line.locationId);
      if (!r?.holding.has(holdId)) return undefined;
      r.holding.delete(holdId);
      r.level = {
        ...r.level,
        held: r.level.held - line.quantity,
        version: r.level.version + 1,
        updatedAt: clock.now(),
      };
      resetLowIfRecovered(r);
      return { ...r.level };
    },
    async settleLine(holdId, line: HoldLine, mode) {
      const r = row(line.skuCode, line.locationId);
      const marker = `${mode}:${holdId}`;
      if (!r || r.settling.has(marker)) return undefined;
      r.settling.add(marker);
      r.holding.delete(holdId);
      const held = r.level.held - line.quantity;
      // A commit takes out what there is: damage or a count may have left less on hand than the hold took.
      const onHand = mode === 'commit' ? Math.max(0, r.level.onHand - line.quantity) : r.level.onHand;
      r.level = { ...r.level, onHand, held, version: r.level.version + 1, updatedAt: clock.now() };
      if (mode === 'release') resetLowIfRecovered(r);
      return { ...r.level };
    },
    async forgetLine(holdId, line) {
      const r = row(line.skuCode, line.locationId);
      r?.holding.delete(holdId);
      r?.settling.delete(`release:${holdId}`);
      r?.settling.delete(`commit:${holdId}`);
    },
    async flagLow(level, event) {
      const r = row(level.skuCode, level.locationId);
      if (!r || r.low) return false;
      r.low = true;
      events.push(event);
      return true;
    },
  };
}

interface HoldRow {
  hold: Hold;
  sweepAt: Date | null;
  settled: boolean;
  /** Events stored with the hold and not yet published by the relay. */
  outbox: InventoryEvent[];
}

/** Holds in a map with an archive beside it; every stored event is appended to `events`. */
export function memoryHolds(
  clock: Clock,
  events: InventoryEvent[],
  options: { relay: 'instant' | 'manual' } = { relay: 'instant' },
): HoldRepository & {
  rows: Map<string, HoldRow>;
  archived: Map<string, Hold>;
  /** The relay publishes every stored event (only needed with relay 'manual'). */
  publishAll(): void;
} {
  const rows = new Map<string, HoldRow>();
  const archived = new Map<string, Hold>();
  return {
    rows,
    archived,
    publishAll() {
      for (const r of rows.values()) r.outbox = [];
    },
    async insert(hold, sweepAt) {
      if (rows.has(hold.id) || archived.has(hold.id)) return 'exists';
      rows.set(hold.id, { hold: copyHold(hold), sweepAt, settled: false, outbox: [] });
      return 'inserted';
    },
    async find(id) {
      const found = rows.get(id)?.hold ?? archived.get(id);
      return found && copyHold(found);
    },
    async save(hold, storedVersion, stored, sweepAt) {
      const r = rows.get(hold.id);
      if (r?.hold.version !== storedVersion) return false;
      r.hold = copyHold(hold);
      r.sweepAt = sweepAt ?? null;
      r.settled = false;
      events.push(...stored);
      if (options.relay === 'manual') r.outbox.push(...stored);
      return true;
    },
    async markSettled(id) {
      const r = rows.get(id);
      if (!r) return;
      r.settled = true;
      r.sweepAt = clock.now();
    },
    async due(now, limit) {
      return [...rows.values()]
        .filter((r): r is HoldRow & { sweepAt: Date } => r.sweepAt !== null && r.sweepAt <= now)
        .sort((a, b) => a.sweepAt.getTime() - b.sweepAt.getTime())
        .slice(0, limit)
        .map((r) => ({ hold: copyHold(r.hold), settled: r.settled }));
    },
    async archive(id) {
      const r = rows.get(id);
      if (!r?.settled) return false;
      if (r.outbox.length > 0) {
        r.sweepAt = new Date(clock.now().getTime() + ARCHIVE_RETRY_MS);
        return false;
      }
      archived.set(id, r.hold);
      rows.delete(id);
      return true;
    },
  };
}

/** SKU facts in a map; older product versions than the stored one are ignored. */
export function memorySkus(): SkuRegistry & { rows: Map<string, SkuFacts> } {
  const rows = new Map<string, SkuFacts>();
  return {
    rows,
    async find(codes) {
      const found = new Map<string, SkuFacts>();
      for (const code of codes) {
        const facts = rows.get(code);
        if (facts) found.set(code, { ...facts });
      }
      return found;
    },
    async record(list) {
      for (const facts of list) {
        const stored = rows.get(facts.skuCode);
        if (!stored || stored.productVersion < facts.productVersion) rows.set(facts.skuCode, { ...facts });
      }
    },
  };
}

/** Every port in memory, sharing one clock and one log of stored events. */
export function memoryInventory(
  start = new Date('2026-11-22T10:00:00Z'),
  options: { relay: 'instant' | 'manual' } = { relay: 'instant' },
) {
  const clock = fixedClock(start);
  const events: InventoryEvent[] = [];
  const locations = memoryLocations();
  const stock = memoryStock(clock, events);
  const holds = memoryHolds(clock, events, options);
  const skus = memorySkus();
  const deps: InventoryDeps = { locations, stock, holds, skus, clock };
  return { deps, clock, events, locations, stock, holds, skus };
}

function copyLocation(l: Location): Location {
  return structuredClone(l);
}

function copyHold(h: Hold): Hold {
  return structuredClone(h);
}
