/** The numbers of one run; the workload turns them into a BenchRecord. */
export interface Sample {
  seconds: number;
  objects: number;
  statements?: number;
  peakRssBytes?: number;
  latencyMs?: { p50: number; p99: number };
  detail?: Record<string, unknown>;
}

export interface AlternateOptions {
  /** Runs before the measured ones, recorded but not counted. @default 1 */
  warmups?: number;
  runs: number;
  engine: (run: number) => Promise<Sample>;
  /** The same work done the fastest way the system allows; absent where there is none. */
  limit?: (run: number) => Promise<Sample>;
  /** Called after every run, so each record is written as soon as it exists. */
  onSample: (role: 'engine' | 'limit', run: number, sample: Sample) => void | Promise<void>;
}

/**
 * Runs the engine and its limit in turns (A B A B …), a warm-up of each
 * first: on a shared, noisy machine a slow phase then hits both sides alike
 * instead of one of them.
 */
export async function alternate(options: AlternateOptions): Promise<{ engine: Sample[]; limit: Sample[] }> {
  const warmups = options.warmups ?? 1;
  const engine: Sample[] = [];
  const limit: Sample[] = [];
  for (let run = 0; run < warmups + options.runs; run++) {
    const measured = run >= warmups;
    const e = await options.engine(run);
    await options.onSample('engine', run, e);
    if (measured) engine.push(e);
    if (options.limit) {
      const l = await options.limit(run);
      await options.onSample('limit', run, l);
      if (measured) limit.push(l);
    }
  }
  return { engine, limit };
}
