import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { SQLITE_WAL_AUTOCHECKPOINT_PAGES } from '@identitymesh/persistence';
import { Client } from 'pg';
import type { BenchDatabase } from '../harness/bench-database';
import { sqlLiteral } from './psql';

const COLUMNS = ['id', 'connectorId', 'objectType', 'anchor', 'distinguishedName', 'dnHash', 'attributes', 'attributeHash', 'meshObjectId', 'isDisconnector', 'pendingImport', 'pendingImportDelta', 'pendingExport', 'lastRunId', 'createdAt', 'updatedAt', 'version'] as const;
/** What an upsert of a changed object rewrites: everything but its identity, its links and its creation. */
const UPDATED = ['distinguishedName', 'dnHash', 'attributes', 'attributeHash', 'pendingImport', 'lastRunId', 'updatedAt'] as const;
const ROWS_PER_STATEMENT = 500;

const quoted = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');

function upsertSql(rows: number, placeholder: (index: number) => string): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) tuples.push(`(${COLUMNS.map((_, c) => placeholder(r * COLUMNS.length + c)).join(', ')})`);
  const set = [...UPDATED.map((c) => `"${c}" = excluded."${c}"`), `"version" = "IM_ConnectorSpaceObjects"."version" + 1`].join(', ');
  return `INSERT INTO "IM_ConnectorSpaceObjects" (${quoted(COLUMNS)}) VALUES ${tuples.join(', ')} ON CONFLICT ("connectorId", "objectType", "anchor") DO UPDATE SET ${set}`;
}

/**
 * The rows a delta import changed, read back from the engine's connector
 * space by their anchors and put under the limit's connector: what the
 * limit upserts. New objects get new ids; changed ones keep their key
 * (connector, type, anchor) and are updated in place.
 */
export async function readChangedRows(database: BenchDatabase, connectorId: string, objectType: string, anchors: string[], limitConnectorId: string): Promise<unknown[][]> {
  if (anchors.length === 0) return [];
  const rows: unknown[][] = [];
  const retag = (row: unknown[]) => [randomUUID(), limitConnectorId, ...row.slice(2)];
  if (database.dialect === 'sqlite') {
    const db = new Database(database.name, { readonly: true });
    try {
      for (let i = 0; i < anchors.length; i += ROWS_PER_STATEMENT) {
        const chunk = anchors.slice(i, i + ROWS_PER_STATEMENT);
        const found = db
          .prepare(`SELECT ${quoted(COLUMNS)} FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = ? AND "objectType" = ? AND "anchor" IN (${chunk.map(() => '?').join(', ')})`)
          .raw()
          .all(connectorId, objectType, ...chunk) as unknown[][];
        rows.push(...found.map(retag));
      }
    } finally {
      db.close();
    }
    return rows;
  }
  const client = new Client({ connectionString: database.settings.url });
  await client.connect();
  try {
    const result = await client.query({
      text: `SELECT ${quoted(COLUMNS)} FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND "objectType" = $2 AND "anchor" = ANY($3)`,
      values: [connectorId, objectType, anchors],
      rowMode: 'array',
    });
    return (result.rows as unknown[][]).map(retag);
  } finally {
    await client.end();
  }
}

export function upsertMethod(dialect: 'sqlite' | 'postgres'): string {
  return dialect === 'sqlite'
    ? 'better-sqlite3: the changed rows as prepared INSERT … ON CONFLICT DO UPDATE in one transaction, into a connector space as large as the engine\'s'
    : `pg: the changed rows as multi-row INSERT … ON CONFLICT DO UPDATE, ${ROWS_PER_STATEMENT} rows per statement, in one transaction, into a connector space as large as the engine's`;
}

/** Upserts `rows` (from {@link readChangedRows}) in one transaction; seconds from BEGIN to COMMIT. */
export async function upsertRows(database: BenchDatabase, rows: unknown[][]): Promise<number> {
  if (database.dialect === 'sqlite') {
    const db = new Database(database.name);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma('foreign_keys = ON');
      const statement = db.prepare(upsertSql(1, () => '?'));
      const all = db.transaction(() => {
        for (const row of rows) statement.run(row);
      });
      const started = process.hrtime.bigint();
      all();
      return Number(process.hrtime.bigint() - started) / 1e9;
    } finally {
      db.close();
    }
  }
  const client = new Client({ connectionString: database.settings.url });
  await client.connect();
  try {
    const started = process.hrtime.bigint();
    await client.query('BEGIN');
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
      await client.query(upsertSql(chunk.length, (n) => `$${n + 1}`), chunk.flat());
    }
    await client.query('COMMIT');
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await client.end();
  }
}

/** Every row of the given connectors copied under the limit's connector (set-based, untimed): the limit then upserts into a space of the same size. */
export async function copySpaceToLimit(database: BenchDatabase, connectorIds: string[], limitConnectorId: string): Promise<void> {
  const inList = connectorIds.map(sqlLiteral).join(', ');
  const newId = database.dialect === 'postgres' ? `md5(o."id" || ':limit')::uuid::text` : `'l' || substr(o."id", 2)`;
  const select = COLUMNS.map((c) => (c === 'id' ? newId : c === 'connectorId' ? sqlLiteral(limitConnectorId) : c === 'meshObjectId' ? 'NULL' : `o."${c}"`)).join(', ');
  const sql = `INSERT INTO "IM_ConnectorSpaceObjects" (${quoted(COLUMNS)}) SELECT ${select} FROM "IM_ConnectorSpaceObjects" o WHERE o."connectorId" IN (${inList})`;
  if (database.dialect === 'sqlite') {
    const db = new Database(database.name);
    try {
      db.pragma('journal_mode = WAL');
      db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  const client = new Client({ connectionString: database.settings.url });
  await client.connect();
  try {
    await client.query(sql);
    await client.query('ANALYZE "IM_ConnectorSpaceObjects"');
  } finally {
    await client.end();
  }
}
