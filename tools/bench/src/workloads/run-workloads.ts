import type { BenchDialect, WorkloadId } from '../cli/bench-arguments';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { formatProfileSummary, readCpuProfile, SourceMapLookup, summarizeCpuProfile } from '../report/cpu-profile';
import { scalingChartSvg } from '../report/scaling-chart';
import { fitSeries, formatSummary, summarize } from '../report/summary';
import { runDeltaSeries } from './w2-delta-series';
import { runW1FullImport } from './w1-full-import';
import { runW3FullSync } from './w3-full-sync';
import { runW4Export } from './w4-export';
import { runW5RelayRoundTrip } from './w5-relay-round-trip';
import { runW6AdminReads } from './w6-admin-reads';
import type { WorkloadContext } from './workload-context';

type DialectWorkload = (ctx: WorkloadContext, dialect: BenchDialect) => Promise<void>;

const PLAN: Array<{ ids: WorkloadId[]; name: string; run: DialectWorkload }> = [
  { ids: ['W1'], name: 'W1 full import', run: runW1FullImport },
  { ids: ['W3'], name: 'W3 full sync', run: runW3FullSync },
  { ids: ['W2', 'W3d'], name: 'W2/W3d delta series', run: runDeltaSeries },
  { ids: ['W4'], name: 'W4 export to OpenLDAP', run: runW4Export },
  { ids: ['W5'], name: 'W5 relay round trip', run: runW5RelayRoundTrip },
  { ids: ['W6'], name: 'W6 Admin API reads', run: runW6AdminReads },
];

/**
 * Every workload the arguments ask for, on every dialect (the quick profile
 * runs the LDAP export, the relay round trips and the Admin API reads on the
 * first dialect only: none depends much on it); a workload that fails is recorded as failed
 * and the others still run. Ends with the table, the slopes and the chart.
 */
export async function runWorkloads(ctx: WorkloadContext): Promise<number> {
  let failures = 0;
  for (const [index, dialect] of ctx.args.dialects.entries()) {
    for (const step of PLAN) {
      if (!step.ids.some((id) => ctx.args.workloads.includes(id))) continue;
      if (index > 0 && step.ids.every((id) => ctx.profile.firstDialectOnly.includes(id))) continue;
      ctx.log(`${step.name} on ${dialect}`);
      try {
        await step.run(ctx, dialect);
      } catch (error) {
        failures++;
        ctx.log(`${step.name} on ${dialect} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        ctx.results.add({ workload: step.ids[0], case: step.name, dialect, role: 'not-run', run: 0, warmup: false, method: `failed: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
  }

  const rows = summarize(ctx.results.records);
  const fits = fitSeries(ctx.results.records);
  const table = formatSummary(rows, fits);
  process.stdout.write(`\n${table}`);
  ctx.results.write('summary.txt', table);
  ctx.results.write('summary.json', `${JSON.stringify({ rows, fits }, null, 2)}\n`);
  if (fits.length > 0) {
    const chart = ctx.results.write('scaling.svg', scalingChartSvg(fits, `${ctx.profile.name} profile, ${ctx.settings.machine.cpus} cores, ${new Date().toISOString().slice(0, 10)}`));
    process.stdout.write(`scaling chart: ${chart}\n`);
  }
  const profiles = summarizeProfiles(ctx);
  if (profiles) process.stdout.write(`CPU profiles and where their time went: ${profiles}\n`);
  process.stdout.write(`results: ${ctx.results.file}\n`);
  return failures === 0 ? 0 : 1;
}

/** With --profile-engine: each engine process's CPU profile summed up by source folder and package, in profiles/summary.txt. */
function summarizeProfiles(ctx: WorkloadContext): string | undefined {
  const dir = ctx.environment.profileDir;
  if (!dir || !existsSync(dir)) return undefined;
  const map = SourceMapLookup.fromFile(join(ctx.root, 'dist/apps/sync-engine/main.js.map'));
  const texts: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1]);
    const database = ctx.environment.engineDatabases.get(pid);
    const label = database ? basename(database.endsWith('.sqlite') ? dirname(database) : database) : 'engine';
    texts.push(formatProfileSummary(`${file} (${label})`, summarizeCpuProfile(readCpuProfile(join(dir, file)), map)));
  }
  return texts.length ? ctx.results.write('profiles/summary.txt', texts.join('\n')) : undefined;
}
