import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { BenchArgumentError, parseBenchArguments, USAGE } from './cli/bench-arguments';
import { loadBenchSettings } from './bench-settings';
import { selectProfile } from './profiles';
import { BenchEnvironment } from './harness/engine-session';
import { ResultsWriter } from './report/results-writer';
import { runWorkloads } from './workloads/run-workloads';
import { WorkloadContext } from './workloads/workload-context';

async function main(): Promise<number> {
  const args = parseBenchArguments(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const settings = loadBenchSettings(process.env, __dirname, {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
  });
  const profile = selectProfile(args);
  const started = new Date();
  const outDir = resolve(settings.root, args.out, started.toISOString().replace(/[:.]/g, '-'));
  const workDir = mkdtempSync(join(tmpdir(), 'im-bench-'));
  const results = new ResultsWriter(outDir, { started: started.toISOString(), command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, profile, arguments: args, machine: settings.machine });
  const ctx = new WorkloadContext(args, profile, settings, new BenchEnvironment(workDir, join(outDir, 'logs'), args.profileEngine ? join(outDir, 'profiles') : undefined, args.engineHeapMb), results, workDir);
  ctx.log(`${profile.name} profile; results in ${outDir}`);
  try {
    return await runWorkloads(ctx);
  } finally {
    await ctx.dropAllDatabases();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(error instanceof BenchArgumentError ? `bench: ${error.message}\n` : `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = error instanceof BenchArgumentError ? 2 : 1;
  },
);
