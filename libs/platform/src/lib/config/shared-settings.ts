import { homedir, platform } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CLUSTER_MODES, ClusterMode, DATABASE_DIALECTS, DatabaseDialect } from '@identitymesh/domain';
import { ConfigError } from './config-error';
import { parseSettings, RawSettings, setting } from './settings';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Settings every app reads. */
export const commonSettingsShape = {
  IM_DATA_DIR: z.string().min(1).optional(),
  IM_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  IM_LOG_RETENTION_DAYS: setting.positiveInt(14),
  IM_CLUSTER_MODE: z.enum(CLUSTER_MODES).default('single'),
  IM_SHUTDOWN_TIMEOUT_MS: setting.positiveInt(30_000),
  IM_BIND_ADDRESS: z.string().min(1).default('127.0.0.1'),
};

/** Settings of the apps that talk to the database (admin-api, sync-engine). */
export const databaseSettingsShape = {
  IM_DB_TYPE: z.enum(DATABASE_DIALECTS).default('sqlite'),
  IM_DB_URL: setting.url(['postgres', 'postgresql', 'mysql', 'mariadb', 'mssql', 'sqlserver']).optional(),
  IM_DB_HOST: z.string().min(1).optional(),
  IM_DB_PORT: z.coerce.number({ message: 'must be a TCP port number' }).int().min(1).max(65535).optional(),
  IM_DB_USER: z.string().min(1).optional(),
  IM_DB_PASSWORD: z.string().optional(),
  IM_DB_NAME: z.string().min(1).optional(),
  IM_DB_SQLITE_FILE: z.string().min(1).optional(),
  IM_DB_POOL_SIZE: setting.positiveInt(10),
  IM_DB_BUSY_TIMEOUT_MS: setting.positiveInt(10_000),
  IM_DB_ENCRYPT: setting.optionalBoolean(),
  IM_DB_TRUST_SERVER_CERTIFICATE: setting.optionalBoolean(),
  IM_DB_AUTO_MIGRATE: setting.optionalBoolean(),
};

export interface LogSettings {
  level: LogLevel;
  dir: string;
  retentionDays: number;
}

export interface CommonConfig {
  app: string;
  version: string;
  dataDir: string;
  clusterMode: ClusterMode;
  bindAddress: string;
  shutdownTimeoutMs: number;
  log: LogSettings;
}

/** Database settings after validation; the persistence lib's `DatabaseSettings` has this shape. */
export interface DatabaseConfig {
  dialect: DatabaseDialect;
  sqliteFile?: string;
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
  poolSize: number;
  busyTimeoutMs: number;
  encrypt?: boolean;
  trustServerCertificate?: boolean;
  applicationName: string;
  /** Apply pending migrations at start (default: only for the embedded SQLite file). */
  autoMigrate: boolean;
}

const DEFAULT_PORTS: Record<Exclude<DatabaseDialect, 'sqlite'>, number> = {
  postgres: 5432,
  mariadb: 3306,
  mysql: 3306,
  mssql: 1433,
};

/**
 * The per-OS data directory, or `./data` when started from inside the
 * repository (a checkout has nx.json at its root), so a developer's runs never
 * write to system folders.
 */
export function defaultDataDir(cwd: string, env: RawSettings): string {
  if (existsSync(join(cwd, 'nx.json'))) return resolve(cwd, 'data');
  switch (platform()) {
    case 'win32':
      return join(env['ProgramData'] ?? 'C:\\ProgramData', 'IdentityMesh');
    case 'darwin':
      return '/Library/Application Support/IdentityMesh';
    default:
      return process.getuid?.() === 0 ? '/var/lib/identitymesh' : join(homedir(), '.local', 'share', 'identitymesh');
  }
}

export function loadCommonConfig(app: string, version: string, env: RawSettings, cwd: string): CommonConfig {
  const s = parseSettings(commonSettingsShape, env);
  const dataDir = resolve(cwd, s.IM_DATA_DIR ?? defaultDataDir(cwd, env));
  return {
    app,
    version,
    dataDir,
    clusterMode: s.IM_CLUSTER_MODE,
    bindAddress: s.IM_BIND_ADDRESS,
    shutdownTimeoutMs: s.IM_SHUTDOWN_TIMEOUT_MS,
    log: { level: s.IM_LOG_LEVEL, dir: join(dataDir, 'logs'), retentionDays: s.IM_LOG_RETENTION_DAYS },
  };
}

export function loadDatabaseConfig(app: string, dataDir: string, env: RawSettings): DatabaseConfig {
  const s = parseSettings(databaseSettingsShape, env);
  const dialect = s.IM_DB_TYPE;
  const base = {
    dialect,
    poolSize: s.IM_DB_POOL_SIZE,
    busyTimeoutMs: s.IM_DB_BUSY_TIMEOUT_MS,
    applicationName: `identitymesh-${app}`,
  };
  if (dialect === 'sqlite') {
    return {
      ...base,
      sqliteFile: resolve(dataDir, s.IM_DB_SQLITE_FILE ?? 'identitymesh.sqlite'),
      autoMigrate: s.IM_DB_AUTO_MIGRATE ?? true,
    };
  }
  if (!s.IM_DB_URL && !s.IM_DB_HOST) {
    throw new ConfigError([
      { setting: 'IM_DB_URL', problem: `is required when IM_DB_TYPE=${dialect} (or set IM_DB_HOST, IM_DB_USER, IM_DB_NAME)` },
    ]);
  }
  if (!s.IM_DB_URL && !s.IM_DB_NAME) {
    throw new ConfigError([{ setting: 'IM_DB_NAME', problem: `is required with IM_DB_HOST when IM_DB_TYPE=${dialect}` }]);
  }
  return {
    ...base,
    url: s.IM_DB_URL,
    host: s.IM_DB_HOST,
    port: s.IM_DB_PORT ?? DEFAULT_PORTS[dialect],
    username: s.IM_DB_USER,
    password: s.IM_DB_PASSWORD,
    database: s.IM_DB_NAME,
    encrypt: s.IM_DB_ENCRYPT,
    trustServerCertificate: s.IM_DB_TRUST_SERVER_CERTIFICATE,
    autoMigrate: s.IM_DB_AUTO_MIGRATE ?? false,
  };
}

/**
 * Cluster mode needs the Redis scale-out layer, which this build does not
 * carry yet: refuse it plainly instead of running a cluster that would
 * silently split relay connections, keys and rate limits per instance.
 */
export function assertClusterModeAvailable(config: CommonConfig): void {
  if (config.clusterMode === 'cluster') {
    throw new ConfigError([
      {
        setting: 'IM_CLUSTER_MODE',
        problem:
          'cluster is not available in this version (the Redis key ring, relay adapter, shared cache invalidation and distributed rate limits are not built yet); use single',
      },
    ]);
  }
}
