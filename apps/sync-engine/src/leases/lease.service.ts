import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { MetricsRegistry } from '@identitymesh/platform';
import { ConnectorLeaseRepository, LeaseGrant, LeaseTakeover } from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { EngineIdentity } from '../registry/engine-identity';

interface HeldLease {
  grant: LeaseGrant;
  onLost: (reason: string) => void;
}

/**
 * The connector leases this engine holds: acquired when a run starts,
 * renewed on a timer (every third of the lease time) while it runs, released
 * when it ends and, for whatever is left, on shutdown. A renewal that finds
 * the lease gone tells the run to stop; its next batch would be refused
 * anyway, this only makes it stop sooner.
 *
 * In single-instance mode the one active engine takes every lease at once;
 * in cluster mode a lease moves only after it has run out.
 */
@Injectable()
export class LeaseService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Leases');
  private readonly held = new Map<string, HeldLease>();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private readonly heldGauge;
  private readonly lostCounter;

  constructor(
    private readonly config: SyncEngineConfig,
    private readonly leases: ConnectorLeaseRepository,
    private readonly engine: EngineIdentity,
    metrics: MetricsRegistry,
  ) {
    this.heldGauge = metrics.gauge('engine_leases_held', 'Connector leases this engine holds');
    this.lostCounter = metrics.counter('engine_leases_lost_total', 'Leases this engine lost while running a connector');
  }

  private get takeover(): LeaseTakeover {
    return this.config.clusterMode === 'single' ? 'always' : 'when-expired';
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.renewAll(), Math.max(1_000, Math.floor(this.config.runs.leaseMs / 3)));
    this.timer.unref();
  }

  /** Acquires the connector's lease, or returns null when another engine holds it. `onLost` is called if a renewal finds it gone. */
  async acquire(connectorId: string, onLost: (reason: string) => void): Promise<LeaseGrant | null> {
    const requestedAt = Date.now();
    let grant = await this.leases.acquire(connectorId, this.engine.instanceId, { now: new Date(requestedAt), durationMs: this.config.runs.leaseMs, takeover: this.takeover });
    if (!grant) return null;
    // A takeover waits for the former holder's open batch transaction; when that holder is a paused
    // process, until the database ends its idle session (a minute on PostgreSQL). The expiry was
    // counted from before the wait, so the lease may have run out already: acquire it once more, at
    // once (it is this engine's now, so nothing waits), rather than start the run on a lease whose
    // first check fails.
    if (Date.now() - requestedAt > this.config.runs.leaseMs / 3) {
      const tookOverFrom = grant.tookOverFrom;
      grant = await this.leases.acquire(connectorId, this.engine.instanceId, { now: new Date(), durationMs: this.config.runs.leaseMs, takeover: this.takeover });
      if (!grant) return null;
      grant.tookOverFrom = tookOverFrom;
    }
    this.held.set(connectorId, { grant, onLost });
    this.heldGauge.set(this.held.size);
    if (grant.tookOverFrom) {
      this.logger.warn({ connectorId, fencingToken: grant.fencingToken, from: grant.tookOverFrom, msg: `took over the lease of connector ${connectorId} from engine ${grant.tookOverFrom} (fencing token ${grant.fencingToken}); that engine's writes are refused from now on` });
    }
    return grant;
  }

  /** Gives a lease back; the next holder gets the next fencing token. */
  async release(connectorId: string): Promise<void> {
    const lease = this.held.get(connectorId);
    if (!lease) return;
    this.held.delete(connectorId);
    this.heldGauge.set(this.held.size);
    try {
      await this.leases.release(connectorId, lease.grant.engineInstanceId, lease.grant.fencingToken, new Date());
    } catch (error) {
      // It runs out by itself; until then another engine only waits.
      this.logger.warn({ connectorId, msg: `could not release the lease of connector ${connectorId}: ${(error as Error).message}; it expires at ${lease.grant.expiresAt.toISOString()} at the latest` });
    }
  }

  /** One renewal round; exposed for tests. */
  renewAll(): Promise<void> {
    if (!this.renewing) this.renewing = this.renewEach().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.renewing;
    for (const connectorId of [...this.held.keys()]) await this.release(connectorId);
  }

  private async renewEach(): Promise<void> {
    for (const [connectorId, lease] of [...this.held]) {
      const { grant } = lease;
      try {
        const expiresAt = await this.leases.renew(connectorId, grant.engineInstanceId, grant.fencingToken, { now: new Date(), durationMs: this.config.runs.leaseMs });
        if (expiresAt) {
          grant.expiresAt = expiresAt;
          continue;
        }
        if (this.held.get(connectorId) !== lease) continue;
        this.held.delete(connectorId);
        this.heldGauge.set(this.held.size);
        this.lostCounter.inc();
        const holder = await this.leases.current(connectorId).catch(() => null);
        const reason =
          holder && (holder.engineInstanceId !== grant.engineInstanceId || holder.fencingToken !== grant.fencingToken)
            ? `engine ${holder.engineInstanceId} took the lease of connector ${connectorId} over (fencing token ${holder.fencingToken})`
            : `the lease of connector ${connectorId} ran out before it could be renewed`;
        this.logger.error({ connectorId, fencingToken: grant.fencingToken, msg: `lease lost: ${reason}; the run of this connector stops` });
        lease.onLost(reason);
      } catch (error) {
        this.logger.warn({ connectorId, msg: `could not renew the lease of connector ${connectorId}: ${(error as Error).message}; trying again` });
      }
    }
  }
}
