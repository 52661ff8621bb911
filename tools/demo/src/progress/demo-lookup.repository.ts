import type { DataSource } from 'typeorm';
import { In, MoreThanOrEqual } from 'typeorm';
import type { RunProfile, SyncRuleKind } from '@identitymesh/domain';
import { ConnectorEntity, RunEntity, SyncRuleEntity, withTransientRetry } from '@identitymesh/persistence';

/** A run of a connector and the chain it belongs to (null for a run queued by hand). */
export interface RunHeader {
  id: string;
  connectorId: string;
  queuedAt: Date;
  chain: { id: string; step: number; profiles: RunProfile[] } | null;
}

/**
 * The few reads the demo needs that the persistence lib's repositories do
 * not offer yet: connectors by name, the names of existing rules, and the
 * runs queued since a moment. Read-only; every write of the demo goes
 * through the persistence lib's repositories.
 */
export class DemoLookupRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Connector ids by name; of two connectors with one name, the older one. */
  async connectorIdsByName(names: readonly string[]): Promise<Map<string, string>> {
    const rows = await withTransientRetry('demo connectors by name', () =>
      this.dataSource.getRepository(ConnectorEntity).find({ select: { id: true, name: true }, where: { name: In([...names]) }, order: { createdAt: 'ASC', id: 'ASC' } }),
    );
    const ids = new Map<string, string>();
    for (const row of rows) if (!ids.has(row.name)) ids.set(row.name, row.id);
    return ids;
  }

  /** Every rule, enabled or not, by `ruleKey`: a rule set is hundreds of rows. */
  async ruleKeys(): Promise<Set<string>> {
    const rows = await withTransientRetry('demo rule names', () => this.dataSource.getRepository(SyncRuleEntity).find({ select: { id: true, kind: true, connectorId: true, name: true } }));
    return new Set(rows.map((row) => ruleKey(row.kind, row.connectorId, row.name)));
  }

  /** Runs of the connectors queued at or after `since`, oldest first, with their chain. */
  async runsQueuedSince(connectorIds: readonly string[], since: Date): Promise<RunHeader[]> {
    if (connectorIds.length === 0) return [];
    const rows = await withTransientRetry('demo runs', () =>
      this.dataSource.getRepository(RunEntity).find({
        select: { id: true, connectorId: true, queuedAt: true, chainId: true, chainStep: true, chainProfiles: true },
        where: { connectorId: In([...connectorIds]), queuedAt: MoreThanOrEqual(since) },
        order: { queuedAt: 'ASC', id: 'ASC' },
      }),
    );
    return rows.map((row) => ({
      id: row.id,
      connectorId: row.connectorId,
      queuedAt: row.queuedAt,
      chain: row.chainId ? { id: row.chainId, step: row.chainStep ?? 0, profiles: row.chainProfiles ?? [] } : null,
    }));
  }
}

/** How a rule is recognised again: its kind, its connector and its name. */
export function ruleKey(kind: SyncRuleKind, connectorId: string | null, name: string): string {
  return `${kind}\u0000${connectorId ?? ''}\u0000${name}`;
}
