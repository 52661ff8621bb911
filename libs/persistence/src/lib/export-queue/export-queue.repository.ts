import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { In, IsNull, LessThanOrEqual } from 'typeorm';
import { EXPORT_STATUSES } from '@identitymesh/domain';
import type { ExportOperation, ExportStatus } from '@identitymesh/domain';
import type { JsonObject } from '../entities/column-types';
import { ConnectorSpaceObjectEntity } from '../entities/connector-space-object.entity';
import type { ExportConfirmation } from '../entities/export-queue-item.entity';
import { ExportQueueItemEntity } from '../entities/export-queue-item.entity';
import { insertRows } from '../data-source/bulk-insert';
import { chunked, driverTypeOf, rowsPerStatement } from '../data-source/dialect';
import { backoffDelay } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';
import { ExportChangeBody, mergeExportChanges } from './export-change';

/** A change the sync wants written to a connected system. */
export interface NewExportItem {
  connectorId: string;
  csObjectId: string;
  operation: ExportOperation;
  /** Plain JSON: the connector contract's ExportChange without its id (the queue item's id becomes it). */
  change: ExportChangeBody;
  /** The run that queued it. */
  runId: string;
}

/** One queue item as the engine and the Admin API see it. */
export interface ExportItemView {
  /** The export's stable id, handed to the connector with every attempt. */
  id: string;
  connectorId: string;
  csObjectId: string;
  operation: ExportOperation;
  change: ExportChangeBody;
  status: ExportStatus;
  /** Failed attempts so far (a connector that could not be reached counts none). */
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  runId: string | null;
  seq: number;
  lastAttemptAt: Date | null;
  thresholdRunId: string | null;
  confirmation: ExportConfirmation | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Where a claim resumes: after this item in queue order (createdAt, id). */
export interface ExportCursor {
  createdAt: Date;
  id: string;
}

export interface ClaimRequest {
  connectorId: string;
  operation: ExportOperation;
  /**
   * Claim the items left `in-flight` by a run that ended before recording
   * their results (its engine died, or lost its lease) instead of due pending
   * ones. Whether the system got them is unknown, so they are sent again;
   * the connector reconciles what already arrived.
   * @default false
   */
  orphans?: boolean;
  after?: ExportCursor;
  limit: number;
  now: Date;
  /**
   * For {@link ExportQueueRepository.peek} of deletes: the pending deletes no
   * export run checked against the deletion threshold yet, instead of those
   * let through. A claim never takes them.
   * @default false
   */
  uncheckedDeletes?: boolean;
  /**
   * Only items queued by `queuedBefore` and not attempted since
   * `attemptedBefore`: an export run's follow-up rounds, which send the
   * changes that waited behind another change of their object the run
   * itself sent, and nothing the run already tried (a failure waits for a
   * later run, whatever its backoff).
   */
  followUp?: { queuedBefore: Date; attemptedBefore: Date };
}

export interface ClaimedBatch {
  /** The items this claim moved to `in-flight`, in queue order. */
  items: ExportItemView[];
  /** Where the next claim of the same kind resumes; undefined when nothing was left. */
  cursor: ExportCursor | undefined;
  /** The page was full: there may be more. */
  more: boolean;
}

/**
 * Retry timing of failed exports: the n-th failure waits up to
 * `baseMs · 2^(n-1)` (at most `maxMs`), with jitter (half of it fixed,
 * half random), so retries of many objects spread out.
 */
export interface ExportBackoff {
  /** @default 30000 */
  baseMs: number;
  /** @default 3600000 */
  maxMs: number;
  /** Test seam. @default Math.random */
  random?: () => number;
}

export const DEFAULT_EXPORT_BACKOFF: ExportBackoff = { baseMs: 30_000, maxMs: 3_600_000 };

/** One failed export of a batch. */
export interface FailedExport {
  id: string;
  /** The item's failed attempts before this one. */
  attempts: number;
  /** Shown to operators as the item's lastError; the connector's code first. */
  error: string;
  /** The connector expects a later attempt to go through. A refusal waits the longest delay. */
  retryable: boolean;
}

export interface ExportResultsInput {
  succeeded: string[];
  failed: FailedExport[];
  /** The connector's `exportMaxAttempts`: the failure that reaches it parks the item. */
  maxAttempts: number;
  backoff: ExportBackoff;
  now: Date;
}

export interface RecordedFailure {
  id: string;
  status: 'pending' | 'parked';
  attempts: number;
  nextAttemptAt: Date | null;
}

/** The connector's unfinished exports by status and operation, and where its deletes stand against the deletion threshold. */
export interface ExportQueueCounts {
  pending: Record<ExportOperation, number>;
  inFlight: Record<ExportOperation, number>;
  /** Deletes waiting for an operator's approval, of any run. */
  heldDeletes: number;
  /** Pending deletes no export run checked against the deletion threshold yet. */
  uncheckedDeletes: number;
  /** Pending deletes a run let through (within the threshold, or approved). */
  admittedDeletes: number;
  parked: number;
}

/** Items a CSO still has to send (or that wait for an operator), in the order they must go. */
const OPEN_STATUSES: ExportStatus[] = ['pending', 'in-flight', 'held-for-approval'];
/** What CSO.pendingExport reflects: everything not applied yet, parked items included. */
const UNAPPLIED_STATUSES: ExportStatus[] = [...OPEN_STATUSES, 'parked'];
const ITEM_COLUMNS = 16;
const MESSAGE_LENGTH = 2000;

/**
 * `IM_ExportQueue`: the changes the engine still has to write to connected
 * systems, one item per change of one CSO.
 *
 * **Ids.** An item's id is the export's stable id: every attempt hands the
 * connector the same id, and connectors reconcile a retried change that
 * already arrived ("already-applied") instead of applying it again.
 *
 * **Order and supersede.** The items of one CSO form a chain (`seq`); an item
 * is claimed only when no older item of its CSO is still pending, in flight
 * or held, so one object's changes are applied in the order they were queued.
 * A newer change for a CSO whose newest item is pending and was never sent is
 * merged into it ({@link mergeExportChanges}): the older item becomes
 * `superseded` and one new item (new id, the older one's place in the queue)
 * carries both. A change that was sent even once is never rewritten — the
 * system may hold it, and the connector must recognise it by its content —
 * so a newer change then waits behind it as its own item. Nothing is
 * therefore sent out of order, and no content is sent under an id that
 * already carried other content.
 *
 * **Concurrency.** Every writer of a CSO's items (enqueue, claim, results)
 * first locks the CSO rows with a no-op update, so two syncs queueing for the
 * same object, or a sync and an export run, take turns per object.
 *
 * **Lifecycle.** pending → in-flight (claimed, handed to the connector) →
 * succeeded, or back to pending with backoff after a failure, or parked after
 * `exportMaxAttempts` failures (kept with its lastError; blocks nothing).
 * A delete above the deletion threshold goes pending → held-for-approval and
 * back to pending when an operator approves.
 */
export class ExportQueueRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Queues changes, set-based, in the caller's transaction (the sync's batch):
   * a few statements whatever the count — lock the CSOs, read their unapplied
   * items, supersede what merges, insert the new items, set each CSO's
   * `pendingExport` to the operation it still has to send first. Items for
   * the same CSO within one call are applied in the order given.
   */
  async enqueue(tx: Transaction, items: NewExportItem[], options: { now?: Date } = {}): Promise<void> {
    if (items.length === 0) return;
    const manager = managerOf(tx);
    const now = options.now ?? new Date();
    const csObjectIds = [...new Set(items.map((item) => item.csObjectId))];
    await this.lockRows(manager, csObjectIds);

    const chains = new Map<string, ExportQueueItemEntity[]>();
    for (const row of await this.readChains(manager, csObjectIds, UNAPPLIED_STATUSES, true)) {
      const chain = chains.get(row.csObjectId) ?? [];
      chain.push(row);
      chains.set(row.csObjectId, chain);
    }
    const stored = new Set([...chains.values()].flat().map((row) => row.id));
    const superseded: string[] = [];
    const inserts = new Map<string, ExportQueueItemEntity>();
    for (const item of items) {
      const chain = (chains.get(item.csObjectId) ?? []).sort(inChainOrder);
      const tail = chain.at(-1);
      const change = { ...item.change, kind: item.operation } as ExportChangeBody;
      const merged = tail && isMergeable(tail) ? mergeExportChanges(tail.changes as unknown as ExportChangeBody, change) : undefined;
      const row: ExportQueueItemEntity = {
        id: randomUUID(),
        connectorId: item.connectorId,
        csObjectId: item.csObjectId,
        operation: merged?.kind ?? item.operation,
        changes: (merged ?? change) as unknown as JsonObject,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: null,
        lastError: null,
        runId: item.runId,
        seq: (tail?.seq ?? 0) + 1,
        lastAttemptAt: null,
        thresholdRunId: null,
        confirmation: null,
        // A merged change keeps the older one's place in the queue.
        createdAt: merged && tail ? tail.createdAt : now,
        updatedAt: now,
      };
      if (merged && tail) {
        chain.pop();
        if (stored.has(tail.id)) superseded.push(tail.id);
        else inserts.delete(tail.id);
      }
      chain.push(row);
      chains.set(item.csObjectId, chain);
      inserts.set(row.id, row);
    }

    for (const chunk of chunked(superseded, rowsPerStatement(manager, 1, 10))) {
      const result = await manager
        .getRepository(ExportQueueItemEntity)
        .createQueryBuilder()
        .update()
        .set({ status: 'superseded', updatedAt: now })
        .where({ id: In(chunk), status: 'pending', lastAttemptAt: IsNull() })
        .execute();
      // The CSO locks above keep every other writer of these items out; a miss is a broken invariant, not a race to shrug off.
      if ((result.affected ?? chunk.length) !== chunk.length) throw new Error(`export queue: ${chunk.length - (result.affected ?? 0)} item(s) to supersede changed under the CSO lock`);
    }
    for (const chunk of chunked([...inserts.values()], rowsPerStatement(manager, ITEM_COLUMNS))) await insertRows(manager, ExportQueueItemEntity, chunk);
    const pending = new Map(csObjectIds.map((id) => [id, pendingExportOf(chains.get(id) ?? [])]));
    await this.writePendingExport(manager, pending, now);
  }

  /**
   * Claims the next page of a connector's items of one operation, in queue
   * order after `after`, and marks them `in-flight` (with `lastAttemptAt`),
   * in the caller's transaction. Pending items are claimed when due
   * (`nextAttemptAt` unset or past) and when no older item of their CSO is
   * unfinished; pending deletes only once an export run checked them against
   * the deletion threshold ({@link holdDeletes}, then {@link releaseHeldDeletes}
   * when they are within it or an operator approved them).
   * Keyset paging: a run visits each item at most once, so an item that
   * fails is not retried within the same run.
   */
  async claim(tx: Transaction, request: ClaimRequest): Promise<ClaimedBatch> {
    if (request.uncheckedDeletes) throw new Error('a delete is claimed only once an export run let it through the deletion threshold');
    const manager = managerOf(tx);
    const status: ExportStatus = request.orphans ? 'in-flight' : 'pending';
    const candidates = await this.candidates(manager, request).getMany();
    const last = candidates.at(-1);
    const cursor = last ? { createdAt: last.createdAt, id: last.id } : request.after;
    const more = candidates.length >= request.limit;
    if (candidates.length === 0) return { items: [], cursor, more: false };

    const ids = candidates.map((row) => row.id);
    await this.lockRows(manager, [...new Set(candidates.map((row) => row.csObjectId))]);
    const result = await manager
      .getRepository(ExportQueueItemEntity)
      .createQueryBuilder()
      .update()
      .set({ status: 'in-flight', lastAttemptAt: request.now, updatedAt: request.now })
      .where({ id: In(ids), status })
      .execute();
    let claimed = candidates;
    if ((result.affected ?? ids.length) !== ids.length) {
      // A sync merged some of them into newer items between the read and the lock: keep what is still ours.
      const now = await manager.getRepository(ExportQueueItemEntity).find({ select: { id: true, status: true, lastAttemptAt: true }, where: { id: In(ids) } });
      const mine = new Set(now.filter((row) => row.status === 'in-flight').map((row) => row.id));
      claimed = candidates.filter((row) => mine.has(row.id));
    }
    return { items: claimed.map((row) => toView({ ...row, status: 'in-flight', lastAttemptAt: request.now, updatedAt: request.now })), cursor, more };
  }

  /**
   * The items a claim would take, without taking them: for a preview, which
   * reports what an export run would send and writes nothing to the queue.
   */
  async peek(request: ClaimRequest): Promise<{ items: ExportItemView[]; cursor: ExportCursor | undefined; more: boolean }> {
    const rows = await this.candidates(this.dataSource.manager, request).getMany();
    const last = rows.at(-1);
    return { items: rows.map(toView), cursor: last ? { createdAt: last.createdAt, id: last.id } : request.after, more: rows.length >= request.limit };
  }

  /** The claimable items of one kind in queue order: one index range scan with a NOT EXISTS per row. */
  private candidates(manager: EntityManager, request: ClaimRequest): SelectQueryBuilder<ExportQueueItemEntity> {
    const e = (name: string) => manager.connection.driver.escape(name);
    const table = e(manager.getRepository(ExportQueueItemEntity).metadata.tableName);
    const status: ExportStatus = request.orphans ? 'in-flight' : 'pending';
    const query = manager
      .getRepository(ExportQueueItemEntity)
      .createQueryBuilder('q')
      .where(`q.${e('connectorId')} = :connectorId`, { connectorId: request.connectorId })
      .andWhere(`q.${e('status')} = :status`, { status })
      .andWhere(`q.${e('operation')} = :operation`, { operation: request.operation });
    if (!request.orphans) {
      query
        .andWhere(`(q.${e('nextAttemptAt')} IS NULL OR q.${e('nextAttemptAt')} <= :now)`, { now: request.now })
        .andWhere(
          `NOT EXISTS (SELECT 1 FROM ${table} o WHERE o.${e('csObjectId')} = q.${e('csObjectId')} AND o.${e('status')} IN (:...open) AND (o.${e('seq')} < q.${e('seq')} OR (o.${e('seq')} = q.${e('seq')} AND o.${e('id')} < q.${e('id')})))`,
          { open: OPEN_STATUSES },
        );
      if (request.operation === 'delete') query.andWhere(`q.${e('thresholdRunId')} ${request.uncheckedDeletes ? 'IS NULL' : 'IS NOT NULL'}`);
      if (request.followUp) {
        query
          .andWhere(`q.${e('createdAt')} <= :queuedBefore`, { queuedBefore: request.followUp.queuedBefore })
          .andWhere(`(q.${e('lastAttemptAt')} IS NULL OR q.${e('lastAttemptAt')} < :attemptedBefore)`, { attemptedBefore: request.followUp.attemptedBefore });
      }
    }
    if (request.after) {
      query.andWhere(`(q.${e('createdAt')} > :afterAt OR (q.${e('createdAt')} = :afterAt AND q.${e('id')} > :afterId))`, { afterAt: request.after.createdAt, afterId: request.after.id });
    }
    return query.orderBy(`q.${e('createdAt')}`, 'ASC').addOrderBy(`q.${e('id')}`, 'ASC').limit(request.limit);
  }

  /**
   * Records a batch's results in the caller's transaction: succeeded items
   * become `succeeded`; each failed one counts an attempt, keeps the error,
   * and waits with backoff — or is `parked` once its attempts reach
   * `maxAttempts`. Only items still `in-flight` change, so recording the same
   * results twice changes nothing. At most one statement for the successes
   * and one for the failures per parameter-limit chunk.
   */
  async recordResults(tx: Transaction, input: ExportResultsInput): Promise<RecordedFailure[]> {
    const manager = managerOf(tx);
    for (const chunk of chunked(input.succeeded, rowsPerStatement(manager, 1, 10))) {
      await manager
        .getRepository(ExportQueueItemEntity)
        .createQueryBuilder()
        .update()
        .set({ status: 'succeeded', lastError: null, nextAttemptAt: null, confirmation: null, updatedAt: input.now })
        .where({ id: In(chunk), status: 'in-flight' })
        .execute();
    }
    const random = input.backoff.random ?? Math.random;
    const recorded: RecordedFailure[] = input.failed.map((failure) => {
      const attempts = failure.attempts + 1;
      if (attempts >= input.maxAttempts) return { id: failure.id, status: 'parked', attempts, nextAttemptAt: null };
      const delay = failure.retryable ? backoffDelay(attempts, input.backoff.baseMs, input.backoff.maxMs, random) : input.backoff.maxMs;
      return { id: failure.id, status: 'pending', attempts, nextAttemptAt: new Date(input.now.getTime() + delay) };
    });
    const errors = new Map(input.failed.map((failure) => [failure.id, clip(failure.error)]));
    // Three CASE columns a row, two parameters each, plus the id list.
    for (const chunk of chunked(recorded, rowsPerStatement(manager, 7, 10))) await this.recordFailures(manager, chunk, errors, input.now);
    return recorded;
  }

  /**
   * Gives a batch back after a connector-level failure (the system could not
   * be reached): the items go back to pending, due again after one backoff
   * step, with the failure as their lastError. No attempt is counted — the
   * objects are not at fault — but `lastAttemptAt` stays set: the system may
   * have taken some of them before it failed, so they are never merged.
   */
  async returnToPending(tx: Transaction, ids: string[], failure: { error: string; backoff: ExportBackoff; now: Date }): Promise<number> {
    const manager = managerOf(tx);
    const delay = backoffDelay(1, failure.backoff.baseMs, failure.backoff.maxMs, failure.backoff.random ?? Math.random);
    let returned = 0;
    for (const chunk of chunked(ids, rowsPerStatement(manager, 1, 10))) {
      const result = await manager
        .getRepository(ExportQueueItemEntity)
        .createQueryBuilder()
        .update()
        .set({ status: 'pending', nextAttemptAt: new Date(failure.now.getTime() + delay), lastError: clip(failure.error), updatedAt: failure.now })
        .where({ id: In(chunk), status: 'in-flight' })
        .execute();
      returned += result.affected ?? 0;
    }
    return returned;
  }

  /** The connector's unfinished items counted by status and operation: one grouped query. */
  async counts(connectorId: string, tx?: Transaction): Promise<ExportQueueCounts> {
    const manager = tx ? managerOf(tx) : this.dataSource.manager;
    const e = (name: string) => manager.connection.driver.escape(name);
    const checked = `CASE WHEN q.${e('thresholdRunId')} IS NULL THEN 0 ELSE 1 END`;
    const rows: Array<{ status: ExportStatus; operation: ExportOperation; checked: string | number; count: string | number }> = await manager
      .getRepository(ExportQueueItemEntity)
      .createQueryBuilder('q')
      .select(`q.${e('status')}`, 'status')
      .addSelect(`q.${e('operation')}`, 'operation')
      .addSelect(checked, 'checked')
      .addSelect('COUNT(*)', 'count')
      .where(`q.${e('connectorId')} = :connectorId`, { connectorId })
      .andWhere(`q.${e('status')} IN (:...statuses)`, { statuses: UNAPPLIED_STATUSES })
      .groupBy(`q.${e('status')}`)
      .addGroupBy(`q.${e('operation')}`)
      .addGroupBy(checked)
      .getRawMany();
    const counts: ExportQueueCounts = { pending: byOperation(), inFlight: byOperation(), heldDeletes: 0, uncheckedDeletes: 0, admittedDeletes: 0, parked: 0 };
    for (const row of rows) {
      const count = Number(row.count);
      if (row.status === 'pending') {
        counts.pending[row.operation] += count;
        if (row.operation === 'delete') {
          if (Number(row.checked) === 1) counts.admittedDeletes += count;
          else counts.uncheckedDeletes += count;
        }
      } else if (row.status === 'in-flight') counts.inFlight[row.operation] += count;
      else if (row.status === 'held-for-approval') counts.heldDeletes += count;
      else if (row.status === 'parked') counts.parked += count;
    }
    return counts;
  }

  /**
   * Holds every pending delete of the connector no export run checked yet,
   * on behalf of `runId` (`held-for-approval`, `thresholdRunId`), in one
   * statement: a delete queued meanwhile is either in this set or left for
   * the next check. Nothing held is sent until {@link releaseHeldDeletes}
   * lets exactly these go — at once when they are within the threshold, or
   * after an operator's approval. Returns how many.
   */
  async holdDeletes(tx: Transaction, connectorId: string, runId: string, now: Date): Promise<number> {
    const result = await managerOf(tx)
      .getRepository(ExportQueueItemEntity)
      .createQueryBuilder()
      .update()
      .set({ status: 'held-for-approval', thresholdRunId: runId, updatedAt: now })
      .where({ connectorId, operation: 'delete', status: 'pending', thresholdRunId: IsNull() })
      .execute();
    return result.affected ?? 0;
  }

  /**
   * Lets `runId`'s held deletes go: exactly the deletes that run held (at or
   * before `heldUntil`, an approval's time, when given) become pending again,
   * due at once, and — their `thresholdRunId` kept — may be claimed.
   * Returns how many.
   */
  async releaseHeldDeletes(tx: Transaction, connectorId: string, runId: string, now: Date, heldUntil?: Date): Promise<number> {
    const result = await managerOf(tx)
      .getRepository(ExportQueueItemEntity)
      .createQueryBuilder()
      .update()
      .set({ status: 'pending', nextAttemptAt: null, updatedAt: now })
      .where({ connectorId, thresholdRunId: runId, status: 'held-for-approval', ...(heldUntil ? { updatedAt: LessThanOrEqual(heldUntil) } : {}) })
      .execute();
    return result.affected ?? 0;
  }

  /** How many deletes `runId` holds for approval now. */
  async countHeldBy(tx: Transaction, connectorId: string, runId: string): Promise<number> {
    return managerOf(tx).getRepository(ExportQueueItemEntity).countBy({ connectorId, thresholdRunId: runId, status: 'held-for-approval' });
  }

  /** Succeeded exports of these CSOs that no confirming import judged yet. */
  async awaitingConfirmation(tx: Transaction, csObjectIds: string[]): Promise<ExportItemView[]> {
    const manager = managerOf(tx);
    const rows: ExportQueueItemEntity[] = [];
    for (const chunk of chunked(csObjectIds, rowsPerStatement(manager, 1, 10))) {
      rows.push(...(await manager.getRepository(ExportQueueItemEntity).find({ where: { csObjectId: In(chunk), status: 'succeeded', confirmation: IsNull() } })));
    }
    return rows.map(toView);
  }

  /**
   * Succeeded exports of the connector waiting for confirmation whose CSO the
   * import `runId` did not see (an added object that never showed up), a page
   * at a time after `afterId`.
   */
  async awaitingConfirmationUnseen(tx: Transaction, connectorId: string, runId: string, page: { afterId?: string; limit: number }): Promise<ExportItemView[]> {
    const manager = managerOf(tx);
    const e = (name: string) => manager.connection.driver.escape(name);
    const query = manager
      .getRepository(ExportQueueItemEntity)
      .createQueryBuilder('q')
      .innerJoin(ConnectorSpaceObjectEntity, 'c', `c.${e('id')} = q.${e('csObjectId')}`)
      .where(`q.${e('connectorId')} = :connectorId`, { connectorId })
      .andWhere(`q.${e('status')} = :succeeded`, { succeeded: 'succeeded' })
      .andWhere(`q.${e('confirmation')} IS NULL`)
      .andWhere(`(c.${e('lastRunId')} IS NULL OR c.${e('lastRunId')} <> :runId)`, { runId });
    if (page.afterId) query.andWhere(`q.${e('id')} > :afterId`, { afterId: page.afterId });
    const rows = await query.orderBy(`q.${e('id')}`, 'ASC').limit(page.limit).getMany();
    return rows.map(toView);
  }

  /** A confirming import's verdicts, set-based; only items still waiting change. */
  async recordConfirmations(tx: Transaction, verdicts: { confirmed: string[]; notConfirmed: string[] }, now: Date): Promise<void> {
    const manager = managerOf(tx);
    for (const [confirmation, ids] of [
      ['confirmed', verdicts.confirmed],
      ['not-confirmed', verdicts.notConfirmed],
    ] as const) {
      for (const chunk of chunked(ids, rowsPerStatement(manager, 1, 10))) {
        await manager
          .getRepository(ExportQueueItemEntity)
          .createQueryBuilder()
          .update()
          .set({ confirmation, updatedAt: now })
          .where({ id: In(chunk), status: 'succeeded', confirmation: IsNull() })
          .execute();
      }
    }
  }

  /** Every unapplied item of these CSOs (pending, in flight, held, parked) plus `alsoIds`, in chain order. */
  async chainsOf(tx: Transaction, csObjectIds: string[], alsoIds: string[] = []): Promise<ExportItemView[]> {
    const manager = managerOf(tx);
    const rows = await this.readChains(manager, csObjectIds, UNAPPLIED_STATUSES, false);
    const have = new Set(rows.map((row) => row.id));
    const missing = alsoIds.filter((id) => !have.has(id));
    for (const chunk of chunked(missing, rowsPerStatement(manager, 1, 10))) rows.push(...(await manager.getRepository(ExportQueueItemEntity).findBy({ id: In(chunk) })));
    return rows.sort(inChainOrder).map(toView);
  }

  async findById(id: string): Promise<ExportItemView | null> {
    const row = await this.dataSource.getRepository(ExportQueueItemEntity).findOneBy({ id });
    return row ? toView(row) : null;
  }

  /** A connector's items (of one status when given) in queue order, a page at a time. */
  async list(connectorId: string, options: { status?: ExportStatus; csObjectId?: string; offset?: number; limit?: number } = {}): Promise<ExportItemView[]> {
    const rows = await this.dataSource.getRepository(ExportQueueItemEntity).find({
      where: { connectorId, ...(options.status ? { status: options.status } : {}), ...(options.csObjectId ? { csObjectId: options.csObjectId } : {}) },
      order: { createdAt: 'ASC', seq: 'ASC', id: 'ASC' },
      skip: options.offset ?? 0,
      take: options.limit ?? 1000,
    });
    return rows.map(toView);
  }

  /** The items of one CSO, newest first (by chain order), at most `limit`: what an operator looks at for one object. */
  async listForObject(csObjectId: string, limit: number): Promise<ExportItemView[]> {
    const rows = await this.dataSource.getRepository(ExportQueueItemEntity).find({ where: { csObjectId }, order: { seq: 'DESC', id: 'DESC' }, take: limit });
    return rows.map(toView);
  }

  /** Items of every connector counted by status, in one grouped query (metrics). */
  async countByStatus(): Promise<Record<ExportStatus, number>> {
    const rows: Array<{ status: ExportStatus; count: string | number }> = await this.dataSource
      .getRepository(ExportQueueItemEntity)
      .createQueryBuilder('q')
      .select('q.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .groupBy('q.status')
      .getRawMany();
    const counts = Object.fromEntries(EXPORT_STATUSES.map((status) => [status, 0])) as Record<ExportStatus, number>;
    for (const row of rows) if (row.status in counts) counts[row.status] = Number(row.count);
    return counts;
  }

  /**
   * Takes the locks of CSO rows without changing them, in the caller's
   * transaction: what every writer of a CSO's queue items does first (see
   * the class comment). An export run calls it before it records results.
   */
  async lockObjects(tx: Transaction, csObjectIds: string[]): Promise<void> {
    await this.lockRows(managerOf(tx), [...new Set(csObjectIds)]);
  }

  private async lockRows(manager: EntityManager, csObjectIds: string[]): Promise<void> {
    for (const chunk of chunked(csObjectIds, rowsPerStatement(manager, 1, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      await qb
        .set({ pendingExport: () => qb.escape('pendingExport') })
        .where({ id: In(chunk) })
        .execute();
    }
  }

  private async readChains(manager: EntityManager, csObjectIds: string[], statuses: ExportStatus[], latest: boolean): Promise<ExportQueueItemEntity[]> {
    const rows: ExportQueueItemEntity[] = [];
    for (const chunk of chunked(csObjectIds, rowsPerStatement(manager, 1, 10))) {
      const query = manager.getRepository(ExportQueueItemEntity).createQueryBuilder('q').where({ csObjectId: In(chunk), status: In(statuses) });
      // InnoDB's repeatable read would answer from the snapshot of the caller's first read; a locking read sees what committed since.
      if (latest && (driverTypeOf(manager) === 'mysql' || driverTypeOf(manager) === 'mariadb')) query.setLock('pessimistic_read');
      rows.push(...(await query.getMany()));
    }
    return rows;
  }

  private async writePendingExport(manager: EntityManager, pending: Map<string, ExportOperation | null>, now: Date): Promise<void> {
    const entries = [...pending.entries()];
    for (const chunk of chunked(entries, rowsPerStatement(manager, 2, 10))) {
      const qb = manager.getRepository(ConnectorSpaceObjectEntity).createQueryBuilder().update();
      const id = qb.escape('id');
      const parameters: Record<string, unknown> = {};
      chunk.forEach(([csObjectId, operation], index) => {
        parameters[`o${index}`] = csObjectId;
        parameters[`p${index}`] = operation;
      });
      await qb
        .set({ pendingExport: () => `CASE ${id} ${chunk.map((_, index) => `WHEN :o${index} THEN :p${index}`).join(' ')} END`, updatedAt: now })
        .where({ id: In(chunk.map(([csObjectId]) => csObjectId)) })
        .setParameters(parameters)
        .execute();
    }
  }

  /**
   * One UPDATE for the failed rows: status, next attempt and error each a
   * CASE over their ids, every attempt count + 1. Only rows still in flight
   * change, so a repeat changes nothing.
   */
  private async recordFailures(manager: EntityManager, rows: RecordedFailure[], errors: Map<string, string | null>, now: Date): Promise<void> {
    if (rows.length === 0) return;
    const repository = manager.getRepository(ExportQueueItemEntity);
    const nextAttemptColumn = repository.metadata.findColumnWithPropertyName('nextAttemptAt');
    const qb = repository.createQueryBuilder().update();
    const id = qb.escape('id');
    // PostgreSQL types a CASE of untyped parameters as text, which a timestamp column refuses.
    const timestamp = (placeholder: string) => (driverTypeOf(manager) === 'postgres' ? `CAST(${placeholder} AS timestamp)` : placeholder);
    const parameters: Record<string, unknown> = {};
    rows.forEach((row, index) => {
      parameters[`r${index}`] = row.id;
      parameters[`s${index}`] = row.status;
      parameters[`n${index}`] = nextAttemptColumn ? manager.connection.driver.preparePersistentValue(row.nextAttemptAt, nextAttemptColumn) : row.nextAttemptAt;
      parameters[`e${index}`] = errors.get(row.id) ?? null;
    });
    const when = (value: (index: number) => string) => `CASE ${id} ${rows.map((_, index) => `WHEN :r${index} THEN ${value(index)}`).join(' ')} END`;
    await qb
      .set({
        status: () => when((index) => `:s${index}`),
        nextAttemptAt: () => when((index) => timestamp(`:n${index}`)),
        lastError: () => when((index) => `:e${index}`),
        attempts: () => `${qb.escape('attempts')} + 1`,
        updatedAt: now,
      })
      .where({ id: In(rows.map((row) => row.id)), status: 'in-flight' })
      .setParameters(parameters)
      .execute();
  }
}

/**
 * The operation a CSO still has to send first — that of its oldest unapplied
 * item (pending, in flight, held or parked) — or null when none is left:
 * what `IM_ConnectorSpaceObjects.pendingExport` holds.
 */
export function pendingExportOf(items: ReadonlyArray<{ status: ExportStatus; operation: ExportOperation; seq: number; id: string }>): ExportOperation | null {
  const unapplied = items.filter((item) => UNAPPLIED_STATUSES.includes(item.status)).sort(inChainOrder);
  return unapplied[0]?.operation ?? null;
}

function inChainOrder(a: { seq: number; id: string }, b: { seq: number; id: string }): number {
  return a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A newer change may be merged only into a pending item never handed to the connector and not checked against the deletion threshold. */
function isMergeable(row: ExportQueueItemEntity): boolean {
  return row.status === 'pending' && row.lastAttemptAt === null && row.thresholdRunId === null;
}

function byOperation(): Record<ExportOperation, number> {
  return { add: 0, update: 0, delete: 0, rename: 0 };
}

function clip(message: string): string {
  return message.length <= MESSAGE_LENGTH ? message : `${message.slice(0, MESSAGE_LENGTH - 1)}…`;
}

function toView(row: ExportQueueItemEntity): ExportItemView {
  return {
    id: row.id,
    connectorId: row.connectorId,
    csObjectId: row.csObjectId,
    operation: row.operation,
    change: row.changes as unknown as ExportChangeBody,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt,
    lastError: row.lastError,
    runId: row.runId,
    seq: row.seq,
    lastAttemptAt: row.lastAttemptAt,
    thresholdRunId: row.thresholdRunId,
    confirmation: row.confirmation,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
