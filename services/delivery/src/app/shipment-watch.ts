// One watcher's view of a shipment: a small buffer between the hub (which must never wait for anyone) and the
// watcher's gRPC stream (which waits for the network).
import { isFinal } from '../domain/tracking';
import type { ShipmentUpdate } from './tracking-ports';

/** Why a watch ended: the shipment reached a final status, the watcher left, or the service is shutting down. */
export type WatchEnd = 'final' | 'closed' | 'shutdown';

/** A subscription to one shipment: iterate it for updates, in rising sequence, until the shipment ends. */
export interface ShipmentWatch extends AsyncIterable<ShipmentUpdate> {
  readonly shipmentId: string;
  /** The next update; done once the watch ended (after the final status was taken, or at once on close/shutdown). */
  next(): Promise<IteratorResult<ShipmentUpdate, undefined>>;
  /** Stops watching (the client went away); pending and future updates are dropped. */
  close(): void;
  /** Why the watch ended; undefined while it runs. */
  readonly ended: WatchEnd | undefined;
  /** Position updates skipped because the watcher was slower than the courier (a newer one replaced them). */
  readonly coalesced: number;
}

interface Buffered {
  update: ShipmentUpdate;
  /** A status change (by kind, or the status differs from the update before it): never coalesced away. */
  statusChange: boolean;
}

/**
 * A watcher's bounded buffer. `push` never blocks: it drops updates whose sequence is not above the last one taken,
 * and when `capacity` updates wait it removes the waiting position-only updates (the newest update carries the
 * latest position and ETA, so nothing is lost but intermediate points); status changes are always kept.
 */
export class WatchQueue implements ShipmentWatch {
  private readonly buffer: Buffered[] = [];
  private readonly waiters: ((result: IteratorResult<ShipmentUpdate, undefined>) => void)[] = [];
  private lastSequence = -Infinity;
  private lastStatus: string | undefined;
  private finalQueued = false;
  private endedWith: WatchEnd | undefined;
  private skipped = 0;

  constructor(
    readonly shipmentId: string,
    private readonly capacity: number,
    private readonly onEnd: (watch: WatchQueue) => void = () => undefined,
  ) {
    if (capacity < 1) throw new RangeError(`A watch buffer needs room for at least one update, got ${capacity}`);
  }

  get ended(): WatchEnd | undefined {
    return this.endedWith;
  }

  get coalesced(): number {
    return this.skipped;
  }

  /** Offers an update; false when it was dropped (not newer than the last one, or the watch is over). */
  push(update: ShipmentUpdate): boolean {
    if (this.endedWith || this.finalQueued || update.sequence <= this.lastSequence) return false;
    const statusChange =
      update.kind === 'status' || (this.lastStatus !== undefined && this.lastStatus !== update.status);
    this.lastSequence = update.sequence;
    this.lastStatus = update.status;
    if (isFinal(update.status)) this.finalQueued = true;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter({ value: update, done: false });
      if (this.finalQueued) this.finish('final');
      return true;
    }
    if (this.buffer.length >= this.capacity) {
      const kept = this.buffer.filter((b) => b.statusChange);
      this.skipped += this.buffer.length - kept.length;
      this.buffer.splice(0, this.buffer.length, ...kept);
    }
    this.buffer.push({ update, statusChange });
    return true;
  }

  next(): Promise<IteratorResult<ShipmentUpdate, undefined>> {
    const first = this.buffer.shift();
    if (first) {
      if (this.finalQueued && this.buffer.length === 0) this.finish('final');
      return Promise.resolve({ value: first.update, done: false });
    }
    if (this.endedWith) return Promise.resolve({ value: undefined, done: true });
    // Concurrent calls are served in the order they were made.
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.end('closed');
  }

  /** Ends the watch at once, dropping what waits (close and shutdown). */
  end(reason: WatchEnd): void {
    if (this.endedWith) return;
    this.buffer.length = 0;
    this.finish(reason);
  }

  async return(): Promise<IteratorResult<ShipmentUpdate, undefined>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterator<ShipmentUpdate, undefined> {
    return this;
  }

  private finish(reason: WatchEnd): void {
    if (this.endedWith) return;
    this.endedWith = reason;
    for (const waiter of this.waiters.splice(0)) waiter({ value: undefined, done: true });
    this.onEnd(this);
  }
}
