import type { InventoryEvent } from '../domain/events';
import type { Hold, HoldLine } from '../domain/hold';
import type { Location, LocationKind, LocationStatus } from '../domain/location';
import type { StockLevel } from '../domain/stock';

/** One page of a query, and where the next starts. */
export interface Page<T> {
  items: T[];
  /** Opaque position after the last item, or undefined at the end. */
  after?: string;
}

export interface LocationFilter {
  kinds: LocationKind[];
  statuses: LocationStatus[];
}

/** Where locations live. */
export interface LocationRepository {
  /** Inserts a new location; 'exists' when the id is taken (nothing written). */
  insert(location: Location): Promise<'inserted' | 'exists'>;
  find(id: string): Promise<Location | undefined>;
  /** Replaces the location if it is still at `storedVersion`; false when it moved on. */
  replace(location: Location, storedVersion: number): Promise<boolean>;
  list(filter: LocationFilter, page: { size: number; after?: string }): Promise<Page<Location>>;
  /** Every location (for availability and sourcing; a network has hundreds to a few thousand). */
  all(): Promise<Location[]>;
}

/** The outcome of holding one line on its stock record. */
export type LineHoldResult = { held: true; stock: StockLevel } | { held: false; available: number };

/**
 * Stock records, one per SKU per location. Holding and giving back are conditional single-document updates (so
 * concurrent holds on the last units cannot both win, and a retried step is not counted twice); adjustments are
 * version-checked read-modify-writes that store their events in the same update.
 *
 * A record carries a hold only while an operation on it is in flight: the hold's id is on the record from the
 * moment a line is held (or settled) until the hold document durably says so, then it is forgotten. So a record's
 * size does not grow with the number of active holds (a hot SKU can carry thousands), and a crash between the two
 * writes is recoverable: the marker on the record says what was applied.
 */
export interface StockRepository {
  find(skuCode: string, locationId: string): Promise<StockLevel | undefined>;
  /** Records of these SKUs (at these locations, or anywhere when the list is empty). */
  findMany(skuCodes: string[], locationIds: string[]): Promise<StockLevel[]>;
  /**
   * Applies `change` to the record (an empty one if none exists) unless `requestId` was already applied there,
   * storing the result, the events and the request id in one update; retries on a concurrent change.
   */
  change(
    key: { skuCode: string; locationId: string; requestId: string },
    change: (current: StockLevel) => { next: StockLevel; events: InventoryEvent[] },
  ): Promise<{ stock: StockLevel; applied: boolean }>;
  /** Holds one line if available ≥ quantity and the record does not already carry this hold's line in flight. */
  holdLine(holdId: string, line: HoldLine): Promise<LineHoldResult>;
  /** True while the record carries this hold's line as held and not yet forgotten. */
  isHeld(holdId: string, line: HoldLine): Promise<boolean>;
  /** Takes back a line held for a hold that never became active (it failed); nothing if the record does not carry it. */
  undoLine(holdId: string, line: HoldLine): Promise<StockLevel | undefined>;
  /**
   * Gives back ('release': held goes down) or takes out ('commit': held and on hand go down) a line of a hold that
   * was active. Applied at most once per hold and line: the record keeps a marker until {@link forgetLine}.
   */
  settleLine(holdId: string, line: HoldLine, mode: 'release' | 'commit'): Promise<StockLevel | undefined>;
  /** Drops the record's markers of this hold once the hold document records the operation as done. */
  forgetLine(holdId: string, line: HoldLine): Promise<void>;
  /**
   * Announces StockLow once per crossing: stores the event unless the record is already flagged low. True when this
   * call stored it (the metrics adapter counts stock-low events by it).
   */
  flagLow(stock: StockLevel, event: InventoryEvent): Promise<boolean>;
}

/** Where holds live, with their events (outbox) and the time the sweeper should look at them next. */
export interface HoldRepository {
  /** Inserts a new hold; 'exists' when the id is taken (nothing written). */
  insert(hold: Hold, sweepAt: Date): Promise<'inserted' | 'exists'>;
  find(id: string): Promise<Hold | undefined>;
  /**
   * Stores `hold` and its events if the stored one is still at `storedVersion`. `sweepAt` is when the sweeper
   * should next look (expiry, or settlement of a final hold's lines); undefined means never. False on a conflict.
   */
  save(hold: Hold, storedVersion: number, events: InventoryEvent[], sweepAt: Date | undefined): Promise<boolean>;
  /** Notes that a final hold's stock lines are all settled: all that is left is to archive it. */
  markSettled(id: string): Promise<void>;
  /** Holds the sweeper should look at now, oldest first. */
  due(now: Date, limit: number): Promise<{ hold: Hold; settled: boolean }[]>;
  /**
   * Moves a settled final hold out of the working set (it stays readable by id) once its events are published;
   * false when events are still waiting (the sweeper comes back later).
   */
  archive(id: string): Promise<boolean>;
}

/** What inventory knows of the catalogue's SKUs (from its events). */
export interface SkuFacts {
  skuCode: string;
  productId: string;
  discontinued: boolean;
  productVersion: number;
}

export interface SkuRegistry {
  /** Facts of the SKUs that are known; unknown codes are absent. */
  find(skuCodes: string[]): Promise<Map<string, SkuFacts>>;
  /** Records a product's SKUs as of `productVersion`; older versions than the stored one are ignored. */
  record(facts: SkuFacts[]): Promise<void>;
}

/** The time, injectable for tests. Always UTC instants. */
export interface Clock {
  now(): Date;
}

/** Everything the use cases need. */
export interface InventoryDeps {
  locations: LocationRepository;
  stock: StockRepository;
  holds: HoldRepository;
  skus: SkuRegistry;
  clock: Clock;
}
