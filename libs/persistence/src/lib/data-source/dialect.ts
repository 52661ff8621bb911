import type { DataSource, EntityManager } from 'typeorm';

/** The TypeORM driver types the product runs on. */
export type DriverType = 'better-sqlite3' | 'postgres' | 'mysql' | 'mariadb' | 'mssql';

export function driverTypeOf(source: DataSource | EntityManager): DriverType {
  const dataSource = 'dataSource' in source ? source.dataSource : source;
  return dataSource.options.type as DriverType;
}

/**
 * Bound parameters one statement may carry: PostgreSQL's and MySQL's protocol
 * limit (65,535), SQLite's SQLITE_MAX_VARIABLE_NUMBER (32,766 since 3.32) and
 * SQL Server's 2,100, each with headroom for the statement's own parameters.
 */
const MAX_PARAMETERS: Record<DriverType, number> = {
  'better-sqlite3': 32_000,
  postgres: 65_000,
  mysql: 65_000,
  mariadb: 65_000,
  mssql: 2_000,
};

/**
 * How many rows of `parametersPerRow` parameters fit into one statement that
 * also binds `reserved` other parameters, at most `cap`. Set-based writes
 * chunk by this, so one batch is one statement wherever the dialect allows it.
 */
export function rowsPerStatement(source: DataSource | EntityManager, parametersPerRow: number, reserved = 0, cap = Number.POSITIVE_INFINITY): number {
  const fit = Math.floor((MAX_PARAMETERS[driverTypeOf(source)] - reserved) / parametersPerRow);
  return Math.max(1, Math.min(cap, fit));
}

/** The items in slices of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Whether `error` is a violation of a unique or primary key, by the drivers'
 * codes: PostgreSQL 23505, MySQL/MariaDB 1062, SQLite's constraint codes, SQL
 * Server 2627/2601.
 */
export function isUniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const record = current as Record<string, unknown>;
    const code = record['code'];
    const errno = record['errno'];
    const number = record['number'];
    if (code === '23505' || code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') return true;
    if (errno === 1062 || number === 2627 || number === 2601) return true;
    current = record['driverError'] ?? record['originalError'] ?? record['cause'];
  }
  return false;
}
