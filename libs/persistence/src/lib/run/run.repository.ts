import { createHash, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { RUN_STATUSES } from '@identitymesh/domain';
import type { RunProfile, RunStatus, RunTrigger } from '@identitymesh/domain';
import type { JsonObject } from '../entities/column-types';
import { ConnectorEntity } from '../entities/connector.entity';
import { RunObjectErrorEntity } from '../entities/run-object-error.entity';
import { RunEntity } from '../entities/run.entity';
import { insertRows } from '../data-source/bulk-insert';
import { chunked, rowsPerStatement } from '../data-source/dialect';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';

/** One run as the engine and the Admin API see it. */
export interface RunView {
  id: string;
  connectorId: string;
  profile: RunProfile;
  status: RunStatus;
  trigger: RunTrigger;
  preview: boolean;
  requestedBy: string | null;
  engineInstanceId: string | null;
  fencingToken: number | null;
  added: number;
  updated: number;
  deleted: number;
  joined: number;
  projected: number;
  exported: number;
  errors: number;
  heldDeletes: number;
  recoveries: number;
  /** Who approved the deletes this (export) run held above the deletion threshold, and when. */
  deletesApprovedBy: string | null;
  deletesApprovedAt: Date | null;
  message: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewRun {
  connectorId: string;
  profile: RunProfile;
  trigger: RunTrigger;
  requestedBy?: string | null;
  /** @default false */
  preview?: boolean;
  /** @default now */
  at?: Date;
}

/** The oldest run waiting for an engine on one connector: queued, or running under an engine that may be gone. */
export interface RunCandidate {
  runId: string;
  connectorId: string;
  status: 'queued' | 'running';
  queuedAt: Date;
}

/** Counter increments of one batch. */
export type RunCounters = Partial<Pick<RunView, 'added' | 'updated' | 'deleted' | 'joined' | 'projected' | 'exported' | 'errors' | 'heldDeletes'>>;

/** How a run ended. */
export type FinishedRunStatus = Exclude<RunStatus, 'queued' | 'running'>;

/** A per-object failure to record. */
export interface RunObjectErrorInput {
  code: string;
  message: string;
  objectType?: string;
  anchor?: string;
  /** Where in the source: `line 17`, a DN, a row key. */
  position?: string;
  csObjectId?: string | null;
}

export interface RunObjectErrorView {
  id: string;
  runId: string;
  csObjectId: string | null;
  anchor: string | null;
  code: string;
  message: string;
  detail: JsonObject | null;
  createdAt: Date;
}

const COUNTERS = ['added', 'updated', 'deleted', 'joined', 'projected', 'exported', 'errors', 'heldDeletes'] as const;
const MESSAGE_LENGTH = 2000;
// 8 parameters an error row.
const ERROR_ROW_PARAMETERS = 8;

/**
 * `IM_Runs` and `IM_RunObjectErrors`: the run queue and what each run did.
 *
 * Manual triggers are rows the Admin API inserts; an engine claims the oldest
 * queued run of a connector with a compare-and-set from `queued` to
 * `running`, so two engines can never both claim one run. What a batch adds
 * to a run's counters and errors is written in the batch's own transaction,
 * so a resumed run counts nothing twice.
 */
export class RunRepository {
  constructor(private readonly dataSource: DataSource) {}

  async queue(input: NewRun): Promise<RunView> {
    const row = {
      id: randomUUID(),
      connectorId: input.connectorId,
      profile: input.profile,
      status: 'queued' as const,
      trigger: input.trigger,
      preview: input.preview ?? false,
      requestedBy: input.requestedBy ?? null,
      queuedAt: input.at ?? new Date(),
    };
    await this.dataSource.getRepository(RunEntity).insert({ ...row });
    return (await this.findById(row.id)) as RunView;
  }

  async findById(id: string): Promise<RunView | null> {
    const row = await withTransientRetry('run find', () => this.dataSource.getRepository(RunEntity).findOneBy({ id }));
    return row ? toView(row) : null;
  }

  /**
   * The oldest waiting run of each connector an engine in the engine may run
   * (enabled, not assigned to a relay group), oldest first, leaving out
   * `excludeConnectorIds` (those this engine is running now). A `running`
   * candidate belongs to an engine that may be gone; whoever gets the
   * connector's lease recovers it with {@link recoverInterrupted}.
   */
  async candidates(options: { excludeConnectorIds?: string[]; limit?: number } = {}): Promise<RunCandidate[]> {
    const rows = await withTransientRetry('run candidates', () =>
      this.waiting(this.dataSource.manager, ['queued', 'running'], options.excludeConnectorIds ?? [])
        .limit(options.limit ?? 50)
        .getMany(),
    );
    const seen = new Set<string>();
    const candidates: RunCandidate[] = [];
    for (const row of rows) {
      if (seen.has(row.connectorId)) continue;
      seen.add(row.connectorId);
      candidates.push({ runId: row.id, connectorId: row.connectorId, status: row.status as 'queued' | 'running', queuedAt: row.queuedAt });
    }
    return candidates;
  }

  /**
   * Claims the oldest queued run (of `connectorId` when given) of a
   * connector an engine may run: a compare-and-set from `queued` to `running` that exactly one
   * claimer wins. `fencingToken` is the connector lease's token the run's
   * writes carry. Returns null when nothing is queued.
   */
  async claimNext(engineInstanceId: string, options: { now: Date; connectorId?: string; fencingToken?: number | null }): Promise<RunView | null> {
    const repo = this.dataSource.getRepository(RunEntity);
    for (let attempt = 0; attempt < 10; attempt++) {
      const next = await withTransientRetry('run claim read', () => {
        const query = this.waiting(this.dataSource.manager, ['queued'], []).addSelect('r.startedAt');
        if (options.connectorId) query.andWhere('r.connectorId = :connectorId', { connectorId: options.connectorId });
        return query.limit(1).getOne();
      });
      if (!next) return null;
      const result = await repo
        .createQueryBuilder()
        .update()
        .set({ status: 'running', engineInstanceId, fencingToken: options.fencingToken ?? null, startedAt: next.startedAt ?? options.now, finishedAt: null })
        .where({ id: next.id, status: 'queued' })
        .execute();
      // Lost to another claimer: look again.
      if ((result.affected ?? 0) === 1) return this.findById(next.id);
    }
    return null;
  }

  /**
   * Runs of the connector left `running` by an engine that no longer runs
   * them: called by the engine that just acquired the connector's lease,
   * which proves nobody else is running it. Each goes back to `queued` with
   * its counters and committed batches intact, to resume where it stopped,
   * unless it was recovered `maxRecoveries` times already; then it fails.
   */
  async recoverInterrupted(connectorId: string, options: { now: Date; maxRecoveries: number }): Promise<{ requeued: RunView[]; failed: RunView[] }> {
    const repo = this.dataSource.getRepository(RunEntity);
    const orphans = await withTransientRetry('run recover read', () => repo.findBy({ connectorId, status: 'running' }));
    const requeued: RunView[] = [];
    const failed: RunView[] = [];
    for (const orphan of orphans) {
      const engine = orphan.engineInstanceId ?? 'unknown';
      const exhausted = orphan.recoveries >= options.maxRecoveries;
      const change = exhausted
        ? {
            status: 'failed' as const,
            finishedAt: options.now,
            message: clip(`failed: the engine running it (${engine}) stopped without finishing it ${orphan.recoveries + 1} times; it is not resumed again. Its committed batches stay; queue a new run to continue`),
          }
        : {
            status: 'queued' as const,
            engineInstanceId: null,
            fencingToken: null,
            recoveries: orphan.recoveries + 1,
            message: clip(`interrupted: the engine running it (${engine}) stopped without finishing it; queued again to resume after its last committed batch (recovery ${orphan.recoveries + 1} of at most ${options.maxRecoveries})`),
          };
      const result = await repo
        .createQueryBuilder()
        .update()
        .set(change)
        .where({ id: orphan.id, status: 'running', recoveries: orphan.recoveries })
        .execute();
      if ((result.affected ?? 0) !== 1) continue;
      const view = { ...toView(orphan), ...change };
      (exhausted ? failed : requeued).push(view);
    }
    return { requeued, failed };
  }

  /** Runs in `statuses` of connectors an engine may run (enabled ones, those of relay groups included), oldest first. */
  private waiting(manager: EntityManager, statuses: RunStatus[], excludeConnectorIds: string[]) {
    const query = manager
      .getRepository(RunEntity)
      .createQueryBuilder('r')
      .innerJoin(ConnectorEntity, 'c', 'c.id = r.connectorId')
      .select(['r.id', 'r.connectorId', 'r.status', 'r.queuedAt'])
      .where('r.status IN (:...statuses)', { statuses })
      .andWhere('c.enabled = :enabled', { enabled: true })
      .orderBy('r.queuedAt', 'ASC')
      .addOrderBy('r.id', 'ASC');
    if (excludeConnectorIds.length > 0) query.andWhere('r.connectorId NOT IN (:...exclude)', { exclude: excludeConnectorIds });
    return query;
  }

  /** Adds one batch's counts to the run, in the batch's transaction. */
  async addCounters(tx: Transaction, runId: string, counters: RunCounters): Promise<void> {
    const entries = COUNTERS.filter((name) => (counters[name] ?? 0) !== 0);
    if (entries.length === 0) return;
    const qb = managerOf(tx).getRepository(RunEntity).createQueryBuilder().update();
    const set: Record<string, () => string> = {};
    const parameters: Record<string, number> = {};
    for (const name of entries) {
      set[name] = () => `${qb.escape(name)} + :${name}Increment`;
      parameters[`${name}Increment`] = counters[name] as number;
    }
    await qb.set(set).where({ id: runId }).setParameters(parameters).execute();
  }

  /**
   * Records per-object errors of one batch, in the batch's transaction, and
   * returns how many were new. Each error's id is derived from the run and
   * the object, so a batch read again after a crash or a retried commit
   * records (and counts) nothing twice. Two statements whatever the count:
   * which ids exist, then one multi-row insert.
   */
  async recordObjectErrors(tx: Transaction, runId: string, errors: RunObjectErrorInput[], now: Date): Promise<number> {
    if (errors.length === 0) return 0;
    const manager = managerOf(tx);
    const rows = new Map<string, RunObjectErrorEntity>();
    for (const error of errors) {
      const id = objectErrorId(runId, error);
      if (rows.has(id)) continue;
      const detail: JsonObject = {};
      if (error.objectType !== undefined) detail['objectType'] = error.objectType;
      if (error.position !== undefined) detail['position'] = error.position;
      rows.set(id, {
        id,
        runId,
        csObjectId: error.csObjectId ?? null,
        anchor: error.anchor === undefined ? null : error.anchor.slice(0, 255),
        code: error.code.slice(0, 64),
        message: clip(error.message),
        detail: Object.keys(detail).length > 0 ? detail : null,
        createdAt: now,
      });
    }
    const ids = [...rows.keys()];
    const existing = new Set<string>();
    for (const chunk of chunked(ids, rowsPerStatement(manager, 1, 10))) {
      const found = await manager.getRepository(RunObjectErrorEntity).find({ select: { id: true }, where: { id: In(chunk) } });
      for (const row of found) existing.add(row.id);
    }
    const fresh = ids.filter((id) => !existing.has(id)).map((id) => rows.get(id) as RunObjectErrorEntity);
    for (const chunk of chunked(fresh, rowsPerStatement(manager, ERROR_ROW_PARAMETERS))) await insertRows(manager, RunObjectErrorEntity, chunk);
    return fresh.length;
  }

  /**
   * Ends a run this engine runs under `fencingToken`; pass the batch's
   * transaction to make the end part of it. False when the run is no longer
   * this engine's (another engine recovered it after a lease takeover).
   */
  async finish(
    runId: string,
    engineInstanceId: string,
    fencingToken: number | null,
    outcome: { status: FinishedRunStatus; message: string | null; now: Date },
    tx?: Transaction,
  ): Promise<boolean> {
    const run = async (manager: EntityManager) => {
      const result = await manager
        .getRepository(RunEntity)
        .createQueryBuilder()
        .update()
        .set({ status: outcome.status, message: outcome.message === null ? null : clip(outcome.message), finishedAt: outcome.now })
        .where({ id: runId, engineInstanceId, status: 'running', ...(fencingToken === null ? {} : { fencingToken }) })
        .execute();
      return (result.affected ?? 0) === 1;
    };
    if (tx) return run(managerOf(tx));
    return withTransientRetry('run finish', () => run(this.dataSource.manager));
  }

  /**
   * Gives a run this engine was running back to the queue (the engine is
   * shutting down): it keeps its counters and committed batches and resumes
   * after them when an engine claims it again.
   */
  async requeue(runId: string, engineInstanceId: string, fencingToken: number | null, message: string): Promise<boolean> {
    return withTransientRetry('run requeue', async () => {
      const result = await this.dataSource
        .getRepository(RunEntity)
        .createQueryBuilder()
        .update()
        .set({ status: 'queued', engineInstanceId: null, fencingToken: null, message: clip(message) })
        .where({ id: runId, engineInstanceId, status: 'running', ...(fencingToken === null ? {} : { fencingToken }) })
        .execute();
      return (result.affected ?? 0) === 1;
    });
  }

  /**
   * An operator's approval of the deletes an export run held above its
   * connector's deletion threshold (the Admin API calls this): records who
   * and when, and queues the run again. When an engine runs it, exactly the
   * deletes this run held up to the approval go out; deletes held later need
   * an approval of their own. False when the run is not waiting for one.
   */
  async approveHeldDeletes(runId: string, approvedBy: string, now: Date): Promise<boolean> {
    return withTransientRetry('run approve deletes', () => approve(this.dataSource.manager, runId, approvedBy, now));
  }

  async listObjectErrors(runId: string, limit = 1000): Promise<RunObjectErrorView[]> {
    const rows = await this.dataSource.getRepository(RunObjectErrorEntity).find({ where: { runId }, order: { createdAt: 'ASC', id: 'ASC' }, take: limit });
    return rows.map((row) => ({ ...row }));
  }
  /** Queues a run inside `tx`, so the run and the audit entry of its trigger commit together. */
  async queueIn(tx: Transaction, input: NewRun): Promise<RunView> {
    const row = {
      id: randomUUID(),
      connectorId: input.connectorId,
      profile: input.profile,
      status: 'queued' as const,
      trigger: input.trigger,
      preview: input.preview ?? false,
      requestedBy: input.requestedBy === undefined || input.requestedBy === null ? null : input.requestedBy.slice(0, 255),
      queuedAt: input.at ?? new Date(),
    };
    const repo = managerOf(tx).getRepository(RunEntity);
    await repo.insert({ ...row });
    return toView((await repo.findOneBy({ id: row.id })) as RunEntity);
  }

  /** One run read inside `tx` (the state a change starts from). */
  async findByIdIn(tx: Transaction, id: string): Promise<RunView | null> {
    const row = await managerOf(tx).getRepository(RunEntity).findOneBy({ id });
    return row ? toView(row) : null;
  }

  /**
   * Runs newest first (by queue time, then id), optionally of one connector
   * and in some statuses, `limit` of them after `after`: a keyset page.
   */
  async list(filter: { connectorId?: string; statuses?: RunStatus[] }, page: { limit: number; after?: { queuedAt: Date; id: string } | null }): Promise<RunView[]> {
    const query = this.dataSource.getRepository(RunEntity).createQueryBuilder('r').orderBy('r.queuedAt', 'DESC').addOrderBy('r.id', 'DESC').take(page.limit);
    query.where('1 = 1');
    if (filter.connectorId) query.andWhere('r.connectorId = :connectorId', { connectorId: filter.connectorId });
    if (filter.statuses && filter.statuses.length > 0) query.andWhere('r.status IN (:...statuses)', { statuses: filter.statuses });
    if (page.after) query.andWhere('(r.queuedAt < :at OR (r.queuedAt = :at AND r.id < :id))', { at: page.after.queuedAt, id: page.after.id });
    const rows = await withTransientRetry('runs list', () => query.getMany());
    return rows.map(toView);
  }

  /** Runs of every connector counted by status, in one grouped query (metrics). */
  async countByStatus(): Promise<Record<RunStatus, number>> {
    const rows: Array<{ status: RunStatus; count: string | number }> = await this.dataSource
      .getRepository(RunEntity)
      .createQueryBuilder('r')
      .select('r.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .groupBy('r.status')
      .getRawMany();
    const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
    for (const row of rows) if (row.status in counts) counts[row.status] = Number(row.count);
    return counts;
  }

  /** Whether the connector has a run waiting or running, read inside `tx` (a connector is not deleted under its run). */
  async hasActiveRun(tx: Transaction, connectorId: string): Promise<boolean> {
    const count = await managerOf(tx).getRepository(RunEntity).countBy({ connectorId, status: In(['queued', 'running']) });
    return count > 0;
  }

  /**
   * As {@link approveHeldDeletes}, inside `tx`, so the approval and the
   * audit entry that records it commit together. False when the run is not
   * waiting for an approval.
   */
  async approveHeldDeletesIn(tx: Transaction, runId: string, approvedBy: string, now: Date): Promise<boolean> {
    return approve(managerOf(tx), runId, approvedBy, now);
  }

  /** A run's per-object errors in the order they were recorded, `limit` of them after `after` (a keyset page). */
  async listObjectErrorsPage(runId: string, page: { limit: number; after?: { createdAt: Date; id: string } | null }): Promise<RunObjectErrorView[]> {
    const query = this.dataSource
      .getRepository(RunObjectErrorEntity)
      .createQueryBuilder('e')
      .where('e.runId = :runId', { runId })
      .orderBy('e.createdAt', 'ASC')
      .addOrderBy('e.id', 'ASC')
      .take(page.limit);
    if (page.after) query.andWhere('(e.createdAt > :at OR (e.createdAt = :at AND e.id > :id))', { at: page.after.createdAt, id: page.after.id });
    const rows = await withTransientRetry('run errors list', () => query.getMany());
    return rows.map((row) => ({ ...row }));
  }

}

/** A stable id per run and object error: same run, object, place and code → same id. */
function objectErrorId(runId: string, error: RunObjectErrorInput): string {
  const hex = createHash('sha256')
    .update([runId, error.objectType ?? '', error.anchor ?? '', error.position ?? '', error.code].join('\u0000'))
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function clip(message: string): string {
  return message.length <= MESSAGE_LENGTH ? message : `${message.slice(0, MESSAGE_LENGTH - 1)}…`;
}

function toView(row: RunEntity): RunView {
  return {
    id: row.id,
    connectorId: row.connectorId,
    profile: row.profile,
    status: row.status,
    trigger: row.trigger,
    preview: Boolean(row.preview),
    requestedBy: row.requestedBy,
    engineInstanceId: row.engineInstanceId,
    fencingToken: row.fencingToken === null ? null : Number(row.fencingToken),
    added: row.added,
    updated: row.updated,
    deleted: row.deleted,
    joined: row.joined,
    projected: row.projected,
    exported: row.exported,
    errors: row.errors,
    heldDeletes: row.heldDeletes,
    recoveries: row.recoveries,
    deletesApprovedBy: row.deletesApprovedBy,
    deletesApprovedAt: row.deletesApprovedAt,
    message: row.message,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

/** The compare-and-set behind both approvals: only a run still held for approval is queued again. */
async function approve(manager: EntityManager, runId: string, approvedBy: string, now: Date): Promise<boolean> {
  const result = await manager
    .getRepository(RunEntity)
    .createQueryBuilder()
    .update()
    .set({
      status: 'queued',
      deletesApprovedBy: approvedBy.slice(0, 255),
      deletesApprovedAt: now,
      engineInstanceId: null,
      fencingToken: null,
      finishedAt: null,
      message: clip(`queued again: ${approvedBy} approved the held deletes; an engine sends them when it runs the run`),
    })
    .where({ id: runId, status: 'held-for-approval' })
    .execute();
  return (result.affected ?? 0) === 1;
}
