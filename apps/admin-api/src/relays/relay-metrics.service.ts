import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { RelayWorkStatus } from '@identitymesh/domain';
import { METRIC_PREFIX, MetricsRegistry } from '@identitymesh/platform';
import { RelayWorkQueueRepository } from '@identitymesh/persistence';
import { ConnectedRelays } from './connected-relays';

/** Several Prometheus servers may scrape each instance; the counts are reused for this long rather than queried per scrape. */
const CACHE_MS = 5_000;

type OpenCounts = Array<{ relayGroup: string; status: RelayWorkStatus; count: number }>;

/**
 * `identitymesh_relays_connected` (relays with an open socket to this
 * instance) and `identitymesh_relay_work_items{relay_group,status}` (open
 * items of the relay work queue, one grouped query at most every five
 * seconds). When the database does not answer, the last counts stay.
 */
@Injectable()
export class RelayMetrics {
  private readonly logger = new Logger('Metrics');
  private last: { at: number; counts: OpenCounts } | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    metrics: MetricsRegistry,
    connected: ConnectedRelays,
    private readonly queue: RelayWorkQueueRepository,
  ) {
    new Gauge({
      name: `${METRIC_PREFIX}relays_connected`,
      help: 'Relays with at least one open socket to this Admin API instance',
      registers: [metrics.registry],
      collect() {
        this.set(connected.size);
      },
    });
    const workGauge: Gauge<'relay_group' | 'status'> = new Gauge({
      name: `${METRIC_PREFIX}relay_work_items`,
      help: 'Open items of the relay work queue by relay group and status (queued, delivered, running)',
      labelNames: ['relay_group', 'status'],
      registers: [metrics.registry],
      collect: async () => {
        await this.refresh();
        if (!this.last) return;
        // Groups whose work is done disappear rather than linger at their last count.
        workGauge.reset();
        for (const row of this.last.counts) workGauge.set({ relay_group: row.relayGroup, status: row.status }, row.count);
      },
    });
  }

  private refresh(): Promise<void> {
    if (this.last && Date.now() - this.last.at < CACHE_MS) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        this.last = { at: Date.now(), counts: await this.queue.openCounts() };
      } catch (error) {
        this.logger.warn({ err: error, msg: `relay work gauge not refreshed: ${(error as Error)?.message ?? String(error)}` });
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}
