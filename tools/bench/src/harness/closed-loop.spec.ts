import { closedLoopStatistics, runClosedLoop, type ClosedLoopResult } from './closed-loop';

/** A clock the operations move: each operation takes `costMs` of it, so the loop's arithmetic is exact and nothing waits. */
function fakeClock() {
  let nowMs = 0;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('closed-loop load', () => {
  it('keeps exactly the asked number of operations outstanding until the window closes', async () => {
    const clock = fakeClock();
    let outstanding = 0;
    let most = 0;
    const result = await runClosedLoop({
      inFlight: 4,
      durationMs: 100,
      now: clock.now,
      operation: async () => {
        outstanding++;
        most = Math.max(most, outstanding);
        // Let every worker send before any answer comes back.
        await new Promise((resolve) => setImmediate(resolve));
        clock.advance(1);
        outstanding--;
        return 'answer';
      },
    });
    expect(most).toBe(4);
    expect(outstanding).toBe(0);
    expect(result.window).toEqual({ startMs: 0, endMs: 100 });
    // Nothing is sent once the clock has passed the window's end.
    expect(result.completions.every((c) => c.startMs < 100)).toBe(true);
    expect(result.completions.length).toBeGreaterThanOrEqual(100);
  });

  it('counts refused answers and thrown errors as failures, and stops sending after too many', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await runClosedLoop({
      inFlight: 1,
      durationMs: 1_000,
      maxFailures: 3,
      now: clock.now,
      accept: (value: number) => (value % 2 === 0 ? undefined : `odd answer ${value}`),
      operation: async () => {
        clock.advance(1);
        calls++;
        if (calls === 4) throw new Error('connection reset');
        return calls;
      },
    });
    expect(result.completions.map((c) => [c.ok, c.error])).toEqual([
      [false, 'odd answer 1'],
      [true, undefined],
      [false, 'odd answer 3'],
      [false, 'connection reset'],
    ]);
    // The first answer is the ramp; the one success after it counts.
    expect(closedLoopStatistics(result)).toMatchObject({ ops: 1, failures: 3, firstError: 'odd answer 1' });
  });

  it('goes on past the duration until the run holds enough answers after the ramp, within the cap', async () => {
    const clock = fakeClock();
    const slow = await runClosedLoop({ inFlight: 2, durationMs: 10, minOps: 6, maxDurationMs: 1_000, now: clock.now, operation: async () => clock.advance(5) });
    expect(slow.completions.length).toBeGreaterThanOrEqual(8);
    expect(slow.window.endMs).toBeGreaterThan(10);
    const capped = await runClosedLoop({ inFlight: 1, durationMs: 10, minOps: 1_000, maxDurationMs: 50, now: clock.now, operation: async () => clock.advance(10) });
    expect(capped.completions.length).toBe(5);
  });

  it('derives rate and percentiles from the steady state: after the ramp and within the window', () => {
    const ok = (startMs: number, endMs: number) => ({ startMs, endMs, ok: true, value: endMs - startMs });
    const result: ClosedLoopResult<number> = {
      inFlight: 2,
      window: { startMs: 0, endMs: 3_000 },
      drainedMs: 3_500,
      completions: [
        // The ramp: the first two answers, a burst into an idle system.
        ok(0, 900),
        ok(0, 1_000),
        // 100 answers of 1..100 ms, then one answered while draining.
        ...Array.from({ length: 100 }, (_, i) => ok(1_000 + i, 1_001 + i + i)),
        ok(2_900, 3_400),
      ],
    };
    const stats = closedLoopStatistics(result);
    expect(stats.ops).toBe(100);
    expect(stats.failures).toBe(0);
    expect(stats.rampSeconds).toBe(1);
    expect(stats.seconds).toBe(2);
    expect(stats.opsPerSecond).toBe(50);
    expect(stats.latencyMs.p50).toBeCloseTo(50.5, 10);
    expect(stats.latencyMs.p99).toBeCloseTo(99.01, 10);
    expect(stats.latencyMs.max).toBe(100);
    // A latency the answers carry (a server-side timing) instead of the caller's.
    expect(closedLoopStatistics(result, (c) => (c.value ?? 0) * 2).latencyMs.max).toBe(200);
  });

  it('reports no latency rather than a made-up one when nothing was answered', () => {
    const stats = closedLoopStatistics({ inFlight: 1, window: { startMs: 0, endMs: 1_000 }, drainedMs: 30_000, completions: [{ startMs: 0, endMs: 30_000, ok: true }] });
    expect(stats.ops).toBe(0);
    expect(stats.opsPerSecond).toBe(0);
    expect(stats.latencyMs.p50).toBeNaN();
    expect(stats.latencyMs.max).toBeNaN();
  });
});
