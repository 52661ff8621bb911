import { Injectable, Logger } from '@nestjs/common';
import { RelayProgressSignals } from '@identitymesh/connector-sdk';
import type { RelayProgressSource, RelayProgressWatch } from '@identitymesh/connector-sdk';

type Listener = (itemId: string) => void;

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
export class RelayItemProgress implements RelayProgressSource {
  private readonly logger = new Logger('RelayHub');
  private readonly signals = new RelayProgressSignals();
  private readonly listeners = new Set<Listener>();

  /** Open watches, over all items. */
  get size(): number {
    return this.signals.size;
  }

  /** The item made progress: wakes its watches and tells the listeners. Never throws. */
  reported(itemId: string): void {
    this.signals.signal(itemId);
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
  watch(itemId: string): RelayProgressWatch {
    return this.signals.watch(itemId);
  }

  /** Calls `listener` with every item reported from now on; returns the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
