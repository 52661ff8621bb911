/**
 * What differs between the four SQL servers, and nothing else: quoting,
 * parameter placeholders, row limits, upsert syntax, savepoints and how a
 * value is bound. Everything above this file (paging, delta, export) is one
 * code path for every dialect.
 */

export const SQL_DIALECTS = ['postgres', 'mariadb', 'mysql', 'sqlite', 'mssql'] as const;
export type SqlDialectName = (typeof SQL_DIALECTS)[number];

/** How a watermark column advances: an updated-at timestamp, an increasing integer, or SQL Server's rowversion. */
export const SQL_WATERMARK_TYPES = ['timestamp', 'integer', 'rowversion'] as const;
export type SqlWatermarkType = (typeof SQL_WATERMARK_TYPES)[number];

/** A value bound to a statement, in the form the dialect's driver accepts. */
export type SqlParam = string | number | bigint | boolean | Buffer | Date | null;

export interface SqlStatement {
  sql: string;
  params: SqlParam[];
}

export interface SqlLimitedSelect {
  columns: string;
  from: string;
  where: string;
  orderBy: string;
  limit: number;
}

export interface SqlUpsert {
  /** The quoted table name. */
  table: string;
  /** Quoted column names; the first is the key the upsert matches on. */
  columns: string[];
  /** One list of SQL expressions (placeholders) per row, in column order. */
  rows: string[][];
}

export interface SqlDialect {
  readonly name: SqlDialectName;
  /** The most bound parameters one statement may carry. */
  readonly maxParameters: number;
  /** The most rows one multi-row statement writes, whatever the parameter count. */
  readonly maxRowsPerStatement: number;
  /** One part of a name, already checked against SQL_IDENTIFIER_PATTERN. */
  quote(identifier: string): string;
  /** The placeholder of the parameter at `position` (1-based). */
  placeholder(position: number): string;
  selectLimited(select: SqlLimitedSelect): string;
  /** A placeholder whose decimal-string value is compared as a 64-bit integer, so values beyond 2^53 stay exact. */
  integerParameter(placeholder: string): string;
  /** The watermark column as text that the same server reads back exactly (full fractional seconds, no time zone shift). */
  watermarkText(column: string, type: SqlWatermarkType): string;
  /** What the watermark column is compared with, given the placeholder of its text form. */
  watermarkParameter(placeholder: string, type: SqlWatermarkType): string;
  /** Row locks for a read that a write in the same transaction depends on. */
  readonly lockedRead: { tableHint: string; suffix: string };
  upsert(upsert: SqlUpsert): string;
  savepoint(name: string): string;
  rollbackToSavepoint(name: string): string;
  /** Undefined where the dialect has no RELEASE (SQL Server). */
  releaseSavepoint(name: string): string | undefined;
  readonly versionQuery: string;
  /** Adapts a value to what the driver binds faithfully (SQLite has no booleans, pg would shift a Date to local time). */
  bind(value: SqlParam): SqlParam;
}

function limitSelect(select: SqlLimitedSelect): string {
  return `SELECT ${select.columns} FROM ${select.from} WHERE ${select.where} ORDER BY ${select.orderBy} LIMIT ${positiveInteger(select.limit)}`;
}

// Only ever a number the connector computed, but it is pasted into SQL text.
function positiveInteger(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`not a positive integer: ${value}`);
  return value;
}

function rowsSql(rows: string[][]): string {
  return rows.map((row) => `(${row.join(', ')})`).join(', ');
}

function savepointName(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new RangeError(`not a savepoint name: ${name}`);
  return name;
}

/** `2024-05-01T12:00:00.123Z` as `2024-05-01 12:00:00.123`, which DATETIME and TIMESTAMP accept in a UTC session. */
function mysqlDateTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

const postgres: SqlDialect = {
  name: 'postgres',
  // The wire protocol counts parameters in 16 bits.
  maxParameters: 65_535,
  maxRowsPerStatement: 1_000,
  quote: (identifier) => `"${identifier.replace(/"/g, '""')}"`,
  placeholder: (position) => `$${position}`,
  selectLimited: limitSelect,
  integerParameter: (placeholder) => `CAST(${placeholder} AS bigint)`,
  watermarkText: (column) => `CAST(${column} AS text)`,
  watermarkParameter: (placeholder, type) => (type === 'timestamp' ? placeholder : `CAST(${placeholder} AS bigint)`),
  lockedRead: { tableHint: '', suffix: ' FOR UPDATE' },
  upsert: ({ table, columns, rows }) => {
    const [key, ...rest] = columns;
    const onConflict = rest.length ? `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'DO NOTHING';
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rowsSql(rows)} ON CONFLICT (${key}) ${onConflict}`;
  },
  savepoint: (name) => `SAVEPOINT ${savepointName(name)}`,
  rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${savepointName(name)}`,
  releaseSavepoint: (name) => `RELEASE SAVEPOINT ${savepointName(name)}`,
  versionQuery: 'SELECT version() AS "version"',
  // An ISO string keeps its Z: timestamptz reads the zone, timestamp ignores it and keeps the UTC wall time.
  bind: (value) => (value instanceof Date ? value.toISOString() : value),
};

function mysqlFamily(name: 'mariadb' | 'mysql'): SqlDialect {
  return {
    name,
    maxParameters: 65_535,
    maxRowsPerStatement: 1_000,
    quote: (identifier) => `\`${identifier.replace(/`/g, '``')}\``,
    placeholder: () => '?',
    selectLimited: limitSelect,
    integerParameter: (placeholder) => `CAST(${placeholder} AS SIGNED)`,
    watermarkText: (column) => `CAST(${column} AS CHAR)`,
    watermarkParameter: (placeholder, type) => (type === 'timestamp' ? placeholder : `CAST(${placeholder} AS SIGNED)`),
    lockedRead: { tableHint: '', suffix: ' FOR UPDATE' },
    upsert: ({ table, columns, rows }) => {
      const [key, ...rest] = columns;
      // ON DUPLICATE KEY fires on any unique key, not only the anchor: a row
      // whose e-mail collides with another row's would otherwise overwrite
      // that other row. When the matched row has another anchor, the guard
      // evaluates a subquery that returns two rows, which fails the statement
      // in every sql_mode; the batch then falls back to single rows and only
      // the culprit fails. VALUES() is what MariaDB and MySQL both accept.
      const guard = `${key} = IF(${key} <=> VALUES(${key}), ${key}, (SELECT NULL UNION ALL SELECT NULL))`;
      const updates = [guard, ...rest.map((c) => `${c} = VALUES(${c})`)];
      return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rowsSql(rows)} ON DUPLICATE KEY UPDATE ${updates.join(', ')}`;
    },
    savepoint: (n) => `SAVEPOINT ${savepointName(n)}`,
    rollbackToSavepoint: (n) => `ROLLBACK TO SAVEPOINT ${savepointName(n)}`,
    releaseSavepoint: (n) => `RELEASE SAVEPOINT ${savepointName(n)}`,
    versionQuery: 'SELECT VERSION() AS `version`',
    // The session runs in UTC (the driver sets time_zone), so UTC wall time is the instant.
    bind: (value) => (value instanceof Date ? mysqlDateTime(value) : value),
  };
}

const sqlite: SqlDialect = {
  name: 'sqlite',
  // SQLITE_MAX_VARIABLE_NUMBER of SQLite 3.32 and later, as better-sqlite3 builds it.
  maxParameters: 32_766,
  maxRowsPerStatement: 1_000,
  quote: (identifier) => `"${identifier.replace(/"/g, '""')}"`,
  placeholder: () => '?',
  selectLimited: limitSelect,
  integerParameter: (placeholder) => `CAST(${placeholder} AS INTEGER)`,
  // A column with numeric affinity applies it to the text parameter again, so epoch numbers compare as numbers.
  watermarkText: (column) => `CAST(${column} AS TEXT)`,
  watermarkParameter: (placeholder, type) => (type === 'timestamp' ? placeholder : `CAST(${placeholder} AS INTEGER)`),
  // A write transaction starts with BEGIN IMMEDIATE, which locks the whole database.
  lockedRead: { tableHint: '', suffix: '' },
  upsert: ({ table, columns, rows }) => {
    const [key, ...rest] = columns;
    const onConflict = rest.length ? `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}` : 'DO NOTHING';
    return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rowsSql(rows)} ON CONFLICT (${key}) ${onConflict}`;
  },
  savepoint: (n) => `SAVEPOINT ${savepointName(n)}`,
  rollbackToSavepoint: (n) => `ROLLBACK TO SAVEPOINT ${savepointName(n)}`,
  releaseSavepoint: (n) => `RELEASE SAVEPOINT ${savepointName(n)}`,
  versionQuery: 'SELECT sqlite_version() AS "version"',
  bind: (value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    return value;
  },
};

const mssql: SqlDialect = {
  name: 'mssql',
  // SQL Server refuses a request with more than 2,100 parameters.
  maxParameters: 2_100,
  // A table value constructor is limited to 1,000 rows.
  maxRowsPerStatement: 1_000,
  quote: (identifier) => `[${identifier.replace(/]/g, ']]')}]`,
  placeholder: (position) => `@p${position}`,
  selectLimited: (select) =>
    `SELECT TOP (${positiveInteger(select.limit)}) ${select.columns} FROM ${select.from} WHERE ${select.where} ORDER BY ${select.orderBy}`,
  integerParameter: (placeholder) => `CAST(${placeholder} AS BIGINT)`,
  watermarkText: (column, type) =>
    type === 'timestamp'
      ? `CONVERT(NVARCHAR(40), ${column}, 126)`
      : type === 'rowversion'
        ? `CAST(CAST(${column} AS BIGINT) AS NVARCHAR(20))`
        : `CAST(${column} AS NVARCHAR(20))`,
  // rowversion is binary(8) and compares bytewise, which is the order of its big-endian integer.
  watermarkParameter: (placeholder, type) =>
    type === 'timestamp' ? placeholder : type === 'rowversion' ? `CAST(CAST(${placeholder} AS BIGINT) AS BINARY(8))` : `CAST(${placeholder} AS BIGINT)`,
  lockedRead: { tableHint: ' WITH (UPDLOCK, HOLDLOCK)', suffix: '' },
  upsert: ({ table, columns, rows }) => {
    const [key, ...rest] = columns;
    const source = (c: string) => `[source].${c}`;
    const whenMatched = rest.length ? ` WHEN MATCHED THEN UPDATE SET ${rest.map((c) => `${c} = ${source(c)}`).join(', ')}` : '';
    // HOLDLOCK: without it two concurrent MERGEs can both take the NOT MATCHED branch for the same key.
    return (
      `MERGE INTO ${table} WITH (HOLDLOCK) AS [target] USING (VALUES ${rowsSql(rows)}) AS [source] (${columns.join(', ')}) ` +
      `ON [target].${key} = ${source(key)}${whenMatched} ` +
      `WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map(source).join(', ')});`
    );
  },
  savepoint: (n) => `SAVE TRANSACTION ${savepointName(n)}`,
  rollbackToSavepoint: (n) => `ROLLBACK TRANSACTION ${savepointName(n)}`,
  releaseSavepoint: () => undefined,
  versionQuery: 'SELECT @@VERSION AS [version]',
  // Dates stay Date objects: the driver binds them as datetime2 in UTC.
  bind: (value) => value,
};

const DIALECTS: Record<SqlDialectName, SqlDialect> = {
  postgres,
  mariadb: mysqlFamily('mariadb'),
  mysql: mysqlFamily('mysql'),
  sqlite,
  mssql,
};

export function sqlDialect(name: SqlDialectName): SqlDialect {
  return DIALECTS[name];
}

/** Collects bound parameters while a statement is written, numbering placeholders as the dialect wants. */
export class SqlParameters {
  readonly values: SqlParam[] = [];

  constructor(private readonly dialect: SqlDialect) {}

  /** The placeholder for `value`, bound in the dialect's form. */
  add(value: SqlParam): string {
    this.values.push(this.dialect.bind(value));
    return this.dialect.placeholder(this.values.length);
  }
}
