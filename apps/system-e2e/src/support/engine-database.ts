import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { AppProcess } from './app-process';

/** Statuses a run ends in; any other status means it is still waiting or running. */
export const FINAL_RUN_STATUSES = ['succeeded', 'completed-with-errors', 'failed', 'stopped-error-threshold', 'cancelled', 'held-for-approval'];

/**
 * Engine settings for tests that drive the built engine: migrate on start,
 * poll the run queue every 100 ms, and notice a dead engine within seconds
 * instead of the production defaults' minute.
 */
export const QUICK_ENGINE_SETTINGS: Readonly<Record<string, string>> = {
  IM_DB_AUTO_MIGRATE: 'true',
  IM_ENGINE_RUN_POLL_MS: '100',
  IM_ENGINE_HEARTBEAT_SECONDS: '1',
  IM_ENGINE_STALE_AFTER_SECONDS: '3',
};

export type RunProfileName = 'full-import' | 'delta-import' | 'full-sync' | 'delta-sync' | 'export' | 'confirming-import';

export interface RunRow {
  id: string;
  profile: RunProfileName;
  status: string;
  added: number;
  updated: number;
  deleted: number;
  exported: number;
  errors: number;
  heldDeletes: number;
  recoveries: number;
  message: string | null;
}

export interface ConnectorRow {
  name: string;
  type: 'csv' | 'ldap' | 'sql';
  config: object;
  /** The schema (object types) stored with the connector, as the Admin API stores it; empty makes a sync ask the connector. */
  objectTypes?: object[];
  batchSize?: number;
  errorThreshold?: number | null;
  deletionThresholdCount?: number;
  deletionThresholdPercent?: number;
  exportMaxAttempts?: number;
  /** Runs on a relay of this group instead of in the engine. */
  relayGroup?: string | null;
}

export interface RuleRow {
  kind: string;
  connectorId: string | null;
  objectType: string;
  definition: object;
  ordinal?: number;
}

/**
 * The engine's configuration and run queue on PostgreSQL, written the way the
 * Admin API writes them (rows of IM_Connectors, IM_SyncRules and IM_Runs), for
 * end-to-end tests that drive the built engine process. The end-to-end
 * project may not use the persistence lib, so this is plain SQL.
 */
export class EngineDatabase {
  constructor(readonly sql: Client) {}

  async insertConnector(connector: ConnectorRow): Promise<string> {
    const id = randomUUID();
    await this.sql.query(
      `INSERT INTO "IM_Connectors" ("id", "name", "type", "config", "objectTypes", "batchSize", "errorThreshold", "deletionThresholdCount", "deletionThresholdPercent", "exportMaxAttempts", "relayGroup", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')`,
      [
        id,
        connector.name,
        connector.type,
        JSON.stringify(connector.config),
        JSON.stringify(connector.objectTypes ?? []),
        connector.batchSize ?? 500,
        connector.errorThreshold ?? null,
        connector.deletionThresholdCount ?? 500,
        connector.deletionThresholdPercent ?? 10,
        connector.exportMaxAttempts ?? 5,
        connector.relayGroup ?? null,
      ],
    );
    return id;
  }

  async insertRule(rule: RuleRow): Promise<string> {
    const id = randomUUID();
    const ordinal = rule.ordinal ?? 1;
    await this.sql.query(
      `INSERT INTO "IM_SyncRules" ("id", "connectorId", "kind", "objectType", "name", "ordinal", "definition", "enabled", "version", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, $7, true, 1, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')`,
      [id, rule.connectorId, rule.kind, rule.objectType, `${rule.kind} ${rule.objectType} ${ordinal}`, ordinal, JSON.stringify(rule.definition)],
    );
    return id;
  }

  async queueRun(connectorId: string, profile: RunProfileName): Promise<string> {
    const id = randomUUID();
    await this.sql.query(`INSERT INTO "IM_Runs" ("id", "connectorId", "profile", "status", "trigger", "queuedAt") VALUES ($1, $2, $3, 'queued', 'manual', now() AT TIME ZONE 'utc')`, [id, connectorId, profile]);
    return id;
  }

  async run(id: string): Promise<RunRow> {
    const { rows } = await this.sql.query<RunRow>(
      `SELECT "id", "profile", "status", "added", "updated", "deleted", "exported", "errors", "heldDeletes", "recoveries", "message" FROM "IM_Runs" WHERE "id" = $1`,
      [id],
    );
    if (!rows[0]) throw new Error(`no run ${id}`);
    return rows[0];
  }

  /**
   * Polls the run until it ends. `engine` is the process expected to run it
   * (or a function returning the current one, for tests that restart it): if
   * it exits meanwhile, the wait fails with its output instead of timing out.
   */
  async waitForRun(id: string, engine: AppProcess | (() => AppProcess), timeoutMs = 300_000): Promise<RunRow> {
    const deadline = Date.now() + timeoutMs;
    const current = typeof engine === 'function' ? engine : () => engine;
    while (Date.now() < deadline) {
      const row = await this.run(id);
      if (FINAL_RUN_STATUSES.includes(row.status)) return row;
      const process = current();
      if (process.child.exitCode !== null || process.child.signalCode !== null) throw new Error(`the engine exited while run ${id} was ${row.status}:\n${process.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`run ${id} did not finish within ${timeoutMs} ms (${JSON.stringify(await this.run(id))}); engine output:\n${current().tail()}`);
  }

  /** Queues a run and waits for it; the run's final row. */
  async runToEnd(connectorId: string, profile: RunProfileName, engine: AppProcess | (() => AppProcess), timeoutMs?: number): Promise<RunRow> {
    return this.waitForRun(await this.queueRun(connectorId, profile), engine, timeoutMs);
  }

  /** The per-object errors a run recorded, for a failure message worth reading. */
  async runErrors(runId: string, limit = 20): Promise<Array<{ anchor: string | null; code: string; message: string }>> {
    const { rows } = await this.sql.query(`SELECT "anchor", "code", "message" FROM "IM_RunObjectErrors" WHERE "runId" = $1 ORDER BY "anchor" LIMIT $2`, [runId, limit]);
    return rows;
  }

  async watermark(connectorId: string): Promise<string | undefined> {
    const { rows } = await this.sql.query<{ value: string }>(`SELECT "value" FROM "IM_Watermarks" WHERE "connectorId" = $1`, [connectorId]);
    return rows[0]?.value;
  }

  async count(sql: string, parameters: unknown[] = []): Promise<number> {
    const { rows } = await this.sql.query<{ n: string }>(sql, parameters);
    return Number(rows[0]?.n ?? 0);
  }
}
