import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { decideEngineStart, describeEngine, DomainError, EngineInstanceView, EngineStartDecision } from '@identitymesh/domain';
import { HealthRegistry, MetricsRegistry } from '@identitymesh/platform';
import { EngineRegistryRepository } from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';

type Role = 'starting' | 'active' | 'passive' | 'lost' | 'stopped';

/**
 * Keeps this engine's row in the engine registry: registers at start (refusing
 * or waiting passively when another engine is live on the same database in
 * single-instance mode), heartbeats, and marks itself stopped with its leases
 * released on shutdown.
 */
@Injectable()
export class EngineRegistryService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EngineRegistry');
  readonly instanceId = randomUUID();
  private role: Role = 'starting';
  /** When the heartbeat this engine last wrote (or its registration) confirmed it as the active engine; ms. */
  private confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private readonly activeGauge;
  private readonly heartbeatFailures;

  constructor(
    private readonly config: SyncEngineConfig,
    private readonly registry: EngineRegistryRepository,
    health: HealthRegistry,
    metrics: MetricsRegistry,
  ) {
    this.activeGauge = metrics.gauge('engine_active', '1 while this engine is the active engine of its database');
    this.heartbeatFailures = metrics.counter('engine_heartbeat_failures_total', 'Heartbeats that could not be written');
    health.register({
      name: 'engine-registry',
      run: async () =>
        this.role === 'active' || this.role === 'passive'
          ? { status: 'up', detail: `registered as ${this.instanceId} (${this.role})` }
          : { status: 'down', detail: `engine ${this.instanceId} is ${this.role}` },
    });
  }

  /**
   * Active, and confirmed so recently that no standby can have taken over
   * yet. A standby takes over once this engine's heartbeat is older than
   * IM_ENGINE_STALE_AFTER_SECONDS; an engine that was paused (SIGSTOP, a
   * frozen VM) or cut off for that long must take no work when it resumes
   * before its next heartbeat has told it whether it is still the active one.
   * One heartbeat interval of margin covers a late timer.
   */
  get isActive(): boolean {
    const { staleAfterMs, heartbeatMs } = this.config.registry;
    return this.role === 'active' && Date.now() - this.confirmedAt < staleAfterMs - heartbeatMs;
  }

  async onApplicationBootstrap(): Promise<void> {
    const now = new Date();
    const self: EngineInstanceView = {
      id: this.instanceId,
      host: hostname(),
      pid: process.pid,
      version: this.config.version,
      status: 'active',
      startedAt: now,
      heartbeatAt: now,
    };
    const decision = await this.registry.register(
      self,
      (others) => this.decide(others, now),
      (d) => (d.kind === 'refuse' ? undefined : d.kind),
    );
    if (decision.kind === 'refuse') {
      throw new DomainError(
        'ENGINE_ALREADY_RUNNING',
        `another engine is running on this database: ${describeEngine(decision.because, now)}. Stop it first, or set IM_ENGINE_ON_CONFLICT=passive to keep this one as a standby`,
        { otherEngine: decision.because.id, host: decision.because.host },
      );
    }
    this.setRole(decision.kind);
    this.confirmedAt = now.getTime();
    if (decision.kind === 'passive') {
      this.logger.warn(`standing by as passive: ${describeEngine(decision.because, now)} is active on this database`);
    } else {
      this.logger.log(`registered as active engine ${this.instanceId}`);
    }
    this.timer = setInterval(() => void this.tick(), this.config.registry.heartbeatMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.beating;
    if (this.role === 'active' || this.role === 'passive') {
      await this.registry.markStopped(this.instanceId, new Date());
      this.logger.log(`engine ${this.instanceId} marked stopped; its leases are released`);
    }
    this.setRole('stopped');
  }

  private decide(others: EngineInstanceView[], now: Date): EngineStartDecision {
    return decideEngineStart({
      self: this.instanceId,
      mode: this.config.clusterMode,
      policy: this.config.registry.onConflict,
      instances: others.filter((other) => !isDeadOnThisHost(other)),
      now,
      staleAfterMs: this.config.registry.staleAfterMs,
    });
  }

  private tick(): void {
    this.beating = this.beat().finally(() => (this.beating = undefined));
  }

  private async beat(): Promise<void> {
    const now = new Date();
    try {
      const alive = await this.registry.heartbeat(this.instanceId, now);
      if (!alive) {
        // Someone marked us stopped or removed the row: carrying on would be the
        // double-run the registry exists to prevent.
        this.logger.error(`engine ${this.instanceId} is no longer in the engine registry; it takes no more work until restarted`);
        this.setRole('lost');
        if (this.timer) clearInterval(this.timer);
        return;
      }
      if (this.role === 'active') {
        if ((await this.registry.statusOf(this.instanceId)) === 'passive') {
          // A standby was made active while this engine sent no heartbeat: this one stands by now.
          this.setRole('passive');
          this.logger.warn(
            `engine ${this.instanceId} sent no heartbeat for longer than IM_ENGINE_STALE_AFTER_SECONDS (paused or cut off from the database) and another engine was made active meanwhile; this one stands by as passive and takes no more work. Its runs in progress stop at their next lease check`,
          );
          return;
        }
        this.confirmedAt = now.getTime();
        return;
      }
      if (this.role === 'passive') await this.tryPromote(now);
    } catch (error) {
      this.heartbeatFailures.inc();
      this.logger.warn(`heartbeat failed: ${(error as Error).message}`);
    }
  }

  private async tryPromote(now: Date): Promise<void> {
    const staleBefore = new Date(now.getTime() - this.config.registry.staleAfterMs);
    const others = (await this.registry.listRecent(staleBefore)).filter((e) => e.id !== this.instanceId);
    if (this.decide(others, now).kind === 'active') {
      // Engines marked active that are stale, or whose process is gone from this host, become passive in the same step.
      if (!(await this.registry.promote(this.instanceId, now, { staleBefore, replacing: others.filter(isDeadOnThisHost).map((e) => e.id) }))) return;
      this.setRole('active');
      this.confirmedAt = now.getTime();
      this.logger.log(`no live active engine is left on this database; engine ${this.instanceId} is now active`);
    }
  }

  private setRole(role: Role): void {
    this.role = role;
    this.activeGauge.set(role === 'active' ? 1 : 0);
  }
}

/**
 * An engine row of this host whose process is gone (killed with -9, host
 * crash) would otherwise block a restart until its heartbeat goes stale. Our
 * own pid in an old row means an earlier incarnation: it is gone too.
 */
function isDeadOnThisHost(instance: EngineInstanceView): boolean {
  if (instance.host !== hostname()) return false;
  if (instance.pid === process.pid) return true;
  try {
    process.kill(instance.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
