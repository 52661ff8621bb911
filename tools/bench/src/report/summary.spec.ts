import type { BenchRecord } from './bench-record';
import { scalingChartSvg } from './scaling-chart';
import { fitSeries, formatSummary, summarize } from './summary';

const at = '2026-01-01T00:00:00.000Z';
const run = (fields: Partial<BenchRecord>): BenchRecord => ({ workload: 'W1', case: 'full import', dialect: 'sqlite', role: 'engine', run: 1, warmup: false, at, ...fields });

describe('benchmark summary', () => {
  it('reports median and minimum of the measured runs only, beside the limit, and their ratio', () => {
    const records = [
      run({ run: 0, warmup: true, seconds: 100, objects: 1000, rate: 10 }),
      ...[4, 2, 3].map((seconds, i) => run({ run: i + 1, seconds, objects: 1000, rate: 1000 / seconds, statements: 20, statementsPerObject: 0.02, peakRssMiB: 100 + i })),
      ...[1, 0.5, 1.5].map((seconds, i) => run({ role: 'limit', run: i + 1, seconds, objects: 1000, rate: 1000 / seconds })),
    ];
    const [row] = summarize(records);
    expect(row).toMatchObject({ runs: 3, engine: { medianSeconds: 3, minSeconds: 2, statementsPerObject: 0.02, peakRssMiB: 102 }, limit: { medianSeconds: 1, minSeconds: 0.5 }, ratio: 3 });
    expect(formatSummary([row], [])).toContain('W1');
  });

  it('compares a load test by its rates, and lists a workload that did not run with its reason', () => {
    const records = [run({ workload: 'W6', case: 'GET /x', rate: 500, rateUnit: 'req/s', seconds: 3, objects: 1500 }), run({ workload: 'W6', case: 'GET /x', role: 'limit', rate: 2000, rateUnit: 'req/s', seconds: 3, objects: 6000 }), run({ workload: 'W5', case: 'relay round trip', dialect: 'none', role: 'not-run', method: 'the relay protocol is not built' })];
    const rows = summarize(records);
    expect(rows[0].ratio).toBe(4);
    expect(rows[1]).toMatchObject({ runs: 0, notRun: 'the relay protocol is not built' });
    expect(formatSummary(rows, [])).toContain('Not run:\n  W5 relay round trip: the relay protocol is not built');
  });

  it('compares closed-loop cases with a limit measured once under a case of its own, and shows the limit and references as rows', () => {
    const w5 = (fields: Partial<BenchRecord>): BenchRecord => run({ workload: 'W5', dialect: 'sqlite', seconds: 2, rateUnit: 'ops/s', ...fields });
    const limitCase = 'echo, 16 in flight';
    const records = [
      ...[100, 80, 120].map((rate, i) => w5({ case: 'test, 16 in flight', run: i + 1, rate, objects: rate * 2, latencyMs: { p50: 100 + i, p99: 200 - i }, parameters: { inFlight: 16, limitCase } })),
      w5({ case: 'test, 16 in flight', run: 0, warmup: true, rate: 1, objects: 2, parameters: { inFlight: 16, limitCase } }),
      ...[1000, 900, 1100].map((rate, i) => w5({ case: 'http, 16 in flight', role: 'reference', run: i + 1, rate, objects: rate * 2, parameters: { inFlight: 16, limitCase } })),
      ...[10_000, 9_000, 11_000].map((rate, i) => w5({ case: limitCase, role: 'limit', run: i + 1, rate, objects: rate * 2, latencyMs: { p50: 1, p99: 3 } })),
    ];
    const [test, http, echo] = summarize(records);
    expect(test).toMatchObject({ runs: 3, engine: { medianRate: 100, minRate: 80, maxRate: 120, latencyMs: { p50: 101, p99: 199, minP50: 100, minP99: 198 } }, limit: { medianRate: 10_000 }, ratio: 100 });
    expect(test.kind).toBeUndefined();
    expect(http).toMatchObject({ kind: 'reference', runs: 3, engine: { medianRate: 1000 }, ratio: 10 });
    expect(echo).toMatchObject({ kind: 'limit', runs: 3, engine: { medianRate: 10_000 } });
    expect(echo.limit).toBeUndefined();
    const table = formatSummary([test, http, echo], []);
    expect(table).toContain('100 (min 80) ops/s');
    expect(table).toContain('101/199 min 100/198 (limit 1/3)');
    // Medians of an even count are shown to the hundredth, not with the float's noise.
    const [even] = summarize([w5({ case: 'x', run: 1, rate: 1, latencyMs: { p50: 0.1, p99: 1.1 } }), w5({ case: 'x', run: 2, rate: 1, latencyMs: { p50: 0.2, p99: 1.3 } })]);
    expect(formatSummary([even], [])).toContain('0.15/1.2 min 0.1/1.1');
    expect(table).toContain('http, 16 in flight [reference]');
    expect(table).toContain('echo, 16 in flight [limit]');
  });

  it('fits the delta series against N and against the changes, and draws them', () => {
    const point = (people: number, changes: number, series: string, seconds: number) => run({ workload: 'W2', case: `N=${people} c=${changes}`, seconds, statements: changes, parameters: { people, changes, series } });
    const records = [point(1000, 10, 'people', 1), point(4000, 10, 'people', 1), point(16000, 10, 'people+changes', 1), point(16000, 100, 'changes', 10), point(16000, 1000, 'changes', 100)];
    const fits = fitSeries(records);
    expect(fits.find((f) => f.against === 'people')?.seconds.slope).toBeCloseTo(0, 10);
    expect(fits.find((f) => f.against === 'changes')?.seconds.slope).toBeCloseTo(1, 10);
    expect(fits.find((f) => f.against === 'changes')?.statements.slope).toBeCloseTo(1, 10);
    const svg = scalingChartSvg(fits, 'quick profile');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('delta import sqlite: slope 0.00');
    expect(svg).toContain('delta import sqlite: slope 1.00');
  });
});
