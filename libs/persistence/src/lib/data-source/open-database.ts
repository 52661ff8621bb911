import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import type { Logger } from 'typeorm';
import { withTransientRetry } from '../retry/retry-policy';
import { withDatabaseLock } from '../schema/database-lock';
import { SchemaMismatchError } from '../schema/schema.errors';
import { SchemaRepository, SchemaState } from '../schema/schema.repository';
import { buildDataSourceOptions } from './data-source-options';
import { DatabaseSettings, describeDatabase } from './database-settings';
import { serializeSqliteAccess } from './sqlite-serializer';

/** The few log calls the persistence core makes; pino and Nest's Logger both fit. */
export interface PersistenceLog {
  info(message: string): void;
  warn(message: string): void;
}

const silent: PersistenceLog = { info: () => undefined, warn: () => undefined };

export interface ConnectOptions {
  /**
   * Called with every SQL statement the data source sends, BEGIN and COMMIT
   * included: how tests and the benchmark count statements per object.
   */
  onQuery?: (sql: string) => void;
}

/** Connects, retrying while the server is briefly unreachable (restarting, failing over). */
export async function connectDatabase(settings: DatabaseSettings, log: PersistenceLog = silent, options: ConnectOptions = {}): Promise<DataSource> {
  if (settings.dialect === 'sqlite' && settings.sqliteFile) mkdirSync(dirname(settings.sqliteFile), { recursive: true });
  return withTransientRetry(
    'connect',
    async () => {
      const onQuery = options.onQuery;
      const dataSource = new DataSource({ ...buildDataSourceOptions(settings), ...(onQuery ? { logger: statementLogger(onQuery) } : {}) });
      await dataSource.initialize();
      serializeSqliteAccess(dataSource);
      return dataSource;
    },
    {
      onRetry: ({ attempt, delayMs, error }) =>
        log.warn(`database ${describeDatabase(settings)} unreachable (attempt ${attempt}: ${(error as Error).message}); retrying in ${delayMs} ms`),
    },
  );
}

/** A TypeORM logger that reports each statement and nothing else. */
function statementLogger(onQuery: (sql: string) => void): Logger {
  return {
    logQuery: (query) => onQuery(query),
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };
}

/**
 * Applies pending migrations under the migrations lock, so two processes
 * starting together on one database never run the same migration twice.
 * Returns the names applied.
 */
export async function migrateDatabase(dataSource: DataSource, log: PersistenceLog = silent): Promise<string[]> {
  return withDatabaseLock(dataSource, 'migrations', async () => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) log.info(`applied migration ${migration.name}`);
    return applied.map((m) => m.name);
  });
}

export interface OpenDatabaseOptions extends ConnectOptions {
  /** Apply pending migrations before checking the schema (the embedded SQLite default does). */
  autoMigrate: boolean;
  log?: PersistenceLog;
}

/**
 * Connects and makes sure the schema is exactly the one this build expects:
 * an app never runs against a schema older or newer than it understands.
 */
export async function openDatabase(settings: DatabaseSettings, options: OpenDatabaseOptions): Promise<{ dataSource: DataSource; schema: SchemaState }> {
  const log = options.log ?? silent;
  const dataSource = await connectDatabase(settings, log, { onQuery: options.onQuery });
  try {
    if (options.autoMigrate) await migrateDatabase(dataSource, log);
    const schema = await new SchemaRepository(dataSource).state();
    if (schema.status !== 'current') throw new SchemaMismatchError(schema);
    log.info(`database ${describeDatabase(settings)} ready at schema ${schema.expected}`);
    return { dataSource, schema };
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/** `migrate` as an operator command: connect, apply what is pending, disconnect. */
export async function migrateToLatest(settings: DatabaseSettings, log: PersistenceLog = silent): Promise<string[]> {
  const dataSource = await connectDatabase(settings, log);
  try {
    return await migrateDatabase(dataSource, log);
  } finally {
    await dataSource.destroy();
  }
}

/** `node main.js migrate` of the database-backed apps. */
export async function migrateCommand(settings: DatabaseSettings, log: PersistenceLog): Promise<void> {
  const applied = await migrateToLatest(settings, log);
  log.info(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'schema already up to date');
}
