import type { EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { assertUnreachable } from '@identitymesh/domain';
import { driverTypeOf } from './dialect';

/**
 * The rows of a multi-row INSERT: `VALUES (…), (…)` with a parameter per
 * value, or on PostgreSQL `SELECT * FROM unnest($1::type[], …)` with one
 * array parameter per column. PostgreSQL parses, binds and plans a statement
 * of a few thousand parameters slower than it inserts the rows (a 500-object
 * batch of the connector space carries 8,500); the arrays make that 17
 * parameters, and the benchmark measured such a batch a third to a half
 * faster. Either way the rows are one statement, so statement counts do not
 * change.
 */
function rowSource<T extends ObjectLiteral>(manager: EntityManager, columns: EntityMetadata['columns'], rows: readonly T[]): { sql: string; parameters: unknown[] } {
  const driver = manager.connection.driver;
  if (driverTypeOf(manager) === 'postgres') {
    const arrays = columns.map((column) => rows.map((row) => driver.preparePersistentValue(column.getEntityValue(row), column) ?? null));
    const casts = columns.map((column, index) => `${driver.createParameter(`p${index}`, index)}::${driver.normalizeType(column)}[]`);
    return { sql: `SELECT * FROM unnest(${casts.join(', ')})`, parameters: arrays };
  }
  const parameters: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const placeholders: string[] = [];
    for (const column of columns) {
      parameters.push(driver.preparePersistentValue(column.getEntityValue(row), column));
      placeholders.push(driver.createParameter(`p${parameters.length - 1}`, parameters.length - 1));
    }
    tuples.push(`(${placeholders.join(', ')})`);
  }
  return { sql: `VALUES ${tuples.join(', ')}`, parameters };
}

/**
 * One multi-row INSERT of entity rows, every column given. Values are
 * converted exactly as TypeORM converts them (transformers, JSON, dates per
 * driver) but the statement is assembled directly: TypeORM's insert builder
 * spends several microseconds per value, which for a batch of hundreds of
 * objects costs more than the database does. The caller chunks rows by the
 * dialect's parameter limit.
 */
export async function insertRows<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: readonly T[]): Promise<void> {
  if (rows.length === 0) return;
  const metadata = manager.connection.getMetadata(target);
  const driver = manager.connection.driver;
  const columns = metadata.columns;
  const source = rowSource(manager, columns, rows);
  const names = columns.map((column) => driver.escape(column.databaseName)).join(', ');
  await manager.query(`INSERT INTO ${driver.escape(metadata.tableName)} (${names}) ${source.sql}`, source.parameters);
}

/**
 * As {@link insertRows}, but a row whose primary or unique key is already
 * taken is skipped instead of failing the statement (and, on PostgreSQL,
 * the transaction). Concurrent inserters of the same key serialize on it:
 * the later one waits for the earlier one's commit and then skips. The
 * caller reads the keys back to learn which rows are its own. Rows of one
 * call must not repeat a key.
 */
export async function insertRowsIgnoringConflicts<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: readonly T[]): Promise<void> {
  if (rows.length === 0) return;
  const metadata = manager.connection.getMetadata(target);
  const driver = manager.connection.driver;
  const columns = metadata.columns;
  const source = rowSource(manager, columns, rows);
  const { parameters } = source;
  const tuples = source.sql;
  const table = driver.escape(metadata.tableName);
  const names = columns.map((column) => driver.escape(column.databaseName));
  const type = driverTypeOf(manager);
  switch (type) {
    case 'postgres':
    case 'better-sqlite3':
      await manager.query(`INSERT INTO ${table} (${names.join(', ')}) ${tuples} ON CONFLICT DO NOTHING`, parameters);
      return;
    case 'mysql':
    case 'mariadb': {
      // A no-op update rather than INSERT IGNORE, which would also turn other errors (a value too long) into warnings.
      const first = names[0];
      await manager.query(`INSERT INTO ${table} (${names.join(', ')}) ${tuples} ON DUPLICATE KEY UPDATE ${first} = ${first}`, parameters);
      return;
    }
    case 'mssql': {
      // Not run against a live SQL Server here. The key range lock (UPDLOCK, HOLDLOCK) makes a concurrent inserter of the same key wait instead of both passing NOT EXISTS.
      const keys = metadata.primaryColumns.map((column) => driver.escape(column.databaseName));
      const match = keys.map((key) => `t.${key} = v.${key}`).join(' AND ');
      await manager.query(
        `INSERT INTO ${table} (${names.join(', ')}) SELECT ${names.map((name) => `v.${name}`).join(', ')} FROM (${tuples}) AS v (${names.join(', ')}) WHERE NOT EXISTS (SELECT 1 FROM ${table} t WITH (UPDLOCK, HOLDLOCK) WHERE ${match})`,
        parameters,
      );
      return;
    }
    default:
      return assertUnreachable(type);
  }
}

/**
 * The SET part of one multi-row UPDATE by id: each column becomes
 * `CASE id WHEN :u0 THEN :<column>0 WHEN :u1 …  END`, so a chunk of rows is
 * one statement whatever the rows' values. `escapedId` is the id column as
 * the builder escapes it; `value(row, column)` is what the row gets. The ids
 * are the parameters `u<index>`, for the caller's WHERE.
 */
export function caseByIdColumns<T>(
  escapedId: string,
  rows: readonly T[],
  idOf: (row: T) => string,
  columns: readonly string[],
  value: (row: T, column: string) => unknown,
): { set: Record<string, () => string>; parameters: Record<string, unknown> } {
  const parameters: Record<string, unknown> = {};
  rows.forEach((row, index) => {
    parameters[`u${index}`] = idOf(row);
    for (const column of columns) parameters[`${column}${index}`] = value(row, column);
  });
  const set: Record<string, () => string> = {};
  for (const column of columns) set[column] = () => `CASE ${escapedId} ${rows.map((_, index) => `WHEN :u${index} THEN :${column}${index}`).join(' ')} END`;
  return { set, parameters };
}
