import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import {
  assertUnreachable,
  canonicalSchedule,
  ConnectorSchedule,
  decideChainStep,
  decideScheduleTick,
  describeChain,
  describeSchedule,
  MISSED_FIRES_COUNTED,
  parseSchedule,
  ScheduleInvalidError,
} from '@identitymesh/domain';
import { MetricsRegistry } from '@identitymesh/platform';
import { OpenChainRun, ScheduledConnector, ScheduleRepository, scheduleMarkerKey } from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { EngineIdentity } from '../registry/engine-identity';
import { SchedulerClock } from './scheduler-clock';

/**
 * Fires connector schedules and moves their chains on, on the active engine
 * only, every `IM_ENGINE_SCHEDULER_TICK_MS`. Each tick:
 *
 * 1. **Chains.** Every chain run that ended and was not acted on yet: after
 *    a success the chain's next profile is queued; after a failure,
 *    threshold stop, held deletes or cancellation the chain stops, logged
 *    with the run's message. The executor needs no hook for this: the run's
 *    row in `IM_Runs` says it all.
 * 2. **Fires.** Every connector with a schedule: a due schedule queues its
 *    chain's first run (trigger `schedule`, so the license gate sees it),
 *    unless a chain of the connector is still under way; then the fire is
 *    skipped, never stacked. Fires missed while no engine was active fold
 *    into one.
 *
 * Nothing is kept in memory between ticks but log-once bookkeeping: the
 * markers (`IM_ScheduleStates`) and the chain columns of `IM_Runs` carry
 * everything across restarts and takeovers, and every write is a
 * compare-and-set, so engines that overlap for a moment still fire each
 * slot once.
 */
@Injectable()
export class ScheduleService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Scheduler');
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  /** Invalid schedules already reported, by key: one warning per bad version, not one per tick. */
  private readonly reportedInvalid = new Set<string>();
  private readonly firesTotal;
  private readonly missedTotal;
  private readonly chainStepsTotal;
  private readonly invalidGauge;

  constructor(
    private readonly config: SyncEngineConfig,
    private readonly schedules: ScheduleRepository,
    private readonly engine: EngineIdentity,
    private readonly clock: SchedulerClock,
    metrics: MetricsRegistry,
  ) {
    this.firesTotal = metrics.counter('schedule_fires_total', 'Schedule fires this engine handled: queued a chain, skipped (a chain was still under way), or lost to another engine', ['outcome']);
    this.missedTotal = metrics.counter('schedule_missed_fires_total', 'Fires missed while no engine was active, folded into one fire each');
    this.chainStepsTotal = metrics.counter('schedule_chain_steps_total', 'Chain runs acted on once they ended: next step queued, chain completed, or chain stopped', ['outcome']);
    this.invalidGauge = metrics.gauge('schedules_invalid', 'Connector schedules that are invalid and fire nothing');
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.scheduler.tickMs);
    this.timer.unref();
  }

  /** One tick, while none is in progress; exposed for tests. */
  tick(): Promise<void> {
    if (!this.ticking) this.ticking = this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
  }

  private async runTick(): Promise<void> {
    // A passive engine leaves the markers alone: the active one keeps them, and they are all a promoted engine needs.
    if (this.stopped || !this.engine.isActive) return;
    try {
      await this.advanceChains();
    } catch (error) {
      this.logger.warn({ err: error, msg: `moving chains on failed: ${(error as Error).message}; trying again in ${this.config.scheduler.tickMs} ms` });
    }
    try {
      await this.fireDueSchedules();
    } catch (error) {
      this.logger.warn({ err: error, msg: `firing schedules failed: ${(error as Error).message}; trying again in ${this.config.scheduler.tickMs} ms` });
    }
  }

  private async advanceChains(): Promise<void> {
    for (const run of await this.schedules.listEndedOpenChainRuns()) {
      if (this.stopped) return;
      const decision = decideChainStep(run.status, run.chainStep, run.chainProfiles);
      if (decision.kind === 'pending') continue;
      const total = run.chainProfiles.length;
      const fields = { runId: run.runId, connectorId: run.connectorId, chainId: run.chainId, chainStep: run.chainStep + 1, profile: run.profile, status: run.status };
      const message =
        decision.kind === 'continue'
          ? `queued by the schedule: step ${decision.step + 1} of ${total} of chain ${run.chainId} (${describeChain(run.chainProfiles)}), after run ${run.runId} (${run.profile}) ${run.status}`
          : undefined;
      const acted = await this.schedules.advanceChain(run, decision, { now: this.clock.now(), message });
      // Another engine acted on it first.
      if (acted === null) continue;
      switch (decision.kind) {
        case 'continue':
          this.chainStepsTotal.inc({ outcome: 'continued' });
          this.logger.log({ ...fields, nextRunId: acted, msg: `chain ${run.chainId} of connector ${run.connectorId}: step ${run.chainStep + 1} of ${total} (${run.profile}) ${run.status}; step ${decision.step + 1} (${decision.profile}) queued as run ${acted}` });
          break;
        case 'complete':
          this.chainStepsTotal.inc({ outcome: 'completed' });
          this.logger.log({ ...fields, msg: `chain ${run.chainId} of connector ${run.connectorId} completed: ${describeChain(run.chainProfiles)}, the last run ${run.runId} ${run.status}` });
          break;
        case 'stop':
          this.chainStepsTotal.inc({ outcome: 'stopped' });
          this.logger.warn({ ...fields, msg: chainStopMessage(run) });
          break;
        default:
          assertUnreachable(decision);
      }
    }
  }

  private async fireDueSchedules(): Promise<void> {
    const connectors = await this.schedules.listScheduled();
    let invalid = 0;
    for (const connector of connectors) {
      if (this.stopped) return;
      try {
        if (!(await this.consider(connector))) invalid++;
      } catch (error) {
        this.logger.warn({ connectorId: connector.connectorId, err: error, msg: `the schedule of connector "${connector.name}" could not be handled: ${(error as Error).message}; trying again at the next tick` });
      }
    }
    this.invalidGauge.set(invalid);
  }

  /** Handles one connector's schedule; false when the schedule is invalid. */
  private async consider(connector: ScheduledConnector): Promise<boolean> {
    const { schedule, keySource, problem } = readSchedule(connector.schedule);
    // The engine does not run disabled connectors: their fires would only pile up. A relay group's connector is
    // scheduled like any other; its runs wait in the relay work queue while no relay of the group is connected.
    const inEffect = connector.enabled;
    const key = scheduleMarkerKey(keySource, inEffect);
    if (problem && !this.reportedInvalid.has(key)) {
      this.reportedInvalid.add(key);
      this.logger.warn({ connectorId: connector.connectorId, msg: `the schedule of connector "${connector.name}" is invalid and fires nothing until it is corrected: ${problem.message}` });
    }
    const now = this.clock.now();
    const marker = connector.marker;
    const decision = decideScheduleTick({ schedule, inEffect, key, marker, now });
    const fields = { connectorId: connector.connectorId };
    switch (decision.kind) {
      case 'idle':
      case 'wait':
        return !problem;
      case 'baseline': {
        const set = await this.schedules.setBaseline(connector.connectorId, { key, markAt: decision.markAt, expectedVersion: marker?.version ?? null, engineInstanceId: this.engine.instanceId, now });
        if (set && schedule && decision.nextFireAt) {
          this.logger.log({ ...fields, nextFireAt: decision.nextFireAt, msg: `schedule of connector "${connector.name}": ${describeSchedule(schedule)}, chain ${describeChain(schedule.profiles)}; next fire at ${decision.nextFireAt.toISOString()}` });
        } else if (set && !problem) {
          this.logger.log({ ...fields, msg: `schedule of connector "${connector.name}" fires nothing: ${whyIdle(connector, schedule)}` });
        }
        return !problem;
      }
      case 'fire': {
        // decideScheduleTick fires only with both; this tells the compiler so.
        if (!marker || !schedule) return true;
        const result = await this.schedules.fire(connector.connectorId, {
          expectedVersion: marker.version,
          slot: decision.slot,
          profiles: schedule.profiles,
          engineInstanceId: this.engine.instanceId,
          now,
          message: (chainId) => `queued by the schedule (${describeSchedule(schedule)}, due ${decision.slot.toISOString()}): step 1 of ${schedule.profiles.length} of chain ${chainId} (${describeChain(schedule.profiles)})`,
        });
        this.firesTotal.inc({ outcome: result.kind });
        const next = decision.nextFireAt ? `; next fire at ${decision.nextFireAt.toISOString()}` : '';
        if (result.kind === 'lost') return true;
        if (decision.missed > 0) {
          this.missedTotal.inc(decision.missed);
          const count = decision.missed >= MISSED_FIRES_COUNTED ? `${MISSED_FIRES_COUNTED} or more fires` : `${decision.missed} fire(s)`;
          this.logger.warn({ ...fields, missed: decision.missed, msg: `schedule of connector "${connector.name}": ${count} due from ${decision.firstDueAt.toISOString()} on were missed while no engine was active; they are run once, as the fire due ${decision.slot.toISOString()}` });
        }
        if (result.kind === 'queued') {
          this.logger.log({ ...fields, runId: result.runId, chainId: result.chainId, slot: decision.slot, msg: `schedule of connector "${connector.name}" fired (due ${decision.slot.toISOString()}): chain ${result.chainId} (${describeChain(schedule.profiles)}) starts with run ${result.runId}${next}` });
        } else {
          this.logger.warn({ ...fields, blockingRunId: result.blockingRunId, slot: decision.slot, msg: `schedule of connector "${connector.name}": the fire due ${decision.slot.toISOString()} is skipped, its previous chain is still under way (run ${result.blockingRunId})${next}` });
        }
        return true;
      }
      default:
        return assertUnreachable(decision);
    }
  }
}

/** The schedule as stored, validated; an invalid one is keyed by its text, so correcting it counts as a change. */
function readSchedule(stored: unknown): { schedule: ConnectorSchedule | null; keySource: string; problem?: ScheduleInvalidError } {
  try {
    const schedule = parseSchedule(stored);
    return { schedule, keySource: canonicalSchedule(schedule) };
  } catch (error) {
    if (!(error instanceof ScheduleInvalidError)) throw error;
    return { schedule: null, keySource: `invalid:${JSON.stringify(stored)}`, problem: error };
  }
}

function whyIdle(connector: ScheduledConnector, schedule: ConnectorSchedule | null): string {
  if (!connector.enabled) return 'the connector is disabled';
  if (schedule && !schedule.enabled) return 'the schedule is disabled';
  return 'nothing to fire';
}

function chainStopMessage(run: OpenChainRun): string {
  const rest = run.chainProfiles.slice(run.chainStep + 1);
  const notQueued = rest.length > 0 ? `; not queued: ${describeChain(rest)}` : '';
  return `chain ${run.chainId} of connector ${run.connectorId} stopped at step ${run.chainStep + 1} of ${run.chainProfiles.length} (${run.profile}): run ${run.runId} ended ${run.status}: ${run.message ?? 'no message'}${notQueued}`;
}
