import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { JsonObject } from '../entities/column-types';
import { ConnectorEntity } from '../entities/connector.entity';
import { RunEntity } from '../entities/run.entity';
import type { StagedObject, StagedReference } from '../connector-space/connector-space.repository';

/** A staged object with a hash over what it holds, as the engine prepares them. */
export function staged(anchor: string, attributes: JsonObject, options: { objectType?: string; dn?: string; references?: StagedReference[] } = {}): StagedObject {
  const references = options.references ?? [];
  const hash = createHash('sha256')
    .update(JSON.stringify([options.dn ?? null, attributes, references.map((r) => `${r.attributeName}=${r.targetKey}`).sort()]))
    .digest('hex');
  return {
    objectType: options.objectType ?? 'person',
    anchor,
    distinguishedName: options.dn ?? null,
    dnHash: options.dn ? createHash('sha256').update(options.dn.toLowerCase()).digest('hex') : null,
    attributes,
    attributeHash: hash,
    references,
  };
}

/** A connector row and a running run of it, for repository tests. */
export async function insertConnectorWithRun(dataSource: DataSource, options: { enabled?: boolean; relayGroup?: string | null } = {}): Promise<{ connectorId: string; runId: string }> {
  const now = new Date();
  const connectorId = randomUUID();
  await dataSource.getRepository(ConnectorEntity).insert({
    id: connectorId,
    name: `connector ${connectorId}`,
    type: 'csv',
    config: {},
    objectTypes: [],
    relayGroup: options.relayGroup ?? null,
    enabled: options.enabled ?? true,
    createdAt: now,
    updatedAt: now,
  });
  const runId = randomUUID();
  await dataSource.getRepository(RunEntity).insert({ id: runId, connectorId, profile: 'full-import', status: 'running', trigger: 'manual', queuedAt: now, startedAt: now });
  return { connectorId, runId };
}

/** Counts the statements a data source sends while `work` runs. */
export class StatementCounter {
  private counting = false;
  readonly statements: string[] = [];

  readonly onQuery = (sql: string): void => {
    if (this.counting) this.statements.push(sql);
  };

  async count<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
    this.statements.length = 0;
    this.counting = true;
    try {
      const result = await work();
      return { result, statements: this.statements.length };
    } finally {
      this.counting = false;
    }
  }
}
