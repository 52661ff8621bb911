import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_WAL_AUTOCHECKPOINT_PAGES } from '@identitymesh/persistence';
import { Client } from 'pg';
import type { BenchDatabase } from '../harness/bench-database';
import { runPsql, sqlLiteral } from './psql';

const OBJECT_COLUMNS = [
  'id',
  'connectorId',
  'objectType',
  'anchor',
  'distinguishedName',
  'dnHash',
  'attributes',
  'attributeHash',
  'meshObjectId',
  'isDisconnector',
  'pendingImport',
  'pendingImportDelta',
  'pendingExport',
  'lastRunId',
  'createdAt',
  'updatedAt',
  'version',
] as const;
const REFERENCE_COLUMNS = ['csObjectId', 'attributeName', 'targetKey', 'targetCsObjectId'] as const;

const quoted = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');

/**
 * The connector-space rows an engine run wrote (objects and their reference
 * rows), taken from its database and given new ids under the limit's own
 * connector, ready to be written again the fastest way the database allows.
 * "The same normalized rows into the same database": the limit writes what the
 * engine wrote, no more, no less.
 */
export type CapturedSpace =
  | { dialect: 'sqlite'; objects: unknown[][]; references: unknown[][] }
  | { dialect: 'postgres'; objectsFile: string; referencesFile: string; objects: number; references: number };

export function capturedCounts(captured: CapturedSpace): { objects: number; references: number } {
  return captured.dialect === 'sqlite'
    ? { objects: captured.objects.length, references: captured.references.length }
    : { objects: captured.objects, references: captured.references };
}

export async function captureConnectorSpace(database: BenchDatabase, connectorIds: string[], limitConnectorId: string, dir: string): Promise<CapturedSpace> {
  const inList = connectorIds.map(sqlLiteral).join(', ');
  if (database.dialect === 'sqlite') {
    const db = new Database(database.name, { readonly: true });
    try {
      const ids = new Map<string, string>();
      const objects = (db.prepare(`SELECT ${quoted(OBJECT_COLUMNS)} FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" IN (${inList})`).raw().all() as unknown[][]).map((row) => {
        const id = randomUUID();
        ids.set(row[0] as string, id);
        return [id, limitConnectorId, ...row.slice(2)];
      });
      const references = (
        db
          .prepare(`SELECT ${REFERENCE_COLUMNS.map((c) => `r."${c}"`).join(', ')} FROM "IM_CsReferences" r JOIN "IM_ConnectorSpaceObjects" o ON o."id" = r."csObjectId" WHERE o."connectorId" IN (${inList})`)
          .raw()
          .all() as unknown[][]
      ).map(([csObjectId, attributeName, targetKey, target]) => [ids.get(csObjectId as string), attributeName, targetKey, target === null ? null : (ids.get(target as string) ?? null)]);
      return { dialect: 'sqlite', objects, references };
    } finally {
      db.close();
    }
  }
  // New ids derived from the old ones in SQL (md5 → uuid), so a reference's target maps like its object.
  const newId = (column: string) => `md5(${column} || ':limit')::uuid::text`;
  const objectsFile = join(dir, 'limit-objects.csv');
  const referencesFile = join(dir, 'limit-references.csv');
  const objectSelect = OBJECT_COLUMNS.map((c) => (c === 'id' ? newId('o."id"') : c === 'connectorId' ? sqlLiteral(limitConnectorId) : `o."${c}"`)).join(', ');
  const referenceSelect = [newId('r."csObjectId"'), 'r."attributeName"', 'r."targetKey"', `CASE WHEN r."targetCsObjectId" IS NULL THEN NULL ELSE ${newId('r."targetCsObjectId"')} END`].join(', ');
  await runPsql(
    database.settings.url as string,
    [
      `\\copy (SELECT ${objectSelect} FROM "IM_ConnectorSpaceObjects" o WHERE o."connectorId" IN (${inList})) TO ${sqlLiteral(objectsFile)} WITH (FORMAT csv)`,
      `\\copy (SELECT ${referenceSelect} FROM "IM_CsReferences" r JOIN "IM_ConnectorSpaceObjects" o ON o."id" = r."csObjectId" WHERE o."connectorId" IN (${inList})) TO ${sqlLiteral(referencesFile)} WITH (FORMAT csv)`,
      '',
    ].join('\n'),
    { singleTransaction: false },
  );
  const count = async (sql: string) => {
    const db = new Client({ connectionString: database.settings.url });
    await db.connect();
    try {
      return Number((await db.query<{ n: string }>(sql)).rows[0].n);
    } finally {
      await db.end();
    }
  };
  return {
    dialect: 'postgres',
    objectsFile,
    referencesFile,
    objects: await count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" IN (${inList})`),
    references: await count(`SELECT count(*) AS n FROM "IM_CsReferences" r JOIN "IM_ConnectorSpaceObjects" o ON o."id" = r."csObjectId" WHERE o."connectorId" IN (${inList})`),
  };
}

/** The limit method's description for the records. */
export function copyMethod(dialect: 'sqlite' | 'postgres'): string {
  return dialect === 'sqlite'
    ? "better-sqlite3: the same rows (objects and reference rows) as prepared INSERTs in one transaction, with the engine's WAL, synchronous, checkpoint and foreign-key settings"
    : 'psql \\copy (COPY FROM STDIN) of the same rows (objects and reference rows) in one transaction; psql start and connect included';
}

/** Writes the captured rows into `database` (an empty connector space); seconds from BEGIN to COMMIT. */
export async function writeConnectorSpace(database: BenchDatabase, captured: CapturedSpace): Promise<number> {
  if (captured.dialect === 'sqlite') {
    const db = new Database(database.name);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma('foreign_keys = ON');
      const insertObject = db.prepare(`INSERT INTO "IM_ConnectorSpaceObjects" (${quoted(OBJECT_COLUMNS)}) VALUES (${OBJECT_COLUMNS.map(() => '?').join(', ')})`);
      const insertReference = db.prepare(`INSERT INTO "IM_CsReferences" (${quoted(REFERENCE_COLUMNS)}) VALUES (?, ?, ?, ?)`);
      const all = db.transaction(() => {
        for (const row of captured.objects) insertObject.run(row);
        for (const row of captured.references) insertReference.run(row);
      });
      const started = process.hrtime.bigint();
      all();
      return Number(process.hrtime.bigint() - started) / 1e9;
    } finally {
      db.close();
    }
  }
  return runPsql(
    database.settings.url as string,
    [
      `\\copy "IM_ConnectorSpaceObjects" (${quoted(OBJECT_COLUMNS)}) FROM ${sqlLiteral(captured.objectsFile)} WITH (FORMAT csv)`,
      `\\copy "IM_CsReferences" (${quoted(REFERENCE_COLUMNS)}) FROM ${sqlLiteral(captured.referencesFile)} WITH (FORMAT csv)`,
      '',
    ].join('\n'),
  );
}
