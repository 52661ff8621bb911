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
  /**
   * Answers the run must hold after its first `inFlight` (the ramp, see closedLoopStatistics): sending goes on past
   * `durationMs` until it does, or until `maxDurationMs`. For slow round trips with many in flight, where a
   * fixed short window would hold little more than the ramp. @default 0
   */
  minOps?: number;
  /** @default 4 × durationMs */
  maxDurationMs?: number;
  operation: () => Promise<T>;
  /** Whether an answer is a success (a connection test answering `ok: false` is not). @default every answer */
  accept?: (value: T) => string | undefined;
  /** After this many failures the loop stops sending: an operation that fails at once would otherwise spin. @default 100 */
  maxFailures?: number;
  /** The clock, in milliseconds. @default performance.now */
  now?: () => number;
}

export interface ClosedLoopResult<T> {
  /** In the order they were answered. */
  completions: Array<Completion<T>>;
  inFlight: number;
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
  const capMs = startMs + (options.maxDurationMs ?? 4 * options.durationMs);
  const wanted = options.inFlight + (options.minOps ?? 0);
  let failures = 0;
  let stoppedMs: number | undefined;
  // Once false, false for good: time and answers only grow. The first worker to see it false closes the window.
  const sending = (): boolean => {
    const t = now();
    const go = failures < maxFailures && (t < endMs || (completions.length < wanted && t < capMs));
    if (!go) stoppedMs ??= t;
    return go;
  };
  const worker = async (): Promise<void> => {
    while (sending()) {
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
  return { completions, inFlight: Math.max(1, options.inFlight), window: { startMs, endMs: stoppedMs ?? now() }, drainedMs: now() };
}

export interface ClosedLoopStatistics {
  /** Successful operations answered after the ramp and within the window. */
  ops: number;
  /** Failed operations, wherever they happened (ramp, window or drain): any failure makes the run suspect. */
  failures: number;
  /** From the end of the ramp to the end of the window: the time `ops` were answered in. */
  seconds: number;
  /** From the first operation sent to the end of the ramp. */
  rampSeconds: number;
  opsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** The first failure's reason. */
  firstError?: string;
}

/**
 * Rate and latency of a closed-loop run in its steady state. Left out are
 * the ramp — the first `inFlight` answers: those operations were all sent at
 * once into an idle system, so they time a burst, and the rate over them
 * would count the time to the first answer against a system that had
 * nothing to answer yet — and the operations still outstanding when the
 * window closed (answered while nothing new was being sent). A failure
 * counts wherever it happened.
 */
export function closedLoopStatistics<T>(result: ClosedLoopResult<T>, latencyOf: (completion: Completion<T>) => number = (c) => c.endMs - c.startMs): ClosedLoopStatistics {
  const { startMs, endMs } = result.window;
  const rampEndMs = Math.min(result.completions[result.inFlight - 1]?.endMs ?? endMs, endMs);
  const steady = result.completions.slice(result.inFlight).filter((c) => c.ok && c.endMs <= endMs);
  const failed = result.completions.filter((c) => !c.ok);
  const latencies = steady.map(latencyOf);
  const seconds = (endMs - rampEndMs) / 1000;
  return {
    ops: steady.length,
    failures: failed.length,
    seconds,
    rampSeconds: (rampEndMs - startMs) / 1000,
    opsPerSecond: seconds > 0 ? steady.length / seconds : 0,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length ? latencies.reduce((a, b) => Math.max(a, b), -Infinity) : Number.NaN },
    ...(failed.length > 0 ? { firstError: failed[0].error } : {}),
  };
}
