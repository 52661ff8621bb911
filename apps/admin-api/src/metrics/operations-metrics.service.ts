import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { EXPORT_STATUSES, RUN_STATUSES } from '@identitymesh/domain';
import type { ExportStatus, RunStatus } from '@identitymesh/domain';
import { METRIC_PREFIX, MetricsRegistry } from '@identitymesh/platform';
import { ExportQueueRepository, RunRepository } from '@identitymesh/persistence';

/** Runs and export items that are not finished: what an operator alerts on (a queue that grows, runs that wait). */
const RUN_GAUGE_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter((s) => s === 'queued' || s === 'running' || s === 'held-for-approval');
const EXPORT_GAUGE_STATUSES: readonly ExportStatus[] = EXPORT_STATUSES.filter((s) => s === 'pending' || s === 'in-flight' || s === 'held-for-approval' || s === 'parked');

/** Several Prometheus servers may scrape each instance; the counts are reused for this long rather than queried per scrape. */
const CACHE_MS = 5_000;

/**
 * Gauges read at scrape time from the tables every instance shares: runs
 * by status and the export queue's depth by status, one grouped query each
 * (at most every five seconds). When the database does not answer, the
 * last counts stay and the scrape still succeeds with the other metrics.
 */
@Injectable()
export class OperationsMetrics {
  private readonly logger = new Logger('Metrics');
  private last: { at: number; runs: Record<RunStatus, number>; exports: Record<ExportStatus, number> } | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    metrics: MetricsRegistry,
    private readonly runs: RunRepository,
    private readonly exportQueue: ExportQueueRepository,
  ) {
    const runGauge: Gauge<'status'> = new Gauge({
      name: `${METRIC_PREFIX}runs`,
      help: 'Runs of every connector by status (queued, running, held-for-approval)',
      labelNames: ['status'],
      registers: [metrics.registry],
      collect: async () => {
        await this.refresh();
        for (const status of RUN_GAUGE_STATUSES) if (this.last) runGauge.set({ status }, this.last.runs[status]);
      },
    });
    const exportGauge: Gauge<'status'> = new Gauge({
      name: `${METRIC_PREFIX}export_queue_items`,
      help: 'Export queue items of every connector by status (pending, in-flight, held-for-approval, parked)',
      labelNames: ['status'],
      registers: [metrics.registry],
      collect: async () => {
        await this.refresh();
        for (const status of EXPORT_GAUGE_STATUSES) if (this.last) exportGauge.set({ status }, this.last.exports[status]);
      },
    });
  }

  /** One refresh at a time; both gauges of a scrape share it. */
  private refresh(): Promise<void> {
    if (this.last && Date.now() - this.last.at < CACHE_MS) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        const [runs, exports] = await Promise.all([this.runs.countByStatus(), this.exportQueue.countByStatus()]);
        this.last = { at: Date.now(), runs, exports };
      } catch (error) {
        this.logger.warn({ err: error, msg: `run and export queue gauges not refreshed: ${(error as Error)?.message ?? String(error)}` });
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}
