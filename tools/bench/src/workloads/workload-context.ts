import { join } from 'node:path';
import type { BenchArguments, BenchDialect, WorkloadId } from '../cli/bench-arguments';
import type { BenchSettings } from '../bench-settings';
import type { BenchProfile } from '../profiles';
import type { Sample } from '../harness/alternate';
import { DatabaseFactory } from '../harness/bench-database';
import type { BenchEnvironment } from '../harness/engine-session';
import { FeedCache } from '../feed/feeds';
import type { BenchRecord } from '../report/bench-record';
import type { ResultsWriter } from '../report/results-writer';

const MIB = 1024 * 1024;

/** What every workload gets: the sizes, the services, somewhere to write, and the results. */
export class WorkloadContext {
  private readonly factories = new Map<BenchDialect, DatabaseFactory>();
  readonly feeds: FeedCache;

  constructor(
    readonly args: BenchArguments,
    readonly profile: BenchProfile,
    readonly settings: BenchSettings,
    readonly environment: BenchEnvironment,
    readonly results: ResultsWriter,
    readonly workDir: string,
  ) {
    this.feeds = new FeedCache(join(workDir, 'feeds'));
  }

  get root(): string {
    return this.settings.root;
  }

  databases(dialect: BenchDialect): DatabaseFactory {
    let factory = this.factories.get(dialect);
    if (!factory) {
      factory = new DatabaseFactory(dialect, join(this.workDir, dialect), this.settings.pgAdminUrl);
      this.factories.set(dialect, factory);
    }
    return factory;
  }

  async dropAllDatabases(): Promise<void> {
    for (const factory of this.factories.values()) await factory.dropAll();
  }

  log(message: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  /** Writes one run's record; rates and per-object figures are derived here, alike for every workload. */
  record(
    fields: { workload: WorkloadId; case: string; dialect: BenchDialect | 'none'; role: 'engine' | 'limit' | 'reference'; run: number; method?: string; parameters?: Record<string, number | string>; rateUnit?: BenchRecord['rateUnit'] },
    sample: Sample,
  ): BenchRecord {
    const warmup = fields.run < this.profile.warmups;
    const record = this.results.add({
      ...fields,
      warmup,
      seconds: round(sample.seconds, 4),
      objects: sample.objects,
      rate: sample.seconds > 0 ? round(sample.objects / sample.seconds, 1) : undefined,
      rateUnit: fields.rateUnit ?? 'objects/s',
      statements: sample.statements,
      statementsPerObject: sample.statements !== undefined && sample.objects > 0 ? round(sample.statements / sample.objects, 5) : undefined,
      peakRssMiB: sample.peakRssBytes !== undefined ? round(sample.peakRssBytes / MIB, 1) : undefined,
      latencyMs: sample.latencyMs,
      detail: sample.detail,
    });
    const rate = record.rate !== undefined ? `${record.rate} ${record.rateUnit}` : '';
    const statements = record.statementsPerObject !== undefined ? `, ${record.statements} statements (${record.statementsPerObject}/object)` : '';
    const rss = record.peakRssMiB !== undefined ? `, peak RSS ${record.peakRssMiB} MiB` : '';
    this.log(`${fields.workload} ${fields.case} ${fields.dialect} ${fields.role} ${warmup ? 'warm-up' : `run ${fields.run}`}: ${record.seconds} s, ${record.objects} → ${rate}${statements}${rss}`);
    return record;
  }
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
