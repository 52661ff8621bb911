import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';

export type TestDialect = 'sqlite' | 'postgres' | 'mariadb';

/**
 * Connection settings of a throwaway database, in the shape of the
 * persistence lib's `DatabaseSettings` (kept structural so this test lib does
 * not depend on the lib it tests).
 */
export interface ThrowawayDatabaseSettings {
  dialect: TestDialect;
  sqliteFile?: string;
  url?: string;
  poolSize: number;
  busyTimeoutMs: number;
  applicationName: string;
}

/** A database that exists only for one test file; `drop()` removes it and everything in it. */
export interface ThrowawayDatabase {
  settings: ThrowawayDatabaseSettings;
  /** The same database as `IM_DB_*` settings, for starting an app process on it. */
  env: Record<string, string>;
  /** Database name (server dialects) or file (SQLite). */
  name: string;
  drop(): Promise<void>;
}

/** Every dialect the integration tests can reach on this machine (SQL Server cannot run here). */
export const TEST_DIALECTS: TestDialect[] = ['sqlite', 'postgres', 'mariadb'];

const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_MARIADB_ADMIN_URL = 'mysql://root@127.0.0.1:3306/';

const COMMON = { poolSize: 5, busyTimeoutMs: 10_000, applicationName: 'identitymesh-test' } as const;

/**
 * Creates an empty database of the given dialect with a random name, so tests
 * running in parallel never see each other's data.
 *
 * Test-only: reads `IM_TEST_PG_URL` and `IM_TEST_MARIADB_URL` (admin
 * connection URLs) directly from the environment.
 */
export async function createThrowawayDatabase(dialect: TestDialect): Promise<ThrowawayDatabase> {
  switch (dialect) {
    case 'sqlite':
      return createSqlite();
    case 'postgres':
      return createPostgres(process.env['IM_TEST_PG_URL'] ?? DEFAULT_PG_ADMIN_URL);
    case 'mariadb':
      return createMariaDb(process.env['IM_TEST_MARIADB_URL'] ?? DEFAULT_MARIADB_ADMIN_URL);
  }
}

function randomDatabaseName(): string {
  return `im_test_${randomBytes(6).toString('hex')}`;
}

async function createSqlite(): Promise<ThrowawayDatabase> {
  const directory = await mkdtemp(join(tmpdir(), 'im-test-'));
  return {
    settings: { ...COMMON, dialect: 'sqlite', sqliteFile: join(directory, 'identitymesh.sqlite') },
    env: { IM_DB_TYPE: 'sqlite', IM_DB_SQLITE_FILE: join(directory, 'identitymesh.sqlite') },
    name: join(directory, 'identitymesh.sqlite'),
    drop: () => rm(directory, { recursive: true, force: true }),
  };
}

async function withPgAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, application_name: COMMON.applicationName });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createPostgres(adminUrl: string): Promise<ThrowawayDatabase> {
  const name = randomDatabaseName();
  await withPgAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    settings: { ...COMMON, dialect: 'postgres', url: url.toString() },
    env: { IM_DB_TYPE: 'postgres', IM_DB_URL: url.toString() },
    name,
    drop: () =>
      withPgAdmin(adminUrl, async (client) => {
        // A pool the test forgot to close would otherwise make DROP DATABASE fail.
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
          name,
        ]);
        await client.query(`DROP DATABASE IF EXISTS "${name}"`);
      }),
  };
}

async function withMariaDbAdmin<T>(
  adminUrl: string,
  work: (connection: Awaited<ReturnType<typeof createConnection>>) => Promise<T>,
): Promise<T> {
  const connection = await createConnection(adminUrl);
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

async function createMariaDb(adminUrl: string): Promise<ThrowawayDatabase> {
  const name = randomDatabaseName();
  await withMariaDbAdmin(adminUrl, (connection) =>
    connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    settings: { ...COMMON, dialect: 'mariadb', url: url.toString() },
    env: { IM_DB_TYPE: 'mariadb', IM_DB_URL: url.toString() },
    name,
    drop: async () => {
      await withMariaDbAdmin(adminUrl, (connection) => connection.query(`DROP DATABASE IF EXISTS \`${name}\``));
    },
  };
}
