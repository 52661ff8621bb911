import type { BenchDialect, WorkloadId } from '../cli/bench-arguments';

/**
 * One line of results.jsonl: one run of one workload, by the engine or by
 * its limit (the same work done the fastest way the system allows), by a
 * reference (a yardstick beside the limit that shows the share of one part,
 * such as W5's canned HTTP round trip), or a workload that could not run and why.
 */
export interface BenchRecord {
  workload: WorkloadId;
  /** What was measured within the workload (`full-import`, `delta-import N=30000 changes=1000`, `GET /health/ready`). */
  case: string;
  dialect: BenchDialect | 'none';
  role: 'engine' | 'limit' | 'reference' | 'not-run';
  /** How the limit was made (`sqlite: one transaction of prepared INSERTs`), or why a workload did not run. */
  method?: string;
  /** 0 is the warm-up, 1… the measured runs. */
  run: number;
  warmup: boolean;
  seconds?: number;
  /** Objects (or operations, or requests) the run handled. */
  objects?: number;
  /** objects / seconds. */
  rate?: number;
  rateUnit?: 'objects/s' | 'ops/s' | 'req/s';
  /** Database statements the engine sent for the run, counted on its /metrics. */
  statements?: number;
  statementsPerObject?: number;
  /** The engine (or Admin API) process's peak resident set during the run, MiB. */
  peakRssMiB?: number;
  latencyMs?: { p50: number; p99: number };
  /**
   * Sizes the run was made at: people, groups, changes, connections, operations in flight. `limitCase`: the case
   * whose limit records are this case's limit, when one limit serves several cases (W5's echo).
   */
  parameters?: Record<string, number | string>;
  /** Anything else worth keeping: per-connector seconds, the run's message. */
  detail?: Record<string, unknown>;
  at: string;
}

/** A record's measured value, whatever the workload's unit. */
export function recordRate(record: BenchRecord): number | undefined {
  if (record.rate !== undefined) return record.rate;
  if (record.seconds && record.objects) return record.objects / record.seconds;
  return undefined;
}
