import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import type { ConnectorType } from '@identitymesh/domain';
import type { JsonObject } from '../entities/column-types';
import { ConnectorEntity } from '../entities/connector.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';

/** What the engine needs of a connector to run it: config, object types and limits. */
export interface ConnectorDefinition {
  id: string;
  name: string;
  type: ConnectorType;
  /** Secrets appear only as references, resolved by the connector through its context. */
  config: JsonObject;
  objectTypes: JsonObject[];
  schedule: JsonObject | null;
  relayGroup: string | null;
  batchSize: number;
  deletionThresholdCount: number;
  deletionThresholdPercent: number;
  /** Failed objects after which a run stops; null means no limit. */
  errorThreshold: number | null;
  exportMaxAttempts: number;
  enabled: boolean;
  rulesVersion: number;
}

export interface NewConnector {
  name: string;
  type: ConnectorType;
  config: JsonObject;
  /** @default [] */
  objectTypes?: JsonObject[];
  description?: string | null;
  schedule?: JsonObject | null;
  relayGroup?: string | null;
  /** @default 500 */
  batchSize?: number;
  errorThreshold?: number | null;
  /** @default true */
  enabled?: boolean;
  /** @default now */
  at?: Date;
}

/** A connector as the Admin API shows and edits it. */
export interface ConnectorRecord extends ConnectorDefinition {
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Every field an operator sets on a connector; a replacement sets all of them at once. */
export interface ConnectorSettings {
  name: string;
  type: ConnectorType;
  description: string | null;
  config: JsonObject;
  objectTypes: JsonObject[];
  schedule: JsonObject | null;
  relayGroup: string | null;
  batchSize: number;
  deletionThresholdCount: number;
  deletionThresholdPercent: number;
  errorThreshold: number | null;
  exportMaxAttempts: number;
  enabled: boolean;
}

/** `IM_Connectors`: one connected system's configuration, schedule and safety limits. */
export class ConnectorRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findById(id: string): Promise<ConnectorDefinition | null> {
    const row = await withTransientRetry('connector find', () => this.dataSource.getRepository(ConnectorEntity).findOneBy({ id }));
    return row ? toDefinition(row) : null;
  }

  /** Several connectors at once (those a sync run's rules name); unknown ids are absent. */
  async findByIds(ids: readonly string[]): Promise<ConnectorDefinition[]> {
    if (ids.length === 0) return [];
    const rows = await withTransientRetry('connectors find', () => this.dataSource.getRepository(ConnectorEntity).find({ where: { id: In([...new Set(ids)]) } }));
    return rows.map(toDefinition);
  }

  /** Creates a connector; the Admin API validates the config with the connector type's factory first. */
  async create(input: NewConnector): Promise<ConnectorDefinition> {
    const at = input.at ?? new Date();
    const row: ConnectorEntity = {
      id: randomUUID(),
      name: input.name,
      type: input.type,
      description: input.description ?? null,
      config: input.config,
      objectTypes: input.objectTypes ?? [],
      schedule: input.schedule ?? null,
      relayGroup: input.relayGroup ?? null,
      batchSize: input.batchSize ?? 500,
      deletionThresholdCount: 500,
      deletionThresholdPercent: 10,
      errorThreshold: input.errorThreshold ?? null,
      exportMaxAttempts: 5,
      enabled: input.enabled ?? true,
      rulesVersion: 1,
      createdAt: at,
      updatedAt: at,
    };
    // A copy: insert() writes driver-converted defaults back into the object it is given.
    await this.dataSource.getRepository(ConnectorEntity).insert({ ...row });
    return toDefinition(row);
  }
  /**
   * Connectors by name (then id), `limit` of them after `after`: a keyset
   * page for the Admin API's list.
   */
  async listRecords(page: { limit: number; after?: { name: string; id: string } | null }): Promise<ConnectorRecord[]> {
    const query = this.dataSource.getRepository(ConnectorEntity).createQueryBuilder('c').orderBy('c.name', 'ASC').addOrderBy('c.id', 'ASC').take(page.limit);
    if (page.after) query.where('(c.name > :name OR (c.name = :name AND c.id > :id))', { name: page.after.name, id: page.after.id });
    const rows = await withTransientRetry('connectors list', () => query.getMany());
    return rows.map(toRecord);
  }

  /** One connector with its description and times; read inside `tx` when given (the state a change starts from). */
  async findRecord(id: string, tx?: Transaction): Promise<ConnectorRecord | null> {
    const manager = tx ? managerOf(tx) : this.dataSource.manager;
    const row = await manager.getRepository(ConnectorEntity).findOneBy({ id });
    return row ? toRecord(row) : null;
  }

  /** Creates a connector inside `tx` (with its audit entry); a taken name fails with the dialect's unique violation. */
  async insertRecord(tx: Transaction, settings: ConnectorSettings, at: Date): Promise<ConnectorRecord> {
    const row: ConnectorEntity = { id: randomUUID(), ...settings, rulesVersion: 1, createdAt: at, updatedAt: at };
    await managerOf(tx).getRepository(ConnectorEntity).insert({ ...row });
    return toRecord(row);
  }

  /** Replaces every operator-set field of a connector inside `tx`; null when there is no such connector. */
  async replaceRecord(tx: Transaction, id: string, settings: ConnectorSettings, at: Date): Promise<ConnectorRecord | null> {
    const manager = managerOf(tx);
    const result = await manager.getRepository(ConnectorEntity).update({ id }, { ...settings, updatedAt: at });
    if ((result.affected ?? 0) === 0) return null;
    return this.findRecord(id, tx);
  }

  /** Deletes a connector inside `tx`; its rules, runs, lease and connector space go with it (foreign keys cascade). */
  async removeRecord(tx: Transaction, id: string): Promise<boolean> {
    const result = await managerOf(tx).getRepository(ConnectorEntity).delete({ id });
    return (result.affected ?? 0) === 1;
  }

}

function toDefinition(row: ConnectorEntity): ConnectorDefinition {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    config: row.config,
    objectTypes: row.objectTypes,
    schedule: row.schedule,
    relayGroup: row.relayGroup,
    batchSize: row.batchSize,
    deletionThresholdCount: row.deletionThresholdCount,
    deletionThresholdPercent: row.deletionThresholdPercent,
    errorThreshold: row.errorThreshold,
    exportMaxAttempts: row.exportMaxAttempts,
    enabled: Boolean(row.enabled),
    rulesVersion: row.rulesVersion,
  };
}

function toRecord(row: ConnectorEntity): ConnectorRecord {
  return { ...toDefinition(row), description: row.description, createdAt: row.createdAt, updatedAt: row.updatedAt };
}
