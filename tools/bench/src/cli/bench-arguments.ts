/** The workloads of docs/benchmarks.md that this harness knows. */
export const WORKLOADS = ['W1', 'W2', 'W3', 'W3d', 'W4', 'W5', 'W6'] as const;
export type WorkloadId = (typeof WORKLOADS)[number];

export const BENCH_DIALECTS = ['sqlite', 'postgres'] as const;
export type BenchDialect = (typeof BENCH_DIALECTS)[number];

export interface BenchArguments {
  /** 100k people / 10k groups and the scaling series instead of the quick profile. */
  full: boolean;
  workloads: WorkloadId[];
  dialects: BenchDialect[];
  /** Replaces the profile's head count of W1/W3 (and scales W4), for trying the harness out on a small feed. */
  people?: number;
  /** Measured runs per workload, after the warm-up. Fewer than 5 is for trying the harness out only. */
  runs?: number;
  /** The results folder. @default bench-results */
  out: string;
  /** Write a CPU profile of every engine process into the results folder (slower runs: for finding out why, not for figures). */
  profileEngine: boolean;
  /** Caps the engine's V8 heap (`--max-old-space-size`), to tell memory the engine holds from garbage V8 has not collected yet. */
  engineHeapMb?: number;
  help: boolean;
}

export class BenchArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchArgumentError';
  }
}

export const USAGE = `npm run bench [-- options]

  --full                 100k people / 10k groups and the full scaling series (default: the quick profile)
  --only W1,W3           run only these workloads (${WORKLOADS.join(', ')}; W3d is the delta sync series, W2 the delta import series, which run together)
  --dialects sqlite,postgres
                         the engine's databases to measure on (default: both)
  --people N             head count of W1/W3 instead of the profile's (trying the harness out)
  --runs N               measured runs per workload after the warm-up (default 5; fewer is for trying out only)
  --out DIR              results folder (default bench-results)
  --engine-heap-mb N     start every engine process with node --max-old-space-size=N: a run that still
                         completes holds less than that; its peak RSS then shows what V8 keeps when it must
  --profile-engine       also write a CPU profile (.cpuprofile) of every engine process to the results folder;
                         profiling slows the engine, so use it to find out why, not for the figures
  --help
`;

function list<T extends string>(value: string, allowed: readonly T[], option: string): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new BenchArgumentError(`${option} needs at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new BenchArgumentError(`${option}: unknown "${item}"; one of ${allowed.join(', ')}`);
  }
  return [...new Set(items as T[])];
}

function positiveInteger(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new BenchArgumentError(`${option} must be a whole number above 0 (got "${value}")`);
  return n;
}

/** Reads `--name value` and `--name=value` forms; anything unknown is refused rather than ignored. */
export function parseBenchArguments(argv: readonly string[]): BenchArguments {
  const parsed: BenchArguments = { full: false, workloads: [...WORKLOADS], dialects: [...BENCH_DIALECTS], out: 'bench-results', profileEngine: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new BenchArgumentError(`${name} needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case '--full':
        parsed.full = true;
        break;
      case '--quick':
        parsed.full = false;
        break;
      case '--only':
        parsed.workloads = list(value(), WORKLOADS, name);
        break;
      case '--dialects':
        parsed.dialects = list(value(), BENCH_DIALECTS, name);
        break;
      case '--people':
        parsed.people = positiveInteger(value(), name);
        break;
      case '--runs':
        parsed.runs = positiveInteger(value(), name);
        break;
      case '--out':
        parsed.out = value();
        break;
      case '--profile-engine':
        parsed.profileEngine = true;
        break;
      case '--engine-heap-mb':
        parsed.engineHeapMb = positiveInteger(value(), name);
        break;
      case '--help':
      case '-h':
        parsed.help = true;
        break;
      default:
        throw new BenchArgumentError(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  return parsed;
}
