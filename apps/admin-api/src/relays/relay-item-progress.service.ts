import { Injectable, Logger } from '@nestjs/common';

/** The first poll interval of an in-process wait on a work item, and the one it goes back to on a wake-up. */
export const ITEM_POLL_MS = 100;
/** The longest poll interval of an in-process wait that hears nothing. */
export const ITEM_MAX_POLL_MS = 1_000;

/** Poll intervals of one wait: doubling while nothing changes, up to a cap, and back to the first when something arrives. */
export class PollBackoff {
  private current: number;

  /**
   * @param firstMs @default ITEM_POLL_MS
   * @param maxMs @default ITEM_MAX_POLL_MS
   */
  constructor(
    private readonly firstMs = ITEM_POLL_MS,
    private readonly maxMs = ITEM_MAX_POLL_MS,
  ) {
    this.current = Math.min(firstMs, maxMs);
  }

  get delayMs(): number {
    return this.current;
  }

  /** The interval passed without news: the next is twice as long, up to the cap. */
  grow(): void {
    this.current = Math.min(this.maxMs, Math.max(1, this.current * 2));
  }

  reset(): void {
    this.current = Math.min(this.firstMs, this.maxMs);
  }
}

/** One waiter's subscription to the progress of one item. */
export interface ItemProgressWatch {
  /**
   * Resolves 'progress' at the item's next progress (at once when some came
   * since the watch opened or since the last call), else 'timeout' after
   * `timeoutMs`. One call at a time.
   */
  next(timeoutMs: number): Promise<'progress' | 'timeout'>;
  /** Ends the subscription; a pending `next` resolves 'timeout' at once. */
  close(): void;
}

type Listener = (itemId: string) => void;

class Watch implements ItemProgressWatch {
  private pending = false;
  private waiter: ((outcome: 'progress' | 'timeout') => void) | null = null;

  constructor(private readonly release: (watch: Watch) => void) {}

  next(timeoutMs: number): Promise<'progress' | 'timeout'> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve('progress');
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle('timeout'), Math.max(0, timeoutMs));
      this.waiter = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
    });
  }

  notify(): void {
    // Reported while the owner was reading SQL: its next wait must not sleep through it.
    if (!this.settle('progress')) this.pending = true;
  }

  close(): void {
    this.settle('timeout');
    this.release(this);
  }

  private settle(outcome: 'progress' | 'timeout'): boolean {
    const waiter = this.waiter;
    if (!waiter) return false;
    this.waiter = null;
    waiter(outcome);
    return true;
  }
}

/**
 * Progress of relay work items in this process: `RelayWorkService` reports
 * an item when it staged one of its import batches or completed it (a
 * duplicate is not progress). Waiters in this process (connection tests)
 * are woken at once; the hub passes every report on to the engines as
 * `work:progress`. SQL stays the truth, a report only says "look now", so
 * every waiter polls as well: a relay connected to another Admin API
 * instance is reported there, not here.
 */
@Injectable()
export class RelayItemProgress {
  private readonly logger = new Logger('RelayHub');
  private readonly watches = new Map<string, Set<Watch>>();
  private readonly listeners = new Set<Listener>();

  /** Open watches, over all items. */
  get size(): number {
    let count = 0;
    for (const set of this.watches.values()) count += set.size;
    return count;
  }

  /** The item made progress: wakes its watches and tells the listeners. Never throws. */
  reported(itemId: string): void {
    for (const watch of [...(this.watches.get(itemId) ?? [])]) watch.notify();
    for (const listener of [...this.listeners]) {
      try {
        listener(itemId);
      } catch (error) {
        // The relay's message was handled; a listener's trouble must not turn it into a refusal.
        this.logger.warn(`passing on the progress of work item ${itemId} failed: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }

  /** Opens a watch on `itemId`; close it when the wait ends. */
  watch(itemId: string): ItemProgressWatch {
    const set = this.watches.get(itemId) ?? new Set<Watch>();
    this.watches.set(itemId, set);
    const watch = new Watch((closed) => {
      set.delete(closed);
      if (set.size === 0 && this.watches.get(itemId) === set) this.watches.delete(itemId);
    });
    set.add(watch);
    return watch;
  }

  /** Calls `listener` with every item reported from now on; returns the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
