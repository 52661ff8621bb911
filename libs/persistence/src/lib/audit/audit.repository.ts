import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditActorType } from '@identitymesh/domain';
import { AuditEventEntity } from '../entities/audit-event.entity';
import type { JsonValue } from '../entities/column-types';
import { insertRows } from '../data-source/bulk-insert';
import { chunked, rowsPerStatement } from '../data-source/dialect';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';

/** One audit entry to record. Callers pass before/after already redacted: this layer cannot know which fields are secret. */
export interface AuditEventInput {
  actorType: AuditActorType;
  actor: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  runId?: string | null;
  ruleId?: string | null;
  before?: JsonValue;
  after?: JsonValue;
  correlationId?: string | null;
  /** @default now */
  at?: Date;
}

// 12 parameters a row: 150 rows stay under SQL Server's 2,100 parameters a statement.
const INSERT_CHUNK = 150;
const AUDIT_ROW_PARAMETERS = 12;

/** `IM_AuditEvents`, append-only. */
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Appends the entries set-based; pass `manager` to make them part of the change they describe. */
  async append(events: AuditEventInput[], manager?: EntityManager): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({
      id: randomUUID(),
      at: e.at ?? new Date(),
      actorType: e.actorType,
      actor: e.actor,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId ?? null,
      runId: e.runId ?? null,
      ruleId: e.ruleId ?? null,
      before: e.before ?? null,
      after: e.after ?? null,
      correlationId: e.correlationId ?? null,
    }));
    const insert = async (m: EntityManager) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) await m.getRepository(AuditEventEntity).insert(rows.slice(i, i + INSERT_CHUNK));
    };
    if (manager) return insert(manager);
    await withTransientRetry('audit append', () => this.dataSource.transaction(insert));
  }

  /**
   * Appends entries inside the transaction of the change they describe, as
   * multi-row inserts (one statement for a usual batch): a sync batch's
   * audit commits with its changes or not at all.
   */
  async record(tx: Transaction, events: readonly AuditEventInput[]): Promise<void> {
    if (events.length === 0) return;
    const manager = managerOf(tx);
    const rows: AuditEventEntity[] = events.map((e) => ({
      id: randomUUID(),
      at: e.at ?? new Date(),
      actorType: e.actorType,
      actor: e.actor.slice(0, 255),
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId ?? null,
      runId: e.runId ?? null,
      ruleId: e.ruleId ?? null,
      before: e.before ?? null,
      after: e.after ?? null,
      correlationId: e.correlationId ?? null,
    }));
    for (const chunk of chunked(rows, rowsPerStatement(manager, AUDIT_ROW_PARAMETERS))) await insertRows(manager, AuditEventEntity, chunk);
  }

  /** The newest entries first, for one target when given. */
  async recent(limit: number, target?: { targetType: string; targetId: string }): Promise<AuditEventEntity[]> {
    return this.dataSource.getRepository(AuditEventEntity).find({
      where: target ? { targetType: target.targetType, targetId: target.targetId } : {},
      order: { at: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /**
   * Entries newest first, filtered by actor, target and a time range
   * (`from` inclusive, `to` exclusive), `limit` of them after `after`: a
   * keyset page over the indexes on (actor, at), (target, at) and (at, id).
   */
  async search(
    filter: { actor?: string; targetType?: string; targetId?: string; action?: string; from?: Date; to?: Date },
    page: { limit: number; after?: { at: Date; id: string } | null },
  ): Promise<AuditEventEntity[]> {
    const query = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('a').where('1 = 1').orderBy('a.at', 'DESC').addOrderBy('a.id', 'DESC').take(page.limit);
    if (filter.actor !== undefined) query.andWhere('a.actor = :actor', { actor: filter.actor });
    if (filter.targetType !== undefined) query.andWhere('a.targetType = :targetType', { targetType: filter.targetType });
    if (filter.targetId !== undefined) query.andWhere('a.targetId = :targetId', { targetId: filter.targetId });
    if (filter.action !== undefined) query.andWhere('a.action = :action', { action: filter.action });
    if (filter.from !== undefined) query.andWhere('a.at >= :from', { from: filter.from });
    if (filter.to !== undefined) query.andWhere('a.at < :to', { to: filter.to });
    if (page.after) query.andWhere('(a.at < :afterAt OR (a.at = :afterAt AND a.id < :afterId))', { afterAt: page.after.at, afterId: page.after.id });
    return withTransientRetry('audit search', () => query.getMany());
  }
}
