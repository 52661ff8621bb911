import type { DataSourceOptions } from 'typeorm';
import { assertUnreachable } from '@identitymesh/domain';
import { ALL_ENTITIES } from '../entities';
import { ALL_MIGRATIONS } from '../migrations';
import { DatabaseSettings } from './database-settings';

/** How long PostgreSQL lets a session sit idle inside an open transaction before ending it. */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/** WAL pages (4 KiB each) after which a commit checkpoints the WAL into the SQLite file: 64 MiB. */
export const SQLITE_WAL_AUTOCHECKPOINT_PAGES = 16_384;

/** TypeORM's own bookkeeping table keeps the product prefix too. */
export const MIGRATIONS_TABLE = 'IM_Migrations';

/**
 * TypeORM options for one of the supported dialects. Schema changes only ever
 * come from migrations (`synchronize` stays off), and each driver is required
 * here by name: TypeORM would otherwise load it dynamically, which hides it
 * from the bundler and from the generated package.json of each app.
 */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = {
    entities: ALL_ENTITIES,
    migrations: ALL_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    migrationsRun: false,
    logging: false as const,
  };
  const dialect = settings.dialect;
  switch (dialect) {
    case 'sqlite':
      return {
        ...common,
        type: 'better-sqlite3',
        driver: require('better-sqlite3'),
        database: requireSetting(settings.sqliteFile, 'sqliteFile'),
        enableWAL: true,
        timeout: settings.busyTimeoutMs,
        prepareDatabase: (db: { pragma(source: string): unknown }) => {
          // WAL lets the Admin API read while the engine writes the same file;
          // the busy timeout makes writers queue instead of failing at once.
          db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
          db.pragma('foreign_keys = ON');
          db.pragma('synchronous = NORMAL');
          // A batch transaction writes megabytes (objects, mesh, queue, audit). With SQLite's
          // default of a checkpoint per 1,000 WAL pages (4 MiB) nearly every batch commit ran
          // one, with two fsyncs; the benchmark's full sync spent an eighth of its time in them.
          db.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`);
        },
      };
    case 'postgres':
      return {
        ...common,
        type: 'postgres',
        driver: utcPg(),
        ...connection(settings),
        applicationName: settings.applicationName,
        poolSize: settings.poolSize,
        extra: {
          connectionTimeoutMillis: 10_000,
          // A process stopped in the middle of a transaction (SIGSTOP, a hung
          // host) would hold its row locks until it resumes, and with them an
          // engine's connector lease: the server ends such a session instead,
          // so another engine can take the lease over (the stopped one's
          // transaction rolls back). No transaction of the product waits on
          // anything but the database while it is open.
          idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
        },
      };
    case 'mariadb':
    case 'mysql':
      return {
        ...common,
        type: dialect,
        driver: require('mysql2'),
        ...connection(settings),
        charset: 'utf8mb4_unicode_ci',
        timezone: 'Z',
        poolSize: settings.poolSize,
        connectTimeout: 10_000,
      };
    case 'mssql':
      return {
        ...common,
        type: 'mssql',
        driver: require('mssql'),
        ...connection(settings),
        pool: { max: settings.poolSize },
        options: {
          encrypt: settings.encrypt ?? true,
          trustServerCertificate: settings.trustServerCertificate ?? false,
          appName: settings.applicationName,
        },
      };
    default:
      return assertUnreachable(dialect);
  }
}

/**
 * The pg driver writes and reads `timestamp without time zone` in the Node
 * process's local time zone; two engines in different zones would then
 * disagree about every heartbeat and lease. Timestamps are UTC on every
 * dialect (MariaDB/MySQL get `timezone: 'Z'` above).
 */
function utcPg(): unknown {
  const pg = require('pg');
  pg.defaults.parseInputDatesAsUTC = true;
  const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;
  pg.types.setTypeParser(TIMESTAMP_WITHOUT_TIME_ZONE, (value: string) => new Date(`${value.replace(' ', 'T')}Z`));
  return pg;
}

function connection(settings: DatabaseSettings) {
  if (settings.url) return { url: settings.url };
  return {
    host: settings.host,
    port: settings.port,
    username: settings.username,
    password: settings.password,
    database: settings.database,
  };
}

function requireSetting<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`database setting ${name} is required for this dialect`);
  return value;
}
