import { Injectable, Logger } from '@nestjs/common';
import { assertUnreachable } from '@identitymesh/domain';
import { MetricsRegistry } from '@identitymesh/platform';
import { ConnectorDefinition, LeaseGrant, RunRepository, RunView } from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { ConfirmingImportRunner } from '../export/confirming-import-runner.service';
import { ExportRunner } from '../export/export-runner.service';
import { ImportRunner } from '../import/import-runner.service';
import { LeaseService } from '../leases/lease.service';
import { LicenseGateService } from '../license/license-gate.service';
import { EngineIdentity } from '../registry/engine-identity';
import { SyncRunner } from '../sync/sync-runner.service';
import { RunContext, RunOutcome, StopReason } from './run-context';

/** A run this engine claimed, with the lease it holds for the run's connector. */
export interface ClaimedRun {
  run: RunView;
  connector: ConnectorDefinition;
  lease: LeaseGrant;
}

interface ActiveRun {
  runId: string;
  /** Its connector runs on a relay: the engine mostly waits for the relay, so the run takes no local run slot. */
  relayed: boolean;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs claimed runs: at most `IM_ENGINE_MAX_CONCURRENT_RUNS` at once (runs of
 * connectors on relays not counted: they wait for a relay, not for this host)
 * and never two of one connector, each dispatched to its profile's runner,
 * then recorded (finished, given back to the queue, or left alone when the
 * lease went to another engine) and its lease released. Scheduled runs pass
 * the license gate first.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger('Runs');
  private readonly active = new Map<string, ActiveRun>();
  private draining = false;
  private readonly runsTotal;
  private readonly runsActive;

  constructor(
    private readonly config: SyncEngineConfig,
    private readonly runs: RunRepository,
    private readonly leases: LeaseService,
    private readonly imports: ImportRunner,
    private readonly syncs: SyncRunner,
    private readonly exports: ExportRunner,
    private readonly confirmingImports: ConfirmingImportRunner,
    private readonly license: LicenseGateService,
    private readonly engine: EngineIdentity,
    metrics: MetricsRegistry,
  ) {
    this.runsTotal = metrics.counter('runs_total', 'Runs this engine ran, by profile and how they ended', ['profile', 'status']);
    this.runsActive = metrics.gauge('runs_active', 'Runs this engine is running now');
  }

  /** How many more runs of local connectors may start now. */
  get capacity(): number {
    if (this.draining) return 0;
    const local = [...this.active.values()].filter((run) => !run.relayed).length;
    return Math.max(0, this.config.runs.maxConcurrent - local);
  }

  /** Whether runs may start at all: false once the engine is shutting down. Runs of relay connectors need no more than this. */
  get accepting(): boolean {
    return !this.draining;
  }

  /** Connectors with a run in progress here, relayed ones included: their next run waits. */
  busyConnectorIds(): string[] {
    return [...this.active.keys()];
  }

  /** Starts a claimed run in the background; the promise settles when it is recorded and its lease released. */
  start(claimed: ClaimedRun): Promise<void> {
    const connectorId = claimed.connector.id;
    if (this.active.has(connectorId)) throw new Error(`connector ${connectorId} already has a run in progress on this engine`);
    const controller = new AbortController();
    const entry: ActiveRun = { runId: claimed.run.id, relayed: claimed.connector.relayGroup !== null, controller, done: Promise.resolve() };
    this.active.set(connectorId, entry);
    this.runsActive.set(this.active.size);
    entry.done = this.execute(claimed, controller.signal).finally(async () => {
      await this.leases.release(connectorId);
      this.active.delete(connectorId);
      this.runsActive.set(this.active.size);
    });
    return entry.done;
  }

  /** Tells a connector's run to stop after the batch in hand. */
  abort(connectorId: string, reason: StopReason): void {
    this.active.get(connectorId)?.controller.abort(reason);
  }

  /** Resolves when every run in progress now has ended (and was recorded). */
  async settled(): Promise<void> {
    await Promise.all([...this.active.values()].map((run) => run.done.catch(() => undefined)));
  }

  /** Shutdown: no new runs; running ones stop after their current batch and go back to the queue. */
  async drain(): Promise<void> {
    this.draining = true;
    const running = [...this.active.values()];
    if (running.length > 0) this.logger.log({ runs: running.map((r) => r.runId), msg: `stopping ${running.length} run(s) after their current batch` });
    for (const run of running) run.controller.abort({ kind: 'shutdown' } satisfies StopReason);
    await Promise.all(running.map((run) => run.done.catch(() => undefined)));
  }

  private async execute(claimed: ClaimedRun, signal: AbortSignal): Promise<void> {
    const { run, connector, lease } = claimed;
    const fields = { runId: run.id, connectorId: connector.id, profile: run.profile, trigger: run.trigger };
    this.logger.log({ ...fields, fencingToken: lease.fencingToken, recoveries: run.recoveries, msg: `run ${run.id} (${run.profile} of connector "${connector.name}") started` });
    const context: RunContext = { run, connector, lease, engineInstanceId: this.engine.instanceId, signal };
    let outcome: RunOutcome;
    try {
      outcome = await this.dispatch(context);
    } catch (error) {
      this.logger.error({ ...fields, err: error, msg: `run ${run.id} failed unexpectedly: ${(error as Error).message}` });
      outcome = { kind: 'finished', status: 'failed', message: `the engine failed while running it: ${(error as Error).message}` };
    }
    await this.record(claimed, outcome, fields);
  }

  private async dispatch(context: RunContext): Promise<RunOutcome> {
    const { run, connector } = context;
    if (run.trigger === 'schedule') {
      const decision = this.license.checkScheduledRun(`connector "${connector.name}" ${run.profile}`);
      if (!decision.allowed) return { kind: 'finished', status: 'cancelled', message: decision.message };
    }
    const profile = run.profile;
    switch (profile) {
      case 'full-import':
      case 'delta-import':
        return this.imports.run(context);
      case 'export':
        return this.exports.run(context);
      case 'confirming-import':
        return this.confirmingImports.run(context);
      case 'full-sync':
      case 'delta-sync':
        return this.syncs.run(context);
      default:
        return assertUnreachable(profile);
    }
  }

  private async record(claimed: ClaimedRun, outcome: RunOutcome, fields: Record<string, unknown>): Promise<void> {
    const { run, lease } = claimed;
    const engineId = this.engine.instanceId;
    try {
      switch (outcome.kind) {
        case 'finished': {
          const recorded = await this.runs.finish(run.id, engineId, lease.fencingToken, { status: outcome.status, message: outcome.message, now: new Date() });
          this.runsTotal.inc({ profile: run.profile, status: outcome.status });
          if (!recorded) this.logger.warn({ ...fields, msg: `run ${run.id} ended (${outcome.status}) but is no longer this engine's to record; another engine took its connector over` });
          else this.logger.log({ ...fields, status: outcome.status, msg: `run ${run.id} ended (${outcome.status}): ${outcome.message}` });
          return;
        }
        case 'interrupted': {
          await this.runs.requeue(run.id, engineId, lease.fencingToken, outcome.message);
          this.runsTotal.inc({ profile: run.profile, status: 'interrupted' });
          this.logger.log({ ...fields, msg: `run ${run.id} given back to the queue: ${outcome.message}` });
          return;
        }
        case 'lease-lost':
          // The connector is another engine's now; so is the run's row.
          this.runsTotal.inc({ profile: run.profile, status: 'lease-lost' });
          this.logger.error({ ...fields, msg: `run ${run.id} stopped without recording anything more: ${outcome.message}` });
          return;
        default:
          assertUnreachable(outcome);
      }
    } catch (error) {
      // The row stays `running`; the next engine to lease the connector queues it again.
      this.logger.error({ ...fields, err: error, msg: `could not record the end of run ${run.id}: ${(error as Error).message}; it is resumed once the connector is leased again` });
    }
  }
}
