import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConnectorRepository, RunRepository } from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { LeaseService } from '../leases/lease.service';
import { EngineIdentity } from '../registry/engine-identity';
import { ClaimedRun, RunExecutor } from './run-executor.service';
import { StopReason } from './run-context';

/**
 * Takes queued runs from `IM_Runs` (manual triggers are rows the Admin API
 * inserts; schedules will queue theirs the same way) while this engine is
 * the active one and has room (runs of connectors on relays need none): for
 * the oldest waiting run of each connector it may run, it acquires the
 * connector's lease, queues again any run a dead engine left running there,
 * and claims the oldest queued run with a compare-and-set. On shutdown it stops claiming and lets the running runs
 * stop after their current batch.
 */
@Injectable()
export class RunQueueService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RunQueue');
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly config: SyncEngineConfig,
    private readonly runs: RunRepository,
    private readonly connectors: ConnectorRepository,
    private readonly leases: LeaseService,
    private readonly executor: RunExecutor,
    private readonly engine: EngineIdentity,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), this.config.runs.pollMs);
    this.timer.unref();
  }

  /** Claims and starts runs until there is no room or nothing waits; one poll at a time. */
  poll(): Promise<void> {
    if (!this.polling) this.polling = this.fill().finally(() => (this.polling = undefined));
    return this.polling;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await this.executor.drain();
  }

  private async fill(): Promise<void> {
    try {
      // A full engine still starts runs of connectors on relays: they take no local run slot.
      while (!this.stopped && this.engine.isActive && this.executor.accepting) {
        const claimed = await this.claimOne(this.executor.capacity > 0);
        if (!claimed) return;
        void this.executor.start(claimed);
      }
    } catch (error) {
      this.logger.warn({ msg: `looking for queued runs failed: ${(error as Error).message}; trying again in ${this.config.runs.pollMs} ms` });
    }
  }

  /** With `localRoom` false, only runs of connectors on relays are candidates. */
  private async claimOne(localRoom: boolean): Promise<ClaimedRun | null> {
    let candidates = await this.runs.candidates({ excludeConnectorIds: this.executor.busyConnectorIds() });
    if (!localRoom && candidates.length > 0) {
      const relayed = new Set((await this.connectors.findByIds(candidates.map((c) => c.connectorId))).filter((c) => c.relayGroup !== null).map((c) => c.id));
      candidates = candidates.filter((candidate) => relayed.has(candidate.connectorId));
    }
    for (const candidate of candidates) {
      // Asked again before each lease: an engine paused in the middle of this loop may wake up replaced.
      if (this.stopped || !this.engine.isActive) return null;
      const connectorId = candidate.connectorId;
      const lease = await this.leases.acquire(connectorId, (reason) => this.executor.abort(connectorId, { kind: 'lease-lost', reason } satisfies StopReason));
      if (!lease) continue;
      try {
        const now = new Date();
        const recovered = await this.runs.recoverInterrupted(connectorId, { now, maxRecoveries: this.config.runs.maxRecoveries });
        for (const run of recovered.requeued) this.logger.warn({ runId: run.id, connectorId, msg: `run ${run.id} ${run.message}` });
        for (const run of recovered.failed) this.logger.error({ runId: run.id, connectorId, msg: `run ${run.id} ${run.message}` });
        const run = await this.runs.claimNext(this.engine.instanceId, { now, connectorId, fencingToken: lease.fencingToken });
        const connector = run ? await this.connectors.findById(connectorId) : null;
        if (run && connector) return { run, connector, lease };
        await this.leases.release(connectorId);
      } catch (error) {
        await this.leases.release(connectorId);
        throw error;
      }
    }
    return null;
  }
}
