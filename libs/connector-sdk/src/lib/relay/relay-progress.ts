/**
 * Waits on items of the relay work queue, shared by the engine (runs waiting
 * for staged batches and results) and the hub (connection tests waiting for
 * their answer): SQL stays the truth; a wake-up only says "look now", and a
 * wait that hears none polls with a growing interval.
 */

/** The first poll interval of a wait on the relay work queue, and the one it goes back to whenever something arrives. */
export const RELAY_POLL_MS = 100;
/** The longest poll interval: a wait that hears nothing looks at the work queue this seldom, however long it lasts. */
export const RELAY_MAX_POLL_MS = 2_000;

/**
 * The poll intervals of one wait: doubling while nothing changes, up to a
 * cap, and back to the first as soon as something arrives. Short work is
 * seen within milliseconds; an hour's wait on an offline relay costs one
 * look per cap.
 */
export class PollBackoff {
  private current: number;

  /**
   * @param firstMs @default RELAY_POLL_MS
   * @param maxMs @default RELAY_MAX_POLL_MS
   */
  constructor(
    private readonly firstMs = RELAY_POLL_MS,
    private readonly maxMs = RELAY_MAX_POLL_MS,
  ) {
    this.current = this.first();
  }

  /** The interval before the next look. */
  get delayMs(): number {
    return this.current;
  }

  /** The interval passed without news: the next is twice as long, up to the cap. */
  grow(): void {
    this.current = Math.min(this.maxMs, Math.max(1, this.current * 2));
  }

  /** Something arrived: more may follow soon. */
  reset(): void {
    this.current = this.first();
  }

  private first(): number {
    return Math.min(this.firstMs, this.maxMs);
  }
}

/** One waiter's subscription to the wake-ups of one item. */
export interface RelayProgressWatch {
  /**
   * Calls `wake` once, at the item's next wake-up, or at once (before it
   * returns) when one came since the watch opened or since the last one was
   * taken. Returns a function that withdraws `wake`.
   */
  onNext(wake: () => void): () => void;
  /** Ends the subscription; the watch hears nothing more. */
  close(): void;
}

/** Where waits on relay work items learn that an item made progress: the engine's hub link, the hub's own reports. */
export interface RelayProgressSource {
  /** Opens a watch on `itemId`; close it when the wait ends. */
  watch(itemId: string): RelayProgressWatch;
}

class ItemWatch implements RelayProgressWatch {
  private pending = false;
  private waiter: (() => void) | null = null;

  constructor(private readonly release: (watch: ItemWatch) => void) {}

  onNext(wake: () => void): () => void {
    if (this.pending) {
      this.pending = false;
      wake();
      return () => undefined;
    }
    this.waiter = wake;
    return () => {
      if (this.waiter === wake) this.waiter = null;
    };
  }

  notify(): void {
    const waiter = this.waiter;
    if (!waiter) {
      // Heard while the owner was looking at SQL: its next wait must not sleep through it.
      this.pending = true;
      return;
    }
    this.waiter = null;
    waiter();
  }

  close(): void {
    this.waiter = null;
    this.release(this);
  }
}

/**
 * Wake-ups per item, in process: `signal(itemId)` wakes every open watch of
 * the item. A watch remembers a wake-up that came while its owner was not
 * waiting, so none falls between a look at SQL and the wait after it.
 */
export class RelayProgressSignals implements RelayProgressSource {
  private readonly watches = new Map<string, Set<ItemWatch>>();

  /** Open watches, over all items. */
  get size(): number {
    let count = 0;
    for (const set of this.watches.values()) count += set.size;
    return count;
  }

  watch(itemId: string): RelayProgressWatch {
    const set = this.watches.get(itemId) ?? new Set<ItemWatch>();
    this.watches.set(itemId, set);
    const watch = new ItemWatch((closed) => {
      set.delete(closed);
      if (set.size === 0 && this.watches.get(itemId) === set) this.watches.delete(itemId);
    });
    set.add(watch);
    return watch;
  }

  /** Wakes the watches of `itemId`; an item nobody watches costs nothing. */
  signal(itemId: string): void {
    for (const watch of [...(this.watches.get(itemId) ?? [])]) watch.notify();
  }

  /** Wakes every watch: after the link was down, the wake-ups sent meanwhile were lost. */
  signalAll(): void {
    for (const set of [...this.watches.values()]) for (const watch of [...set]) watch.notify();
  }
}

/** How a wait ended: a wake-up, the poll interval, or the signal. */
export type WaitOutcome = 'progress' | 'timer' | 'stopped';

/** Waits for the watch's next wake-up or `delayMs`, whichever comes first; 'stopped' once `signal` aborts. Without a watch, the timer alone. */
export function waitForProgress(watch: RelayProgressWatch | undefined, delayMs: number, signal: AbortSignal): Promise<WaitOutcome> {
  if (signal.aborted) return Promise.resolve('stopped');
  return new Promise<WaitOutcome>((resolve) => {
    let settled = false;
    let withdraw: () => void = () => undefined;
    const finish = (outcome: WaitOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      withdraw();
      resolve(outcome);
    };
    const onAbort = () => finish('stopped');
    const timer = setTimeout(() => finish('timer'), delayMs);
    signal.addEventListener('abort', onAbort, { once: true });
    if (watch) withdraw = watch.onNext(() => finish('progress'));
  });
}

/**
 * One wait on an item of the work queue: between looks at SQL it sleeps
 * until a wake-up for the item or the poll interval, whichever comes first.
 * A wake-up sets the interval back to the first; a quiet interval doubles it.
 */
export class ItemWait {
  private readonly watch: RelayProgressWatch | undefined;

  constructor(
    itemId: string,
    source: RelayProgressSource | undefined,
    private readonly backoff: PollBackoff,
    private readonly signal: AbortSignal,
  ) {
    // Opened before the first look, so a wake-up during that look is not lost.
    this.watch = source?.watch(itemId);
  }

  /** Resolves when it is time to look again; false when the wait was stopped. */
  async pause(): Promise<boolean> {
    const outcome = await waitForProgress(this.watch, this.backoff.delayMs, this.signal);
    if (outcome === 'stopped') return false;
    if (outcome === 'progress') this.backoff.reset();
    else this.backoff.grow();
    return true;
  }

  close(): void {
    this.watch?.close();
  }
}
