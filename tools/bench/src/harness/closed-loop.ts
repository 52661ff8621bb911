import { performance } from 'node:perf_hooks';
import { percentile } from '../report/statistics';

/** One operation of a closed loop: when it was sent and answered (milliseconds of the loop's clock), and what came back. */
export interface Completion<T> {
  startMs: number;
  endMs: number;
  ok: boolean;
  value?: T;
  /** Why the operation failed (it threw, or `accept` refused its answer). */
  error?: string;
}

export interface ClosedLoopOptions<T> {
  /** Operations kept outstanding at once: each answer sends the next one at once. */
  inFlight: number;
  /** How long new operations are sent; those still outstanding then are waited for (the next run must not overlap) but not counted. */
  durationMs: number;
  operation: () => Promise<T>;
  /** Whether an answer is a success (a connection test answering `ok: false` is not). @default every answer */
  accept?: (value: T) => string | undefined;
  /** After this many failures the loop stops sending: an operation that fails at once would otherwise spin. @default 100 */
  maxFailures?: number;
  /** The clock, in milliseconds. @default performance.now */
  now?: () => number;
}

export interface ClosedLoopResult<T> {
  completions: Array<Completion<T>>;
  /** When the first operations were sent and when the loop stopped sending. */
  window: { startMs: number; endMs: number };
  /** When the last outstanding operation came back. */
  drainedMs: number;
}

/**
 * A closed-loop load: `inFlight` workers, each sending an operation, waiting
 * for its answer and sending the next, until `durationMs` has passed. The
 * offered load thus adapts to the system (as many operations as it answers),
 * and the latency measured is the time one caller waits with that many
 * callers at once, not queueing behind a fixed arrival rate.
 */
export async function runClosedLoop<T>(options: ClosedLoopOptions<T>): Promise<ClosedLoopResult<T>> {
  const now = options.now ?? (() => performance.now());
  const maxFailures = options.maxFailures ?? 100;
  const completions: Array<Completion<T>> = [];
  const startMs = now();
  const endMs = startMs + options.durationMs;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (now() < endMs && failures < maxFailures) {
      const sent = now();
      try {
        const value = await options.operation();
        const refusal = options.accept?.(value);
        if (refusal !== undefined) failures++;
        completions.push({ startMs: sent, endMs: now(), ok: refusal === undefined, value, ...(refusal !== undefined ? { error: refusal } : {}) });
      } catch (error) {
        failures++;
        completions.push({ startMs: sent, endMs: now(), ok: false, error: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.inFlight) }, () => worker()));
  return { completions, window: { startMs, endMs }, drainedMs: now() };
}

export interface ClosedLoopStatistics {
  /** Successful operations answered within the window. */
  ops: number;
  /** Failed operations answered within the window or while draining: any failure makes the run suspect. */
  failures: number;
  /** The window's length. */
  seconds: number;
  opsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The first failure's reason. */
  firstError?: string;
}

/**
 * Rate and latency of a closed-loop run: the successful operations answered
 * within the window, over the window's length. Operations still outstanding
 * when the window closed are left out (they were answered while nothing new
 * was being sent, so their latency is not that of a loaded system), except
 * that a failure counts wherever it happened.
 */
export function closedLoopStatistics<T>(result: ClosedLoopResult<T>, latencyOf: (completion: Completion<T>) => number = (c) => c.endMs - c.startMs): ClosedLoopStatistics {
  const { startMs, endMs } = result.window;
  const inWindow = result.completions.filter((c) => c.ok && c.endMs <= endMs);
  const failed = result.completions.filter((c) => !c.ok);
  const latencies = inWindow.map(latencyOf);
  const seconds = (endMs - startMs) / 1000;
  return {
    ops: inWindow.length,
    failures: failed.length,
    seconds,
    opsPerSecond: seconds > 0 ? inWindow.length / seconds : Number.NaN,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length ? latencies.reduce((a, b) => Math.max(a, b), -Infinity) : Number.NaN },
    ...(failed.length > 0 ? { firstError: failed[0].error } : {}),
  };
}
