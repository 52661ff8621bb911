import type { BenchRecord } from './bench-record';
import { fitLogLog, maximum, median, minimum, type PowerLawFit } from './statistics';

/** Median of the measured runs' p50 and p99, and the lowest of each. */
export interface LatencySummary {
  p50: number;
  p99: number;
  minP50: number;
  minP99: number;
}

/** One row of the printed table: a workload case on one dialect, engine beside its limit. */
export interface SummaryRow {
  workload: string;
  case: string;
  dialect: string;
  /** Whose figures `engine` holds when they are not the engine's: a case measured only as a limit (W5's echo) or as a reference. */
  kind?: 'limit' | 'reference';
  runs: number;
  objects: number;
  engine: { medianSeconds: number; minSeconds: number; medianRate: number; minRate: number; maxRate: number; rateUnit: string; statementsPerObject?: number; peakRssMiB?: number; latencyMs?: LatencySummary };
  limit?: { medianSeconds: number; minSeconds: number; medianRate: number; latencyMs?: LatencySummary };
  /** Engine median time over limit median time for the same work (for req/s and ops/s: limit rate over engine rate): how many times slower than the limit. */
  ratio?: number;
  notRun?: string;
}

/** Units of loads that run for a fixed time, where the work done varies: compared by their rates. */
const FIXED_TIME_UNITS = new Set(['req/s', 'ops/s']);

const measured = (records: BenchRecord[]) => records.filter((r) => !r.warmup && r.seconds !== undefined);

function latency(records: BenchRecord[]): LatencySummary | undefined {
  const withLatency = records.filter((r) => r.latencyMs);
  if (withLatency.length === 0) return undefined;
  const p50 = withLatency.map((r) => r.latencyMs?.p50 ?? 0);
  const p99 = withLatency.map((r) => r.latencyMs?.p99 ?? 0);
  return { p50: median(p50), p99: median(p99), minP50: minimum(p50), minP99: minimum(p99) };
}

const keyOf = (workload: string, name: string, dialect: string) => `${workload}\u0000${name}\u0000${dialect}`;

/**
 * Median and minimum of the measured runs, per workload case and dialect, in the order the records came. A case
 * without limit records of its own whose records name a `limitCase` is compared with that case's limit records.
 */
export function summarize(records: readonly BenchRecord[]): SummaryRow[] {
  const groups = new Map<string, BenchRecord[]>();
  for (const record of records) {
    const key = keyOf(record.workload, record.case, record.dialect);
    const list = groups.get(key) ?? [];
    list.push(record);
    groups.set(key, list);
  }
  const rows: SummaryRow[] = [];
  for (const list of groups.values()) {
    const first = list[0];
    const notRun = list.find((r) => r.role === 'not-run');
    let engine = measured(list.filter((r) => r.role === 'engine'));
    let limit = measured(list.filter((r) => r.role === 'limit'));
    let kind: SummaryRow['kind'];
    if (engine.length === 0) {
      const reference = measured(list.filter((r) => r.role === 'reference'));
      if (reference.length > 0) {
        [engine, kind] = [reference, 'reference'];
      } else if (limit.length > 0) {
        [engine, limit, kind] = [limit, [], 'limit'];
      }
    }
    if (engine.length === 0) {
      rows.push({ workload: first.workload, case: first.case, dialect: first.dialect, runs: 0, objects: 0, engine: { medianSeconds: NaN, minSeconds: NaN, medianRate: NaN, minRate: NaN, maxRate: NaN, rateUnit: '' }, notRun: notRun?.method ?? 'no measured run' });
      continue;
    }
    const limitCase = engine.find((r) => typeof r.parameters?.['limitCase'] === 'string')?.parameters?.['limitCase'] as string | undefined;
    if (limit.length === 0 && kind !== 'limit' && limitCase !== undefined) {
      limit = measured((groups.get(keyOf(first.workload, limitCase, first.dialect)) ?? []).filter((r) => r.role === 'limit'));
    }
    const perObject = engine.filter((r) => r.statementsPerObject !== undefined).map((r) => r.statementsPerObject as number);
    const rss = engine.filter((r) => r.peakRssMiB !== undefined).map((r) => r.peakRssMiB as number);
    const rates = engine.map((r) => r.rate ?? 0);
    const row: SummaryRow = {
      workload: first.workload,
      case: first.case,
      dialect: first.dialect,
      ...(kind ? { kind } : {}),
      runs: engine.length,
      objects: median(engine.map((r) => r.objects ?? 0)),
      engine: {
        medianSeconds: median(engine.map((r) => r.seconds as number)),
        minSeconds: minimum(engine.map((r) => r.seconds as number)),
        medianRate: median(rates),
        minRate: minimum(rates),
        maxRate: maximum(rates),
        rateUnit: engine[0].rateUnit ?? 'objects/s',
        statementsPerObject: perObject.length ? median(perObject) : undefined,
        peakRssMiB: rss.length ? maximum(rss) : undefined,
        latencyMs: latency(engine),
      },
      notRun: notRun?.method,
    };
    if (limit.length > 0) {
      row.limit = { medianSeconds: median(limit.map((r) => r.seconds as number)), minSeconds: minimum(limit.map((r) => r.seconds as number)), medianRate: median(limit.map((r) => r.rate ?? 0)), latencyMs: latency(limit) };
      // Time for the same work where the work is fixed; for a load test (fixed time, work varies) the inverse ratio of rates.
      row.ratio = FIXED_TIME_UNITS.has(row.engine.rateUnit) ? row.limit.medianRate / row.engine.medianRate : row.engine.medianSeconds / row.limit.medianSeconds;
    }
    rows.push(row);
  }
  return rows;
}

export interface SeriesFit {
  workload: string;
  dialect: string;
  /** `people`: delta cost against N at fixed changes; `changes`: against the changes at fixed N. */
  against: 'people' | 'changes';
  seconds: PowerLawFit;
  statements: PowerLawFit;
  points: Array<{ x: number; seconds: number; statements: number }>;
}

/** The log-log slopes of the delta series: each point is the median of its measured runs. */
export function fitSeries(records: readonly BenchRecord[]): SeriesFit[] {
  const fits: SeriesFit[] = [];
  const engine = records.filter((r) => r.role === 'engine' && !r.warmup && (r.workload === 'W2' || r.workload === 'W3d') && typeof r.parameters?.['series'] === 'string');
  const keys = new Set(engine.map((r) => `${r.workload}\u0000${r.dialect}`));
  for (const key of keys) {
    const [workload, dialect] = key.split('\u0000');
    for (const against of ['people', 'changes'] as const) {
      const inSeries = engine.filter((r) => r.workload === workload && r.dialect === dialect && String(r.parameters?.['series']).split('+').includes(against));
      const byX = new Map<number, BenchRecord[]>();
      for (const r of inSeries) {
        const x = Number(r.parameters?.[against]);
        byX.set(x, [...(byX.get(x) ?? []), r]);
      }
      const sorted = [...byX.entries()].sort(([a], [b]) => a - b);
      const points = sorted.map(([x, list]) => ({ x, seconds: median(list.map((r) => r.seconds ?? NaN)), statements: median(list.map((r) => r.statements ?? NaN)) }));
      if (points.length < 2) continue;
      fits.push({
        workload,
        dialect,
        against,
        seconds: fitLogLog(points.map((p) => ({ x: p.x, y: p.seconds }))),
        statements: fitLogLog(points.map((p) => ({ x: p.x, y: p.statements }))),
        points,
      });
      // The people connector's run alone: groups such as All Staff have members in proportion to N, and their
      // runs carry that; the people side shows whether the per-object path itself depends on N.
      const peopleOnly = sorted.map(([x, list]) => ({ x, seconds: median(list.map((r) => Number(r.detail?.['peopleSeconds'] ?? NaN))), statements: NaN }));
      if (peopleOnly.every((p) => Number.isFinite(p.seconds))) {
        fits.push({ workload: `${workload} people`, dialect, against, seconds: fitLogLog(peopleOnly.map((p) => ({ x: p.x, y: p.seconds }))), statements: fitLogLog([]), points: peopleOnly });
      }
    }
  }
  return fits;
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits));

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  return cells.map((row) => row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

/** The table printed at the end of a benchmark, and written to summary.txt. */
export function formatSummary(rows: readonly SummaryRow[], fits: readonly SeriesFit[]): string {
  const header = ['workload', 'case', 'db', 'runs', 'objects', 'median s', 'min s', 'rate (median)', 'limit median s', 'limit min s', '× limit', 'stmts/obj', 'peak RSS MiB', 'p50/p99 ms'];
  const cells = [header];
  const notRun: string[] = [];
  for (const row of rows) {
    if (row.notRun && row.runs === 0) {
      notRun.push(`  ${row.workload} ${row.case}${row.dialect === 'none' ? '' : ` (${row.dialect})`}: ${row.notRun}`);
      continue;
    }
    const own = row.engine.latencyMs;
    const ms = (a: number, b: number) => `${Number(a.toFixed(2))}/${Number(b.toFixed(2))}`;
    const min = own && (own.minP50 !== own.p50 || own.minP99 !== own.p99) ? ` min ${ms(own.minP50, own.minP99)}` : '';
    const latency = own ? `${ms(own.p50, own.p99)}${min}${row.limit?.latencyMs ? ` (limit ${ms(row.limit.latencyMs.p50, row.limit.latencyMs.p99)})` : ''}` : '—';
    cells.push([
      row.workload,
      row.kind ? `${row.case} [${row.kind}]` : row.case,
      row.dialect,
      String(row.runs),
      String(Math.round(row.objects)),
      fixed(row.engine.medianSeconds, 3),
      fixed(row.engine.minSeconds, 3),
      // A load's slowest run beside its median (for fixed work, the min s column says it).
      `${fixed(row.engine.medianRate, 0)}${FIXED_TIME_UNITS.has(row.engine.rateUnit) ? ` (min ${fixed(row.engine.minRate, 0)})` : ''} ${row.engine.rateUnit}`,
      fixed(row.limit?.medianSeconds, 3),
      fixed(row.limit?.minSeconds, 3),
      fixed(row.ratio, 2),
      fixed(row.engine.statementsPerObject, 4),
      fixed(row.engine.peakRssMiB, 0),
      latency,
    ]);
  }
  const lines = cells.length > 1 ? [pad(cells)] : [];
  if (notRun.length > 0) lines.push('', 'Not run:', ...notRun);
  if (fits.length > 0) {
    lines.push('', 'Scaling (log-log slope of the median per point; 0: independent of x, 1: proportional to x):');
    for (const fit of fits) {
      const points = fit.points.map((p) => `${p.x}: ${p.seconds.toFixed(3)} s${Number.isNaN(p.statements) ? '' : `, ${p.statements} st`}`).join('; ');
      const statements = Number.isNaN(fit.statements.slope) ? '' : `, statements slope ${fixed(fit.statements.slope, 3)}`;
      lines.push(`  ${fit.workload} ${fit.dialect} vs ${fit.against === 'people' ? 'N (fixed changes)' : 'changes (fixed N)'}: seconds slope ${fixed(fit.seconds.slope, 3)} (r² ${fixed(fit.seconds.r2, 2)})${statements}   [${points}]`);
    }
  }
  return `${lines.join('\n')}\n`;
}
