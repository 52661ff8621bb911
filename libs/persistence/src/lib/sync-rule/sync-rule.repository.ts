import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PrecedenceEntry, SyncRuleKind, SyncRuleRecord } from '@identitymesh/domain';
import { AttributePrecedenceEntity } from '../entities/attribute-precedence.entity';
import type { JsonObject } from '../entities/column-types';
import { ConnectorEntity } from '../entities/connector.entity';
import { SyncRuleEntity } from '../entities/sync-rule.entity';
import { withTransientRetry } from '../retry/retry-policy';

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
