import { createHash, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { In, IsNull, Not } from 'typeorm';
import type { RunChainState, RunProfile, RunStatus } from '@identitymesh/domain';
import type { JsonValue } from '../entities/column-types';
import { ConnectorEntity } from '../entities/connector.entity';
import { RunEntity } from '../entities/run.entity';
import { ScheduleStateEntity } from '../entities/schedule-state.entity';
import { isUniqueViolation } from '../data-source/dialect';
import { withTransientRetry } from '../retry/retry-policy';

/**
 * The key a connector's schedule marker is filed under: the schedule in its
 * canonical text and whether the engine runs it (enabled, no relay group). A
 * marker under another key counts as a changed schedule, counted afresh.
 * Everything that sets a baseline (the engine's scheduler, the demo) uses
 * this one key.
 */
export function scheduleMarkerKey(canonicalSchedule: string, inEffect: boolean): string {
  return createHash('sha256').update(`${canonicalSchedule}\u0000${inEffect ? 'in-effect' : 'not-in-effect'}`).digest('hex');
}

/** A connector that has a schedule, with the marker its schedule stands at (null before the scheduler first saw it). */
export interface ScheduledConnector {
  connectorId: string;
  name: string;
  /** As stored; the scheduler validates it. */
  schedule: JsonValue;
  enabled: boolean;
  relayGroup: string | null;
  marker: ScheduleMarkerView | null;
}

export interface ScheduleMarkerView {
  key: string;
  markAt: Date;
  /** Compare-and-set token: every change of the marker increments it. */
  version: number;
}

/** A chain run that ended and whose chain waits for the scheduler to act on that. */
export interface OpenChainRun {
  runId: string;
  connectorId: string;
  profile: RunProfile;
  status: RunStatus;
  message: string | null;
  chainId: string;
  chainStep: number;
  chainProfiles: RunProfile[];
}

/** What a fire did. */
export type ScheduleFireResult =
  | { kind: 'queued'; runId: string; chainId: string }
  /** A chain of the connector is under way (`blockingRunId` is its open run): the slot is used up, nothing queued. */
  | { kind: 'skipped'; blockingRunId: string }
  /** The marker moved since it was read: another engine fired this slot, or the schedule was seen changed. */
  | { kind: 'lost' };

/** What the scheduler decided for a chain run that ended. */
export type ChainAdvance = { kind: 'continue'; step: number; profile: RunProfile } | { kind: 'complete' } | { kind: 'stop' };

const MESSAGE_LENGTH = 2000;

/**
 * The scheduler's SQL: markers in `IM_ScheduleStates` and the chain columns
 * of `IM_Runs`. Each fire and each chain step is one transaction around a
 * compare-and-set (the marker's `version`, the run's `chainState = 'open'`),
 * so two engines acting on the same slot or the same finished run change
 * things once, and a repeat after a lost commit answer changes nothing.
 */
export class ScheduleRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Every connector with a schedule, and its marker: two statements whatever the count. */
  async listScheduled(): Promise<ScheduledConnector[]> {
    const [connectors, markers] = await withTransientRetry('schedule list', () =>
      Promise.all([
        this.dataSource.getRepository(ConnectorEntity).find({
          select: { id: true, name: true, schedule: true, enabled: true, relayGroup: true },
          where: { schedule: Not(IsNull()) },
          order: { name: 'ASC' },
        }),
        // One small row per connector that ever had a schedule.
        this.dataSource.getRepository(ScheduleStateEntity).find({ select: { connectorId: true, scheduleKey: true, markAt: true, version: true } }),
      ]),
    );
    const byConnector = new Map(markers.map((m) => [m.connectorId, { key: m.scheduleKey, markAt: m.markAt, version: m.version }]));
    return connectors.map((c) => ({
      connectorId: c.id,
      name: c.name,
      schedule: c.schedule,
      enabled: Boolean(c.enabled),
      relayGroup: c.relayGroup,
      marker: byConnector.get(c.id) ?? null,
    }));
  }

  /**
   * Sets the marker of a new or changed schedule to `markAt` without firing.
   * `expectedVersion` is the version read (null: there was no marker). False
   * when another engine got there first; the next tick reads again.
   */
  async setBaseline(connectorId: string, input: { key: string; markAt: Date; expectedVersion: number | null; engineInstanceId: string; now: Date }): Promise<boolean> {
    const repo = this.dataSource.getRepository(ScheduleStateEntity);
    if (input.expectedVersion === null) {
      try {
        await withTransientRetry('schedule baseline insert', () =>
          repo.insert({
            connectorId,
            scheduleKey: input.key,
            markAt: input.markAt,
            version: 1,
            lastOutcome: 'baseline',
            lastChainId: null,
            updatedBy: input.engineInstanceId,
            updatedAt: input.now,
          }),
        );
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    }
    const expectedVersion = input.expectedVersion;
    return withTransientRetry('schedule baseline', async () => {
      const qb = repo.createQueryBuilder().update();
      const result = await qb
        .set({ scheduleKey: input.key, markAt: input.markAt, version: () => `${qb.escape('version')} + 1`, lastOutcome: 'baseline', updatedBy: input.engineInstanceId, updatedAt: input.now })
        .where({ connectorId, version: expectedVersion })
        .execute();
      return (result.affected ?? 0) === 1;
    });
  }

  /**
   * Fires the slot `slot` of a connector's schedule: moves the marker there
   * (compare-and-set on `expectedVersion`) and, unless a chain of the
   * connector is under way, queues the chain's first run (trigger
   * `schedule`), all in one transaction. The marker's row lock serializes
   * concurrent fires of one connector, so two chains can never be started
   * side by side.
   */
  async fire(
    connectorId: string,
    input: { expectedVersion: number; slot: Date; profiles: readonly RunProfile[]; engineInstanceId: string; now: Date; message: (chainId: string) => string },
  ): Promise<ScheduleFireResult> {
    return withTransientRetry('schedule fire', () =>
      this.dataSource.transaction(async (manager) => {
        const open = await manager.getRepository(RunEntity).findOne({ select: { id: true }, where: { connectorId, chainState: 'open' }, order: { queuedAt: 'ASC' } });
        const chainId = randomUUID();
        const qb = manager.getRepository(ScheduleStateEntity).createQueryBuilder().update();
        const moved = await qb
          .set({
            markAt: input.slot,
            version: () => `${qb.escape('version')} + 1`,
            lastOutcome: open ? 'skipped' : 'queued',
            ...(open ? {} : { lastChainId: chainId }),
            updatedBy: input.engineInstanceId,
            updatedAt: input.now,
          })
          .where({ connectorId, version: input.expectedVersion })
          .execute();
        if ((moved.affected ?? 0) !== 1) return { kind: 'lost' as const };
        if (open) return { kind: 'skipped' as const, blockingRunId: open.id };
        const runId = await insertChainRun(manager, { connectorId, chainId, step: 0, profiles: input.profiles, now: input.now, message: input.message(chainId) });
        return { kind: 'queued' as const, runId, chainId };
      }),
    );
  }

  /** Every chain run that ended and the scheduler has not acted on yet, oldest first: one indexed statement. */
  async listEndedOpenChainRuns(): Promise<OpenChainRun[]> {
    const rows = await withTransientRetry('chain runs ended', () =>
      this.dataSource.getRepository(RunEntity).find({
        select: { id: true, connectorId: true, profile: true, status: true, message: true, chainId: true, chainStep: true, chainProfiles: true, queuedAt: true },
        where: { chainState: 'open', status: Not(In(['queued', 'running'])) },
        order: { queuedAt: 'ASC', id: 'ASC' },
      }),
    );
    return rows.map((row) => ({
      runId: row.id,
      connectorId: row.connectorId,
      profile: row.profile,
      status: row.status,
      message: row.message,
      chainId: row.chainId as string,
      chainStep: row.chainStep ?? 0,
      chainProfiles: row.chainProfiles ?? [row.profile],
    }));
  }

  /**
   * Records what follows a chain run that ended as `run.status`: closes it
   * (compare-and-set from `open`, and only while its status is still the one
   * decided on) and, to continue, queues the next step in the same
   * transaction. Returns the next run's id for `continue`, the run's id
   * otherwise, or null when another engine acted on it first.
   */
  async advanceChain(run: OpenChainRun, advance: ChainAdvance, input: { now: Date; message?: string }): Promise<string | null> {
    const state: RunChainState = advance.kind === 'continue' ? 'continued' : advance.kind === 'complete' ? 'completed' : 'stopped';
    return withTransientRetry('chain advance', () =>
      this.dataSource.transaction(async (manager) => {
        const closed = await manager
          .getRepository(RunEntity)
          .createQueryBuilder()
          .update()
          .set({ chainState: state })
          .where({ id: run.runId, chainState: 'open', status: run.status })
          .execute();
        if ((closed.affected ?? 0) !== 1) return null;
        if (advance.kind !== 'continue') return run.runId;
        return insertChainRun(manager, {
          connectorId: run.connectorId,
          chainId: run.chainId,
          step: advance.step,
          profiles: run.chainProfiles,
          now: input.now,
          message: input.message ?? null,
        });
      }),
    );
  }
}

async function insertChainRun(
  manager: EntityManager,
  input: { connectorId: string; chainId: string; step: number; profiles: readonly RunProfile[]; now: Date; message: string | null },
): Promise<string> {
  const id = randomUUID();
  await manager.getRepository(RunEntity).insert({
    id,
    connectorId: input.connectorId,
    profile: input.profiles[input.step],
    status: 'queued',
    trigger: 'schedule',
    preview: false,
    requestedBy: null,
    queuedAt: input.now,
    message: input.message === null ? null : clip(input.message),
    chainId: input.chainId,
    chainStep: input.step,
    chainProfiles: [...input.profiles],
    chainState: 'open',
  });
  return id;
}

function clip(message: string): string {
  return message.length <= MESSAGE_LENGTH ? message : `${message.slice(0, MESSAGE_LENGTH - 1)}…`;
}
