import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { In, IsNull, LessThan, LessThanOrEqual, MoreThan, Not } from 'typeorm';
import type { RelayWorkKind, RelayWorkStatus } from '@identitymesh/domain';
import { insertRows } from '../data-source/bulk-insert';
import { chunked, isUniqueViolation, rowsPerStatement } from '../data-source/dialect';
import type { JsonObject } from '../entities/column-types';
import { RelayBatchPartEntity } from '../entities/relay-batch-part.entity';
import { RelayItemPartEntity, type RelayItemPartField } from '../entities/relay-item-part.entity';
import { RelayResultBatchEntity } from '../entities/relay-result-batch.entity';
import { RelayWorkItemEntity } from '../entities/relay-work-item.entity';
import { RelayEntity } from '../entities/relay.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';
import { RelayBatchNotStagedError } from './relay.errors';

export interface RelayWorkItemView {
  id: string;
  relayGroup: string;
  connectorId: string | null;
  runId: string | null;
  workKey: string | null;
  kind: RelayWorkKind;
  payload: JsonObject;
  status: RelayWorkStatus;
  /** The relay that holds (or last held) the item. */
  relayId: string | null;
  /** Deliveries so far; the current delivery's attempt number. */
  attempts: number;
  deadlineAt: Date;
  result: JsonObject | null;
  resultAppliedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewRelayWorkItem {
  relayGroup: string;
  connectorId: string | null;
  runId: string | null;
  workKey: string | null;
  kind: RelayWorkKind;
  payload: JsonObject;
  deadlineAt: Date;
}

export interface StagedImportBatch {
  seq: number;
  payload: JsonObject;
  isLast: boolean;
}

export interface RelayClaimOptions {
  /** Items to return at most, replays included. */
  max: number;
  /** A relay not seen since then is gone: the items it holds may be claimed by another relay of its group. */
  staleBefore: Date;
}

/** Items a relay may still work on. */
const OPEN: RelayWorkStatus[] = ['queued', 'delivered', 'running'];
/** Statuses an item ends in; only these are ever purged. */
const CLOSED: RelayWorkStatus[] = ['done', 'failed', 'expired'];
/** Items a relay holds. */
const HELD: RelayWorkStatus[] = ['delivered', 'running'];
/** Items a relay finished. */
const FINISHED: RelayWorkStatus[] = ['done', 'failed'];

/**
 * UTF-16 units of a batch's JSON text per stored piece. JSON-quoted, a unit
 * takes at most 6 bytes (an escape such as \u0001), so a piece stays below
 * the 64 KiB of a MariaDB/MySQL TEXT column whatever it holds.
 */
export const BATCH_PART_LENGTH = 10_000;

/** Pieces per INSERT: at most ~4 MB of statement, below MariaDB's default max_allowed_packet (16 MB). */
const PARTS_PER_STATEMENT = 64;

/**
 * UTF-16 units of JSON text a work item keeps in its own payload or result
 * column; longer text goes to `IM_RelayItemParts`. A unit of JSON text takes
 * at most 3 bytes in UTF-8 (JSON.stringify escapes lone surrogates), so
 * 48,000 bytes at most: well inside a MariaDB/MySQL TEXT column (64 KiB).
 */
export const INLINE_JSON_LENGTH = 16_000;

/** The key of what a payload or result column holds when its value is kept in pieces: `{"$parts": <count>}`. */
const PARTS_KEY = '$parts';

/**
 * `IM_RelayWorkItems` and the import batches relays stream back for them.
 *
 * **Lifecycle.** queued → delivered (a relay claimed it: `relayId` set,
 * `attempts` + 1) → running (the relay started it) → done | failed (the
 * relay's result). Any open item past `deadlineAt` becomes expired, and
 * nothing about it is claimed, staged or completed from then on, whatever
 * the clock of the hub that last looked.
 *
 * **Claims** are compare-and-set on `attempts`, which every claim increments:
 * two hubs (or two relays) claiming the same item at once never both get it,
 * and every message a relay sends about an item carries the attempt it
 * belongs to, so a relay that lost its claim is refused instead of mixing
 * two deliveries' results.
 *
 * **Import batches** are staged by the hub once each (primary key item +
 * seq) and applied by the engine in its batch transaction, which marks them
 * applied exactly once. The batch content is kept in pieces
 * (`IM_RelayBatchParts`) until it is applied.
 *
 * **Payloads and results** of any size: JSON text up to
 * {@link INLINE_JSON_LENGTH} stays in the item's column, longer text is kept
 * in pieces (`IM_RelayItemParts`, written in the transaction that writes the
 * column, deleted with the item) and the column holds `{"$parts": <count>}`.
 * Callers only ever see the whole value.
 */
export class RelayWorkQueueRepository {
  constructor(private readonly dataSource: DataSource) {}

  async enqueue(input: NewRelayWorkItem, now: Date): Promise<RelayWorkItemView> {
    const payload = storedJson(input.payload);
    const row: RelayWorkItemEntity = {
      id: randomUUID(),
      relayGroup: input.relayGroup,
      connectorId: input.connectorId,
      runId: input.runId,
      workKey: input.workKey,
      kind: input.kind,
      payload: payload.column,
      status: 'queued',
      relayId: null,
      attempts: 0,
      deadlineAt: input.deadlineAt,
      result: null,
      resultAppliedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(RelayWorkItemEntity).insert({ ...row });
      await insertItemParts(manager, row.id, 'payload', payload.parts);
    });
    return toView({ ...row, payload: input.payload });
  }

  async get(itemId: string): Promise<RelayWorkItemView | null> {
    return withTransientRetry('relay work get', async () => {
      const manager = this.dataSource.manager;
      return viewOf(manager, await manager.getRepository(RelayWorkItemEntity).findOneBy({ id: itemId }));
    });
  }

  /**
   * The newest item of a run and kind that is not expired and, for imports,
   * whose last batch is not applied yet: a resumed run goes on with it.
   */
  async findForRun(connectorId: string, runId: string, kind: RelayWorkKind): Promise<RelayWorkItemView | null> {
    const query = this.dataSource
      .getRepository(RelayWorkItemEntity)
      .createQueryBuilder('i')
      .where('i.connectorId = :connectorId', { connectorId })
      .andWhere('i.runId = :runId', { runId })
      .andWhere('i.kind = :kind', { kind })
      .andWhere('i.status <> :expired', { expired: 'expired' })
      .orderBy('i.createdAt', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .limit(1);
    if (kind === 'import') {
      const applied = query
        .subQuery()
        .select('1')
        .from(RelayResultBatchEntity, 'b')
        .where('b.workItemId = i.id')
        .andWhere('b.isLast = :yes')
        .andWhere('b.appliedAt IS NOT NULL')
        .getQuery();
      query.andWhere(`NOT EXISTS ${applied}`, { yes: true });
    }
    return withTransientRetry('relay work find for run', async () => viewOf(this.dataSource.manager, await query.getOne()));
  }

  /**
   * The newest export item with this workKey whose result was not applied
   * yet and that can still deliver one (not failed, not expired): the same
   * export batch sent again after an engine restart waits for it instead of
   * sending the changes twice.
   */
  async findUnappliedByKey(connectorId: string, workKey: string): Promise<RelayWorkItemView | null> {
    return withTransientRetry('relay work find by key', async () => {
      const manager = this.dataSource.manager;
      const row = await manager.getRepository(RelayWorkItemEntity).findOne({
        where: { connectorId, workKey, kind: 'export', resultAppliedAt: IsNull(), status: Not(In(['failed', 'expired'])) },
        order: { createdAt: 'DESC', id: 'DESC' },
      });
      return viewOf(manager, row);
    });
  }

  /**
   * Items for one relay, at most `max`: first those it already holds
   * (delivered or running; sent again after a reconnect, attempts unchanged),
   * then new claims from its group in queue order: queued items, and items
   * held by a relay not seen since `staleBefore` (or revoked) — that relay is
   * gone and its claim moves. A claim sets relayId and status delivered and
   * adds one to attempts, compare-and-set on the attempts read, in one
   * statement. Past-deadline items are skipped. A revoked relay, or one not
   * of `relayGroup`, gets nothing.
   *
   * The claim takes the relay's row lock first, so claims for one relay
   * (two pulls arriving at once) take turns and each returns exactly the
   * items it claimed.
   */
  async claim(relayId: string, relayGroup: string, options: RelayClaimOptions, now: Date): Promise<RelayWorkItemView[]> {
    if (options.max < 1) return [];
    return withTransientRetry('relay work claim', () =>
      this.dataSource.transaction(async (manager) => {
        const relays = manager.getRepository(RelayEntity).createQueryBuilder().update();
        // A no-op write: it locks the relay's row (MySQL's affected rows count matched rows because mysql2 sets FOUND_ROWS).
        const own = await relays
          .set({ status: () => relays.escape('status') })
          .where({ id: relayId, relayGroup, status: 'active' })
          .execute();
        if ((own.affected ?? 0) !== 1) return [];

        const items = manager.getRepository(RelayWorkItemEntity);
        const replay = await items.find({
          where: { relayId, relayGroup, status: In(HELD), deadlineAt: MoreThan(now) },
          order: { createdAt: 'ASC', id: 'ASC' },
          take: options.max,
        });
        const room = options.max - replay.length;
        if (room <= 0) return viewsOf(manager, replay);

        const candidates = await this.claimable(manager, relayGroup, options.staleBefore, now)
          .andWhere('(i.relayId IS NULL OR i.relayId <> :relayId)', { relayId })
          .orderBy('i.createdAt', 'ASC')
          .addOrderBy('i.id', 'ASC')
          .limit(room)
          .getMany();
        if (candidates.length === 0) return viewsOf(manager, replay);

        const update = items.createQueryBuilder().update();
        const e = (name: string) => update.escape(name);
        const seen: Record<string, unknown> = {};
        const cas = candidates.map((item, index) => {
          seen[`c${index}`] = item.id;
          seen[`a${index}`] = item.attempts;
          return `(${e('id')} = :c${index} AND ${e('attempts')} = :a${index})`;
        });
        // The claimable test again, inside the statement: a holder seen or an item finished meanwhile is not taken.
        await update
          .set({ relayId, status: 'delivered', attempts: () => `${e('attempts')} + 1`, updatedAt: now })
          .where(`(${cas.join(' OR ')})`, seen)
          .andWhere(`${e('deadlineAt')} > :now`, { now })
          .andWhere(`(${e('status')} = :queued OR (${e('status')} IN (:...held) AND ${goneHolder(update, `${e('IM_RelayWorkItems')}.${e('relayId')}`)}))`, {
            queued: 'queued',
            held: HELD,
            active: 'active',
            staleBefore: options.staleBefore,
          })
          .execute();
        const after = new Map((await items.findBy({ id: In(candidates.map((item) => item.id)), relayId })).map((row) => [row.id, row]));
        const claimed = candidates.flatMap((item) => {
          const row = after.get(item.id);
          return row && row.attempts === item.attempts + 1 && row.status === 'delivered' ? [row] : [];
        });
        return viewsOf(manager, [...replay, ...claimed]);
      }),
    );
  }

  /** delivered → running, when the item is held by `relayId` at `attempt` and not past its deadline; false otherwise. */
  async markRunning(itemId: string, relayId: string, attempt: number, now: Date): Promise<boolean> {
    const result = await withTransientRetry('relay work started', () =>
      this.dataSource
        .getRepository(RelayWorkItemEntity)
        .createQueryBuilder()
        .update()
        .set({ status: 'running', updatedAt: now })
        .where({ id: itemId, relayId, attempts: attempt, status: 'delivered', deadlineAt: MoreThan(now) })
        .execute(),
    );
    return (result.affected ?? 0) === 1;
  }

  /**
   * Stores one import batch of an item that `relayId` holds at `attempt` and
   * whose deadline has not passed. The item's row is locked first, so stages
   * of one item take turns; (item, seq) already stored is `duplicate`
   * (acknowledge it, nothing changes), and the primary key is the last word
   * should two stages of one seq ever meet.
   */
  async stageImportBatch(itemId: string, relayId: string, attempt: number, batch: StagedImportBatch, now: Date): Promise<'staged' | 'duplicate' | 'not-yours' | 'closed'> {
    try {
      return await withTransientRetry('relay batch stage', () =>
        this.dataSource.transaction(async (manager) => {
          const refusal = await lockHeldItem(manager, itemId, relayId, attempt, now);
          if (refusal) return refusal;
          const batches = manager.getRepository(RelayResultBatchEntity);
          if (await batches.existsBy({ workItemId: itemId, batchSeq: batch.seq })) return 'duplicate';
          await batches.insert({ workItemId: itemId, batchSeq: batch.seq, isLast: batch.isLast, stagedAt: now, appliedAt: null });
          const parts = splitJson(batch.payload).map((content, part): RelayBatchPartEntity => ({ workItemId: itemId, batchSeq: batch.seq, part, content }));
          for (const chunk of chunked(parts, rowsPerStatement(manager, 4, 0, PARTS_PER_STATEMENT))) await insertRows(manager, RelayBatchPartEntity, chunk);
          return 'staged' as const;
        }),
      );
    } catch (error) {
      // Outside the transaction: PostgreSQL refuses every statement after a failed one.
      if (isUniqueViolation(error)) return 'duplicate';
      throw error;
    }
  }

  /** Batches staged and not applied yet: the hub holds a relay's next batch while there are too many. */
  async unappliedBatchCount(itemId: string): Promise<number> {
    return withTransientRetry('relay batch count', () => this.dataSource.getRepository(RelayResultBatchEntity).countBy({ workItemId: itemId, appliedAt: IsNull() }));
  }

  /** The staged batch `seq` if it is there and not applied yet. */
  async stagedBatch(itemId: string, seq: number): Promise<StagedImportBatch | null> {
    return withTransientRetry('relay batch read', async () => {
      const manager = this.dataSource.manager;
      const batch = await manager.getRepository(RelayResultBatchEntity).findOneBy({ workItemId: itemId, batchSeq: seq, appliedAt: IsNull() });
      if (!batch) return null;
      const parts = await manager.getRepository(RelayBatchPartEntity).find({ where: { workItemId: itemId, batchSeq: seq }, order: { part: 'ASC' } });
      return { seq, isLast: Boolean(batch.isLast), payload: JSON.parse(parts.map((part) => part.content).join('')) as JsonObject };
    });
  }

  /**
   * How far an item's stream got: the highest seq applied and the highest
   * staged (0 when none), and whether its last batch (the one marked last)
   * is applied.
   */
  async batchProgress(itemId: string): Promise<{ lastApplied: number; lastStaged: number; lastIsApplied: boolean }> {
    const row = await withTransientRetry('relay batch progress', () =>
      this.dataSource
        .getRepository(RelayResultBatchEntity)
        .createQueryBuilder('b')
        .select('MAX(b.batchSeq)', 'lastStaged')
        .addSelect('MAX(CASE WHEN b.appliedAt IS NOT NULL THEN b.batchSeq ELSE 0 END)', 'lastApplied')
        .addSelect('MAX(CASE WHEN b.isLast = :yes AND b.appliedAt IS NOT NULL THEN 1 ELSE 0 END)', 'lastIsApplied')
        .where('b.workItemId = :itemId', { itemId, yes: true })
        .getRawOne<{ lastStaged: unknown; lastApplied: unknown; lastIsApplied: unknown }>(),
    );
    return { lastStaged: Number(row?.lastStaged ?? 0), lastApplied: Number(row?.lastApplied ?? 0), lastIsApplied: Number(row?.lastIsApplied ?? 0) === 1 };
  }

  /**
   * In the engine's batch transaction: marks the staged batch applied and
   * drops its content. Throws {@link RelayBatchNotStagedError} when it was
   * applied already or never staged; the transaction then rolls back, so a
   * batch is never applied twice.
   */
  async markBatchApplied(tx: Transaction, itemId: string, seq: number, now: Date): Promise<void> {
    const manager = managerOf(tx);
    const batches = manager.getRepository(RelayResultBatchEntity);
    const result = await batches.createQueryBuilder().update().set({ appliedAt: now }).where({ workItemId: itemId, batchSeq: seq, appliedAt: IsNull() }).execute();
    if ((result.affected ?? 0) !== 1) {
      const applied = await batches.existsBy({ workItemId: itemId, batchSeq: seq });
      throw new RelayBatchNotStagedError(itemId, seq, applied ? 'applied' : 'missing');
    }
    await manager.getRepository(RelayBatchPartEntity).delete({ workItemId: itemId, batchSeq: seq });
  }

  /**
   * The relay's end of an item: done or failed with its result, when
   * `relayId` holds it at `attempt` and its deadline has not passed.
   * `duplicate` when that same delivery already ended it (the relay sent its
   * result again after a lost acknowledgement); nothing changes then. A
   * result kept in pieces is written in the transaction of the status change,
   * so a refused result leaves nothing behind.
   */
  async complete(itemId: string, relayId: string, attempt: number, status: 'done' | 'failed', result: JsonObject, now: Date): Promise<'completed' | 'duplicate' | 'not-yours' | 'closed'> {
    const items = this.dataSource.getRepository(RelayWorkItemEntity);
    const stored = storedJson(result);
    const completed = await withTransientRetry('relay work complete', () =>
      this.dataSource.transaction(async (manager) => {
        const update = await manager
          .getRepository(RelayWorkItemEntity)
          .createQueryBuilder()
          .update()
          .set({ status, result: stored.column, updatedAt: now })
          .where({ id: itemId, relayId, attempts: attempt, status: In(HELD), deadlineAt: MoreThan(now) })
          .execute();
        if ((update.affected ?? 0) !== 1) return false;
        await insertItemParts(manager, itemId, 'result', stored.parts);
        return true;
      }),
    );
    if (completed) return 'completed';
    const item = await withTransientRetry('relay work get', () => items.findOneBy({ id: itemId }));
    if (!item || item.relayId !== relayId) return 'not-yours';
    if (item.attempts === attempt && FINISHED.includes(item.status)) return 'duplicate';
    return 'closed';
  }

  /** Sets resultAppliedAt once; false when it was set already. */
  async markResultApplied(itemId: string, now: Date): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(RelayWorkItemEntity)
      .createQueryBuilder()
      .update()
      .set({ resultAppliedAt: now, updatedAt: now })
      .where({ id: itemId, resultAppliedAt: IsNull() })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Open items (queued, delivered, running) past their deadline become expired, in one statement; returns how many. */
  async expireOverdue(now: Date): Promise<number> {
    const result = await withTransientRetry('relay work expire', () =>
      this.dataSource
        .getRepository(RelayWorkItemEntity)
        .createQueryBuilder()
        .update()
        .set({ status: 'expired', updatedAt: now })
        .where({ status: In(OPEN), deadlineAt: LessThanOrEqual(now) })
        .execute(),
    );
    return result.affected ?? 0;
  }

  /**
   * Deletes up to `limit` items that closed (done, failed, expired) before
   * `closedBefore`, their staged batches and all pieces with them (the
   * foreign keys cascade). Bounded, so a large backlog is worked off over several
   * calls instead of in one long transaction. Returns how many it deleted.
   */
  async purgeClosed(closedBefore: Date, limit = 500): Promise<number> {
    const ids = await withTransientRetry('relay work purge', () =>
      this.dataSource
        .getRepository(RelayWorkItemEntity)
        .find({ select: { id: true }, where: { status: In(CLOSED), updatedAt: LessThan(closedBefore) }, order: { updatedAt: 'ASC' }, take: limit }),
    );
    if (ids.length === 0) return 0;
    let deleted = 0;
    for (const chunk of chunked(ids.map((row) => row.id), rowsPerStatement(this.dataSource, 1, 8))) {
      const result = await withTransientRetry('relay work purge', () =>
        this.dataSource.getRepository(RelayWorkItemEntity).createQueryBuilder().delete().where({ id: In(chunk), status: In(CLOSED) }).execute(),
      );
      deleted += result.affected ?? chunk.length;
    }
    return deleted;
  }

  /** The groups among `groups` with work a relay could claim now (queued, or held by a gone relay), for the hub's poll. */
  async groupsWithClaimableWork(groups: string[], staleBefore: Date, now: Date): Promise<string[]> {
    const wanted = [...new Set(groups)];
    if (wanted.length === 0) return [];
    const found = new Set<string>();
    for (const chunk of chunked(wanted, rowsPerStatement(this.dataSource, 1, 8))) {
      const rows = await withTransientRetry('relay work groups', () =>
        this.claimable(this.dataSource.manager, null, staleBefore, now)
          .andWhere('i.relayGroup IN (:...groups)', { groups: chunk })
          .select('i.relayGroup', 'relayGroup')
          .distinct(true)
          .getRawMany<{ relayGroup: string }>(),
      );
      for (const row of rows) found.add(row.relayGroup);
    }
    return wanted.filter((group) => found.has(group));
  }

  /** Open items by group and status, for gauges and the relay list. */
  async openCounts(): Promise<Array<{ relayGroup: string; status: RelayWorkStatus; count: number }>> {
    const rows = await withTransientRetry('relay work counts', () =>
      this.dataSource
        .getRepository(RelayWorkItemEntity)
        .createQueryBuilder('i')
        .select('i.relayGroup', 'relayGroup')
        .addSelect('i.status', 'status')
        .addSelect('COUNT(*)', 'count')
        .where('i.status IN (:...open)', { open: OPEN })
        .groupBy('i.relayGroup')
        .addGroupBy('i.status')
        .orderBy('i.relayGroup', 'ASC')
        .addOrderBy('i.status', 'ASC')
        .getRawMany<{ relayGroup: string; status: RelayWorkStatus; count: unknown }>(),
    );
    return rows.map((row) => ({ relayGroup: row.relayGroup, status: row.status, count: Number(row.count) }));
  }

  /** Items (alias `i`) a relay of the group could claim: queued, or held by a relay that is gone; deadline not passed. */
  private claimable(manager: EntityManager, relayGroup: string | null, staleBefore: Date, now: Date): SelectQueryBuilder<RelayWorkItemEntity> {
    const query = manager.getRepository(RelayWorkItemEntity).createQueryBuilder('i').where('i.deadlineAt > :now', { now });
    if (relayGroup !== null) query.andWhere('i.relayGroup = :relayGroup', { relayGroup });
    return query.andWhere(`(i.status = :queued OR (i.status IN (:...held) AND ${goneHolder(query, query.escape('i') + '.' + query.escape('relayId'))}))`, {
      queued: 'queued',
      held: HELD,
      active: 'active',
      staleBefore,
    });
  }
}

/**
 * SQL that is true when the relay `holderColumn` names is gone: revoked,
 * deleted, or not seen since `:staleBefore` (parameters `active`,
 * `staleBefore`).
 */
function goneHolder(query: { escape(name: string): string }, holderColumn: string): string {
  const e = (name: string) => query.escape(name);
  return `NOT EXISTS (SELECT 1 FROM ${e('IM_Relays')} ${e('r')} WHERE ${e('r')}.${e('id')} = ${holderColumn} AND ${e('r')}.${e('status')} = :active AND ${e('r')}.${e('lastSeenAt')} >= :staleBefore)`;
}

/**
 * Inside a stage's transaction: locks the item's row when `relayId` holds it
 * at `attempt` before its deadline, or tells why not.
 */
async function lockHeldItem(manager: EntityManager, itemId: string, relayId: string, attempt: number, now: Date): Promise<'not-yours' | 'closed' | null> {
  const items = manager.getRepository(RelayWorkItemEntity);
  const qb = items.createQueryBuilder().update();
  // A no-op write that locks the row (MySQL's affected rows count matched rows because mysql2 sets FOUND_ROWS).
  const locked = await qb
    .set({ attempts: () => qb.escape('attempts') })
    .where({ id: itemId, relayId, attempts: attempt, status: In(HELD), deadlineAt: MoreThan(now) })
    .execute();
  if ((locked.affected ?? 0) === 1) return null;
  const item = await items.findOneBy({ id: itemId });
  return !item || item.relayId !== relayId ? 'not-yours' : 'closed';
}

/** The JSON text of `value` in pieces of at most BATCH_PART_LENGTH units; a surrogate pair may be cut, each piece is stored JSON-quoted. */
export function splitJson(value: JsonObject): string[] {
  return splitText(JSON.stringify(value));
}

function splitText(text: string): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += BATCH_PART_LENGTH) parts.push(text.slice(start, start + BATCH_PART_LENGTH));
  return parts.length > 0 ? parts : [text];
}

/** A payload or result as its column holds it, and the pieces it is kept in (none when it fits the column). */
interface StoredJson {
  column: JsonObject;
  parts: string[];
}

/**
 * How `value` is stored: in the column when its JSON text is short, else in
 * pieces. A value that looks like the marker itself always goes to pieces,
 * so a marker in a column is never a caller's value.
 */
function storedJson(value: JsonObject): StoredJson {
  const text = JSON.stringify(value);
  if (text.length <= INLINE_JSON_LENGTH && partsCount(value) === null) return { column: value, parts: [] };
  const parts = splitText(text);
  return { column: { [PARTS_KEY]: parts.length }, parts };
}

/** The piece count when `value` is the marker of a value kept in pieces; null otherwise. */
function partsCount(value: JsonObject | null): number | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  const count = value[PARTS_KEY];
  return keys.length === 1 && typeof count === 'number' && Number.isInteger(count) ? count : null;
}

/** Inside the transaction that writes the item's column: its pieces, in a few multi-row statements. */
async function insertItemParts(manager: EntityManager, workItemId: string, field: RelayItemPartField, parts: string[]): Promise<void> {
  const rows = parts.map((content, part): RelayItemPartEntity => ({ workItemId, field, part, content }));
  for (const chunk of chunked(rows, rowsPerStatement(manager, 4, 0, PARTS_PER_STATEMENT))) await insertRows(manager, RelayItemPartEntity, chunk);
}

async function viewOf(manager: EntityManager, row: RelayWorkItemEntity | null): Promise<RelayWorkItemView | null> {
  if (!row) return null;
  const [view] = await viewsOf(manager, [row]);
  return view ?? null;
}

/**
 * The views of `rows`, payloads and results kept in pieces assembled: the
 * pieces of all such items in one query per chunk of items. An item deleted
 * (purged) between reading its row and its pieces is left out, as if it had
 * been read after the delete; pieces missing from an item that is still there
 * are a fault and throw.
 */
async function viewsOf(manager: EntityManager, rows: RelayWorkItemEntity[]): Promise<RelayWorkItemView[]> {
  const pieced = rows.filter((row) => partsCount(row.payload) !== null || partsCount(row.result) !== null).map((row) => row.id);
  if (pieced.length === 0) return rows.map(toView);
  const pieces = new Map<string, string[]>();
  for (const chunk of chunked(pieced, rowsPerStatement(manager, 1, 8))) {
    for (const piece of await manager.getRepository(RelayItemPartEntity).findBy({ workItemId: In(chunk) })) {
      const key = `${piece.workItemId}/${piece.field}`;
      const list = pieces.get(key) ?? [];
      list[piece.part] = piece.content;
      pieces.set(key, list);
    }
  }
  const incomplete = new Set<string>();
  const assemble = (row: RelayWorkItemEntity, field: RelayItemPartField): JsonObject | null => {
    const value = row[field];
    const count = partsCount(value);
    if (count === null) return value;
    const list = pieces.get(`${row.id}/${field}`) ?? [];
    const text = Array.from({ length: count }, (_, part) => list[part]);
    if (list.length !== count || text.some((piece) => piece === undefined)) {
      incomplete.add(row.id);
      return null;
    }
    return JSON.parse(text.join('')) as JsonObject;
  };
  const views = rows.map((row) => ({ ...toView(row), payload: assemble(row, 'payload') as JsonObject, result: assemble(row, 'result') }));
  if (incomplete.size > 0) {
    const remaining = await manager.getRepository(RelayWorkItemEntity).find({ select: { id: true }, where: { id: In([...incomplete]) } });
    if (remaining.length > 0) throw new Error(`relay work item ${remaining.map((row) => row.id).join(', ')}: pieces of its payload or result are missing`);
  }
  return views.filter((view) => !incomplete.has(view.id));
}

function toView(row: RelayWorkItemEntity): RelayWorkItemView {
  return {
    id: row.id,
    relayGroup: row.relayGroup,
    connectorId: row.connectorId,
    runId: row.runId,
    workKey: row.workKey,
    kind: row.kind,
    payload: row.payload,
    status: row.status,
    relayId: row.relayId,
    attempts: row.attempts,
    deadlineAt: row.deadlineAt,
    result: row.result,
    resultAppliedAt: row.resultAppliedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

