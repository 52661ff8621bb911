import type { Timers } from '../runtime/timers';

/** Timers a test runs by hand: it sees every wait the agent asks for and fires it when it wants. */
export class ManualTimers implements Timers {
  private readonly waiting = new Map<number, { ms: number; run: () => void }>();
  private nextId = 1;
  /** Every delay ever asked for, in order. */
  readonly requested: number[] = [];

  setTimeout(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.waiting.set(id, { ms, run });
    this.requested.push(ms);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.waiting.delete(handle as number);
  }

  /** Delays of the waits not fired or cleared yet. */
  get pending(): number[] {
    return [...this.waiting.values()].map((w) => w.ms);
  }

  /** Fires the oldest pending wait. */
  fireNext(): void {
    const [id, wait] = [...this.waiting.entries()][0] ?? [];
    if (id === undefined || !wait) throw new Error('no wait is pending');
    this.waiting.delete(id);
    wait.run();
  }
}
