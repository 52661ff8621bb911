import Database from 'better-sqlite3';
import { SQLITE_WAL_AUTOCHECKPOINT_PAGES } from '@identitymesh/persistence';
import { Client } from 'pg';
import type { BenchDatabase } from '../harness/bench-database';
import { sqlLiteral } from './psql';

/**
 * What a full sync of the HR feed amounts to when written by hand as
 * set-based SQL, in one transaction: a mesh object per staged object
 * (projection), a join key per anchor, each staged object linked to its mesh
 * object by a join on the anchor attribute, the managers and the group
 * members as mesh reference rows (members looked up by anchor in the people
 * feed), and an object in the target directory plus a queued add for every
 * mesh object (provisioning). No rule is evaluated: this is the floor the
 * database sets, not a sync engine.
 *
 * New ids come from the staged objects' ids with their first character
 * replaced (m… mesh, p… target object, q… queue item; never a hex digit): unique, and no round
 * trip to make them.
 */
export function setBasedSyncStatements(dialect: 'sqlite' | 'postgres', ids: { people: string; groups: string; target: string }): string[] {
  const sources = `(${sqlLiteral(ids.people)}, ${sqlLiteral(ids.groups)})`;
  const id = (prefix: string, column: string) => `'${prefix}' || substr(${column}, 2)`;
  const no = dialect === 'postgres' ? 'false' : '0';
  // SQLite: CROSS JOIN fixes the join order (groups, their members, the person by its unique anchor);
  // left to itself the planner may scan the people for every member.
  const members =
    dialect === 'postgres'
      ? `FROM "IM_ConnectorSpaceObjects" g CROSS JOIN LATERAL json_array_elements_text(g."attributes"::json -> 'members') AS m(anchor)
         JOIN "IM_ConnectorSpaceObjects" p ON p."connectorId" = ${sqlLiteral(ids.people)} AND p."objectType" = 'person' AND p."anchor" = m.anchor`
      : `FROM "IM_ConnectorSpaceObjects" g CROSS JOIN json_each(g."attributes", '$.members') AS m CROSS JOIN "IM_ConnectorSpaceObjects" p
         WHERE p."connectorId" = ${sqlLiteral(ids.people)} AND p."objectType" = 'person' AND p."anchor" = m.value AND`;
  return [
    `INSERT INTO "IM_MeshObjects" ("id", "objectType", "displayName", "attributes", "hash", "version", "createdAt", "updatedAt")
     SELECT ${id('m', 'o."id"')}, o."objectType", NULL, o."attributes", o."attributeHash", 1, o."createdAt", o."createdAt"
     FROM "IM_ConnectorSpaceObjects" o WHERE o."connectorId" IN ${sources}`,
    `INSERT INTO "IM_MeshJoinKeys" ("meshObjectId", "objectType", "attributeName", "value")
     SELECT ${id('m', 'o."id"')}, o."objectType", 'anchor', o."anchor" FROM "IM_ConnectorSpaceObjects" o WHERE o."connectorId" IN ${sources}`,
    `UPDATE "IM_ConnectorSpaceObjects" SET "meshObjectId" = k."meshObjectId", "pendingImport" = 'none'
     FROM "IM_MeshJoinKeys" k
     WHERE k."objectType" = "IM_ConnectorSpaceObjects"."objectType" AND k."attributeName" = 'anchor' AND k."value" = "IM_ConnectorSpaceObjects"."anchor"
       AND "IM_ConnectorSpaceObjects"."connectorId" IN ${sources}`,
    `INSERT INTO "IM_MeshReferences" ("meshObjectId", "attributeName", "targetMeshObjectId", "connectorId")
     SELECT s."meshObjectId", r."attributeName", t."meshObjectId", s."connectorId"
     FROM "IM_CsReferences" r JOIN "IM_ConnectorSpaceObjects" s ON s."id" = r."csObjectId" JOIN "IM_ConnectorSpaceObjects" t ON t."id" = r."targetCsObjectId"
     WHERE s."connectorId" IN ${sources} AND t."meshObjectId" IS NOT NULL`,
    `INSERT INTO "IM_MeshReferences" ("meshObjectId", "attributeName", "targetMeshObjectId", "connectorId")
     SELECT DISTINCT g."meshObjectId", 'members', p."meshObjectId", g."connectorId"
     ${members} ${dialect === 'postgres' ? 'WHERE' : ''} g."connectorId" = ${sqlLiteral(ids.groups)}`,
    `INSERT INTO "IM_ConnectorSpaceObjects" ("id", "connectorId", "objectType", "anchor", "distinguishedName", "dnHash", "attributes", "attributeHash", "meshObjectId", "isDisconnector", "pendingImport", "pendingImportDelta", "pendingExport", "lastRunId", "createdAt", "updatedAt", "version")
     SELECT ${id('p', 'o."id"')}, ${sqlLiteral(ids.target)}, CASE o."objectType" WHEN 'person' THEN 'user' ELSE 'group' END, 'provisional:' || o."meshObjectId",
            CASE o."objectType" WHEN 'person' THEN 'uid=' ELSE 'cn=' END || o."anchor" || ',ou=bench', NULL, o."attributes", o."attributeHash", o."meshObjectId", ${no}, 'none', NULL, 'add', NULL, o."createdAt", o."createdAt", 1
     FROM "IM_ConnectorSpaceObjects" o WHERE o."connectorId" IN ${sources}`,
    `INSERT INTO "IM_ExportQueue" ("id", "connectorId", "csObjectId", "operation", "changes", "status", "attempts", "seq", "createdAt", "updatedAt")
     SELECT ${id('q', 'o."id"')}, ${sqlLiteral(ids.target)}, ${id('p', 'o."id"')}, 'add', o."attributes", 'pending', 0, 1, o."createdAt", o."createdAt"
     FROM "IM_ConnectorSpaceObjects" o WHERE o."connectorId" IN ${sources}`,
  ];
}

export function setBasedSyncMethod(dialect: 'sqlite' | 'postgres'): string {
  return `${dialect === 'sqlite' ? 'better-sqlite3' : 'pg'}: hand-written set-based SQL in one transaction (projection, join on the anchor, manager and member references, provisioning and queued adds); no rule evaluated`;
}

/** Runs the statements on `database` in one transaction; seconds from BEGIN to COMMIT, and of each statement. */
export async function runSetBasedSync(database: BenchDatabase, statements: string[]): Promise<{ seconds: number; statementSeconds: number[] }> {
  const statementSeconds: number[] = [];
  const timed = async <T>(work: () => T | Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    const result = await work();
    statementSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    return result;
  };
  if (database.dialect === 'sqlite') {
    const db = new Database(database.name);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma('foreign_keys = ON');
      const prepared = statements.map((sql) => db.prepare(sql));
      const started = process.hrtime.bigint();
      db.exec('BEGIN');
      for (const statement of prepared) await timed(() => statement.run());
      db.exec('COMMIT');
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, statementSeconds };
    } finally {
      db.close();
    }
  }
  const client = new Client({ connectionString: database.settings.url });
  await client.connect();
  try {
    const started = process.hrtime.bigint();
    await client.query('BEGIN');
    for (const sql of statements) await timed(() => client.query(sql));
    await client.query('COMMIT');
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, statementSeconds };
  } finally {
    await client.end();
  }
}
