import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConfigError } from './config-error';
import { assertClusterModeAvailable, loadCommonConfig, loadDatabaseConfig } from './shared-settings';

function configErrorOf(work: () => unknown): ConfigError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('loadCommonConfig', () => {
  let cwd: string;

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'im-common-config-'));
  });

  afterEach(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  it('applies the defaults', () => {
    const config = loadCommonConfig('admin-api', '1.2.3', {}, cwd);
    expect(config).toMatchObject({
      app: 'admin-api',
      version: '1.2.3',
      clusterMode: 'single',
      bindAddress: '127.0.0.1',
      shutdownTimeoutMs: 30_000,
      log: { level: 'info', retentionDays: 14 },
    });
    // Outside a checkout the data directory is the per-OS one, never the working directory.
    expect(isAbsolute(config.dataDir)).toBe(true);
    expect(config.dataDir.startsWith(cwd)).toBe(false);
    expect(config.log.dir).toBe(join(config.dataDir, 'logs'));
  });

  it('uses ./data when started inside a checkout (nx.json in the working directory)', () => {
    writeFileSync(join(cwd, 'nx.json'), '{}');
    const config = loadCommonConfig('sync-engine', '1.2.3', {}, cwd);
    expect(config.dataDir).toBe(join(cwd, 'data'));
    expect(config.log.dir).toBe(join(cwd, 'data', 'logs'));
  });

  it('resolves a relative IM_DATA_DIR against the working directory', () => {
    const config = loadCommonConfig('sync-engine', '1.2.3', { IM_DATA_DIR: 'state/im' }, cwd);
    expect(config.dataDir).toBe(join(cwd, 'state', 'im'));
    expect(config.log.dir).toBe(join(cwd, 'state', 'im', 'logs'));
  });

  it('keeps an absolute IM_DATA_DIR as it is', () => {
    const dataDir = join(cwd, 'elsewhere');
    expect(loadCommonConfig('sync-engine', '1.2.3', { IM_DATA_DIR: dataDir }, '/').dataDir).toBe(dataDir);
  });

  it('reads the set values', () => {
    const config = loadCommonConfig(
      'admin-api',
      '1.2.3',
      {
        IM_DATA_DIR: cwd,
        IM_LOG_LEVEL: 'debug',
        IM_LOG_RETENTION_DAYS: '3',
        IM_SHUTDOWN_TIMEOUT_MS: '500',
        IM_BIND_ADDRESS: '0.0.0.0',
      },
      cwd,
    );
    expect(config).toMatchObject({ bindAddress: '0.0.0.0', shutdownTimeoutMs: 500, log: { level: 'debug', retentionDays: 3 } });
  });

  it('names IM_LOG_LEVEL and its allowed values when the level is wrong', () => {
    const error = configErrorOf(() => loadCommonConfig('admin-api', '1.2.3', { IM_LOG_LEVEL: 'verbose' }, cwd));
    expect(error.problems).toEqual([
      { setting: 'IM_LOG_LEVEL', problem: 'must be one of fatal, error, warn, info, debug, trace (got "verbose")' },
    ]);
  });
});

describe('loadDatabaseConfig', () => {
  const dataDir = '/var/lib/identitymesh';

  it('defaults to an SQLite file under the data directory, migrated automatically', () => {
    expect(loadDatabaseConfig('admin-api', dataDir, {})).toEqual({
      dialect: 'sqlite',
      sqliteFile: join(dataDir, 'identitymesh.sqlite'),
      poolSize: 10,
      busyTimeoutMs: 10_000,
      applicationName: 'identitymesh-admin-api',
      autoMigrate: true,
    });
  });

  it('resolves IM_DB_SQLITE_FILE against the data directory and honours IM_DB_AUTO_MIGRATE=false', () => {
    const config = loadDatabaseConfig('admin-api', dataDir, { IM_DB_SQLITE_FILE: 'db/im.sqlite', IM_DB_AUTO_MIGRATE: 'false' });
    expect(config.sqliteFile).toBe(join(dataDir, 'db', 'im.sqlite'));
    expect(config.autoMigrate).toBe(false);
  });

  it('requires IM_DB_URL (or IM_DB_HOST) for postgres', () => {
    const error = configErrorOf(() => loadDatabaseConfig('admin-api', dataDir, { IM_DB_TYPE: 'postgres' }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].setting).toBe('IM_DB_URL');
    expect(error.problems[0].problem).toContain('IM_DB_TYPE=postgres');
  });

  it('requires IM_DB_NAME with IM_DB_HOST', () => {
    const error = configErrorOf(() => loadDatabaseConfig('admin-api', dataDir, { IM_DB_TYPE: 'postgres', IM_DB_HOST: 'db' }));
    expect(error.problems.map((p) => p.setting)).toEqual(['IM_DB_NAME']);
  });

  it('rejects an IM_DB_URL with a scheme no driver speaks', () => {
    const error = configErrorOf(() =>
      loadDatabaseConfig('admin-api', dataDir, { IM_DB_TYPE: 'postgres', IM_DB_URL: 'http://db.example.com/identitymesh' }),
    );
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].setting).toBe('IM_DB_URL');
    expect(error.problems[0].problem).toContain('must be a URL with scheme postgres');
  });

  it('rejects an IM_DB_URL that is not a URL', () => {
    const error = configErrorOf(() => loadDatabaseConfig('admin-api', dataDir, { IM_DB_TYPE: 'postgres', IM_DB_URL: 'db:5432' }));
    expect(error.problems.map((p) => p.setting)).toEqual(['IM_DB_URL']);
  });

  it('rejects an unknown IM_DB_TYPE, naming the dialects', () => {
    const error = configErrorOf(() => loadDatabaseConfig('admin-api', dataDir, { IM_DB_TYPE: 'oracle' }));
    expect(error.problems).toEqual([
      { setting: 'IM_DB_TYPE', problem: 'must be one of sqlite, postgres, mariadb, mysql, mssql (got "oracle")' },
    ]);
  });

  it('names IM_DB_PORT when the port is not a number', () => {
    const error = configErrorOf(() =>
      loadDatabaseConfig('admin-api', dataDir, { IM_DB_TYPE: 'postgres', IM_DB_HOST: 'db', IM_DB_NAME: 'im', IM_DB_PORT: 'five' }),
    );
    expect(error.problems.map((p) => p.setting)).toEqual(['IM_DB_PORT']);
  });

  it('takes host and name for postgres with the default port, not migrating automatically', () => {
    const config = loadDatabaseConfig('sync-engine', dataDir, {
      IM_DB_TYPE: 'postgres',
      IM_DB_HOST: 'db.example.com',
      IM_DB_NAME: 'identitymesh',
      IM_DB_USER: 'im',
      IM_DB_PASSWORD: 's3cret',
    });
    expect(config).toEqual({
      dialect: 'postgres',
      url: undefined,
      host: 'db.example.com',
      port: 5432,
      username: 'im',
      password: 's3cret',
      database: 'identitymesh',
      poolSize: 10,
      busyTimeoutMs: 10_000,
      encrypt: undefined,
      trustServerCertificate: undefined,
      applicationName: 'identitymesh-sync-engine',
      autoMigrate: false,
    });
    expect(config.sqliteFile).toBeUndefined();
  });

  it('honours IM_DB_AUTO_MIGRATE=true for a server database', () => {
    const config = loadDatabaseConfig('sync-engine', dataDir, {
      IM_DB_TYPE: 'postgres',
      IM_DB_URL: 'postgres://im@db.example.com/identitymesh',
      IM_DB_AUTO_MIGRATE: 'true',
    });
    expect(config.url).toBe('postgres://im@db.example.com/identitymesh');
    expect(config.autoMigrate).toBe(true);
  });

  it('uses the default port of each server dialect', () => {
    const portOf = (type: string) => loadDatabaseConfig('x', dataDir, { IM_DB_TYPE: type, IM_DB_HOST: 'db', IM_DB_NAME: 'im' }).port;
    expect([portOf('mariadb'), portOf('mysql'), portOf('mssql')]).toEqual([3306, 3306, 1433]);
    expect(loadDatabaseConfig('x', dataDir, { IM_DB_TYPE: 'mssql', IM_DB_HOST: 'db', IM_DB_NAME: 'im', IM_DB_PORT: '14330' }).port).toBe(
      14330,
    );
  });
});

describe('assertClusterModeAvailable', () => {
  const config = loadCommonConfig('admin-api', '1.2.3', { IM_DATA_DIR: '/var/lib/identitymesh' }, '/');

  it('refuses cluster mode, naming IM_CLUSTER_MODE', () => {
    const error = configErrorOf(() => assertClusterModeAvailable({ ...config, clusterMode: 'cluster' }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].setting).toBe('IM_CLUSTER_MODE');
    expect(error.message).toContain('IM_CLUSTER_MODE');
  });

  it('lets single mode pass', () => {
    expect(() => assertClusterModeAvailable({ ...config, clusterMode: 'single' })).not.toThrow();
  });
});
