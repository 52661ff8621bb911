import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import type { PrecedenceEntry, SyncRuleKind, SyncRuleRecord } from '@identitymesh/domain';
import { AttributePrecedenceEntity } from '../entities/attribute-precedence.entity';
import type { JsonObject } from '../entities/column-types';
import { ConnectorEntity } from '../entities/connector.entity';
import { SyncRuleEntity } from '../entities/sync-rule.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';

/** What a sync run evaluates: the enabled rules and the precedence rows. */
export interface SyncRuleSet {
  rules: SyncRuleRecord[];
  precedence: PrecedenceEntry[];
}

export interface NewSyncRule {
  kind: SyncRuleKind;
  /** Null for composer rules. */
  connectorId: string | null;
  objectType: string;
  name: string;
  ordinal: number;
  /** Checked by validateRuleDefinition before it gets here (the Admin API does). */
  definition: JsonObject;
  /** @default true */
  enabled?: boolean;
  /** @default now */
  at?: Date;
}

/** A rule as the Admin API shows it: the record, its version and times. */
export interface SyncRuleView extends SyncRuleRecord {
  name: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Every field an operator sets on a rule; a replacement sets all of them. */
export interface SyncRuleSettings {
  kind: SyncRuleKind;
  connectorId: string | null;
  objectType: string;
  name: string;
  ordinal: number;
  definition: JsonObject;
  enabled: boolean;
}

/**
 * `IM_SyncRules` and `IM_AttributePrecedence`.
 *
 * A sync run loads every enabled rule of every connector, not only those of
 * the connector it runs: a mesh object is recomputed from all the objects
 * joined to it (their scoping and import flows), and its values flow out
 * through the provisioning, export-flow and deprovisioning rules of every
 * target connector. Rule sets are small (hundreds of rows); two queries.
 */
export class SyncRuleRepository {
  constructor(private readonly dataSource: DataSource) {}

  async loadEnabled(): Promise<SyncRuleSet> {
    return withTransientRetry('sync rules load', async () => {
      const rows = await this.dataSource.getRepository(SyncRuleEntity).find({ where: { enabled: true }, order: { kind: 'ASC', ordinal: 'ASC', id: 'ASC' } });
      const precedence = await this.dataSource.getRepository(AttributePrecedenceEntity).find();
      return {
        rules: rows.map(toRecord),
        precedence: precedence.map((row) => ({ objectType: row.objectType, attributeName: row.attributeName, connectorId: row.connectorId, rank: row.rank })),
      };
    });
  }

  /**
   * Stores a rule and bumps its connector's `rulesVersion` (and the target
   * connector's, for provisioning), so caches of compiled rules know they
   * are stale.
   */
  async create(input: NewSyncRule): Promise<SyncRuleRecord> {
    const at = input.at ?? new Date();
    const row: SyncRuleEntity = {
      id: randomUUID(),
      connectorId: input.connectorId,
      kind: input.kind,
      objectType: input.objectType,
      name: input.name,
      ordinal: input.ordinal,
      definition: input.definition,
      enabled: input.enabled ?? true,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    const target = input.kind === 'provisioning' ? input.definition['targetConnectorId'] : undefined;
    const connectors = [...new Set([input.connectorId, typeof target === 'string' ? target : null].filter((id): id is string => id !== null))];
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(SyncRuleEntity).insert({ ...row });
      for (const id of connectors) {
        const qb = manager.getRepository(ConnectorEntity).createQueryBuilder().update();
        await qb
          .set({ rulesVersion: () => `${qb.escape('rulesVersion')} + 1`, updatedAt: at })
          .where({ id })
          .execute();
      }
    });
    return toRecord(row);
  }

  /** Sets the rank of each connector for a mesh attribute (insert or replace). */
  async setPrecedence(entries: readonly PrecedenceEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(AttributePrecedenceEntity)
      .values(entries.map((entry) => ({ objectType: entry.objectType, attributeName: entry.attributeName, connectorId: entry.connectorId, rank: entry.rank })))
      .orUpdate(['rank'], ['objectType', 'attributeName', 'connectorId'])
      .updateEntity(false)
      .execute();
  }
  /**
   * Rules in evaluation order (kind, ordinal, id), optionally of one
   * connector or kind, `limit` of them after `after`: a keyset page.
   */
  async list(filter: { connectorId?: string; kind?: SyncRuleKind }, page: { limit: number; after?: { kind: string; ordinal: number; id: string } | null }): Promise<SyncRuleView[]> {
    const query = this.dataSource
      .getRepository(SyncRuleEntity)
      .createQueryBuilder('r')
      .where('1 = 1')
      .orderBy('r.kind', 'ASC')
      .addOrderBy('r.ordinal', 'ASC')
      .addOrderBy('r.id', 'ASC')
      .take(page.limit);
    if (filter.connectorId) query.andWhere('r.connectorId = :connectorId', { connectorId: filter.connectorId });
    if (filter.kind) query.andWhere('r.kind = :kind', { kind: filter.kind });
    if (page.after) {
      query.andWhere('(r.kind > :afterKind OR (r.kind = :afterKind AND (r.ordinal > :afterOrdinal OR (r.ordinal = :afterOrdinal AND r.id > :afterId))))', {
        afterKind: page.after.kind,
        afterOrdinal: page.after.ordinal,
        afterId: page.after.id,
      });
    }
    const rows = await withTransientRetry('sync rules list', () => query.getMany());
    return rows.map(toView);
  }

  /** Names of rules by id, in one query (the rules a mesh object's attributes name); unknown ids are absent. */
  async namesOf(ids: readonly string[]): Promise<Array<{ id: string; name: string; kind: SyncRuleKind }>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const rows = await this.dataSource.getRepository(SyncRuleEntity).find({ select: { id: true, name: true, kind: true }, where: { id: In(unique) } });
    return rows.map((row) => ({ id: row.id, name: row.name, kind: row.kind }));
  }

  /** One rule; read inside `tx` when given (the state a change starts from). */
  async findView(id: string, tx?: Transaction): Promise<SyncRuleView | null> {
    const manager = tx ? managerOf(tx) : this.dataSource.manager;
    const row = await manager.getRepository(SyncRuleEntity).findOneBy({ id });
    return row ? toView(row) : null;
  }

  /** Stores a rule inside `tx` and bumps the `rulesVersion` of the connectors it concerns. */
  async insertIn(tx: Transaction, settings: SyncRuleSettings, at: Date): Promise<SyncRuleView> {
    const row: SyncRuleEntity = { id: randomUUID(), ...settings, version: 1, createdAt: at, updatedAt: at };
    const manager = managerOf(tx);
    await manager.getRepository(SyncRuleEntity).insert({ ...row });
    await bumpRulesVersions(tx, connectorsOf(settings), at);
    return toView(row);
  }

  /** Replaces a rule inside `tx` (version + 1) and bumps the connectors it concerned and concerns; null when there is no such rule. */
  async replaceIn(tx: Transaction, id: string, settings: SyncRuleSettings, at: Date): Promise<SyncRuleView | null> {
    const before = await this.findView(id, tx);
    if (!before) return null;
    const qb = managerOf(tx).getRepository(SyncRuleEntity).createQueryBuilder().update();
    await qb
      .set({ ...settings, updatedAt: at, version: () => `${qb.escape('version')} + 1` })
      .where({ id })
      .execute();
    await bumpRulesVersions(tx, [...connectorsOf(before), ...connectorsOf(settings)], at);
    return this.findView(id, tx);
  }

  /** Deletes a rule inside `tx` and bumps the connectors it concerned; false when there was no such rule. */
  async removeIn(tx: Transaction, id: string, at: Date): Promise<boolean> {
    const before = await this.findView(id, tx);
    if (!before) return false;
    await managerOf(tx).getRepository(SyncRuleEntity).delete({ id });
    await bumpRulesVersions(tx, connectorsOf(before), at);
    return true;
  }

}

function toRecord(row: SyncRuleEntity): SyncRuleRecord {
  return {
    id: row.id,
    kind: row.kind,
    connectorId: row.connectorId,
    objectType: row.objectType,
    name: row.name,
    ordinal: row.ordinal,
    enabled: Boolean(row.enabled),
    definition: row.definition,
  };
}

function toView(row: SyncRuleEntity): SyncRuleView {
  return { ...toRecord(row), name: row.name, version: row.version, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

/** The connector a rule belongs to, and for provisioning the target connector its definition names. */
function connectorsOf(rule: { kind: SyncRuleKind; connectorId: string | null; definition: unknown }): string[] {
  const definition = typeof rule.definition === 'object' && rule.definition !== null ? (rule.definition as Record<string, unknown>) : {};
  const target = rule.kind === 'provisioning' ? definition['targetConnectorId'] : undefined;
  return [rule.connectorId, typeof target === 'string' ? target : null].filter((id): id is string => id !== null);
}

/** One statement for all of them: caches of compiled rules of these connectors are stale. */
async function bumpRulesVersions(tx: Transaction, connectorIds: readonly string[], at: Date): Promise<void> {
  const ids = [...new Set(connectorIds)];
  if (ids.length === 0) return;
  const qb = managerOf(tx).getRepository(ConnectorEntity).createQueryBuilder().update();
  await qb
    .set({ rulesVersion: () => `${qb.escape('rulesVersion')} + 1`, updatedAt: at })
    .where({ id: In(ids) })
    .execute();
}
