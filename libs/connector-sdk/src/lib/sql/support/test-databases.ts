/*
 * Throwaway databases for the SQL connector's integration tests: a temp file
 * for SQLite, a random-named database on the PostgreSQL and MariaDB of
 * tools/dev-services (loopback, trust / root without password). Test-only:
 * reads IM_TEST_PG_URL and IM_TEST_MARIADB_URL directly.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import type { ConnectorContext } from '../../connector';

export type SqlTestDialect = 'sqlite' | 'postgres' | 'mariadb';
export const SQL_TEST_DIALECTS: SqlTestDialect[] = ['sqlite', 'postgres', 'mariadb'];

const PG_ADMIN_URL = process.env['IM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MARIADB_ADMIN_URL = process.env['IM_TEST_MARIADB_URL'] ?? 'mysql://root@127.0.0.1:3306/';

/** The reference the PostgreSQL configs name; trust authentication accepts any password, so it proves resolution without needing a real one. */
export const PG_PASSWORD_REF = 'sql/test/pg-password';
export const PG_PASSWORD = 'Tr0ub4dor&3-not-in-any-log';

export interface TestDatabase {
  dialect: SqlTestDialect;
  /** The connector's `connection` setting for this database. */
  connection: Record<string, unknown>;
  /** Runs statements directly, `?` placeholders on every dialect. */
  exec(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  drop(): Promise<void>;
}

export function testContext(secrets: Record<string, string> = { [PG_PASSWORD_REF]: PG_PASSWORD }, log?: string[]): ConnectorContext {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => log?.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return {
    connectorId: 'sql-spec',
    secrets: { resolve: async (reference) => (reference in secrets ? secrets[reference] : Promise.reject(new Error(`no secret ${reference}`))) },
    logger: { debug: write('debug'), info: write('info'), warn: write('warn') },
  };
}

function randomName(): string {
  return `im_sql_${randomBytes(6).toString('hex')}`;
}

function withUrlPath(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `/${path}`;
  return url;
}

export async function createTestDatabase(dialect: SqlTestDialect): Promise<TestDatabase> {
  switch (dialect) {
    case 'sqlite': {
      const directory = await mkdtemp(join(tmpdir(), 'im-sql-'));
      const file = join(directory, 'system.sqlite');
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      return {
        dialect,
        connection: { file },
        exec: async (sql, params = []) => {
          const statement = db.prepare(sql);
          if (statement.reader) return statement.all(...params) as Array<Record<string, unknown>>;
          statement.run(...params);
          return [];
        },
        drop: async () => {
          db.close();
          await rm(directory, { recursive: true, force: true });
        },
      };
    }
    case 'postgres': {
      const name = randomName();
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      const url = withUrlPath(PG_ADMIN_URL, name);
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      return {
        dialect,
        connection: { url: url.toString(), passwordSecret: PG_PASSWORD_REF },
        exec: async (sql, params = []) => {
          let position = 0;
          return (await client.query(sql.replace(/\?/g, () => `$${++position}`), params)).rows;
        },
        drop: async () => {
          await client.end();
          // A connector the test forgot to close would otherwise keep the database in use.
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
          await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
          await admin.end();
        },
      };
    }
    case 'mariadb': {
      const name = randomName();
      const admin = await createConnection(MARIADB_ADMIN_URL);
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      const url = withUrlPath(MARIADB_ADMIN_URL, name);
      const connection = await createConnection({ uri: url.toString(), dateStrings: true, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true });
      await connection.query("SET time_zone = '+00:00'");
      return {
        dialect,
        connection: { url: url.toString() },
        exec: async (sql, params = []) => {
          const [rows] = await connection.query(sql, params);
          return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
        },
        drop: async () => {
          await connection.end();
          await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
          await admin.end();
        },
      };
    }
  }
}

/** Column types per dialect for the test tables. */
export const COLUMN_TYPES: Record<SqlTestDialect, { text: string; key: string; timestamp: string; boolean: string; bigint: string; blob: string }> = {
  sqlite: { text: 'TEXT', key: 'TEXT', timestamp: 'TEXT', boolean: 'INTEGER', bigint: 'INTEGER', blob: 'BLOB' },
  postgres: { text: 'text', key: 'varchar(64)', timestamp: 'timestamptz(6)', boolean: 'boolean', bigint: 'bigint', blob: 'bytea' },
  mariadb: { text: 'varchar(255)', key: 'varchar(64)', timestamp: 'datetime(6)', boolean: 'tinyint(1)', bigint: 'bigint', blob: 'varbinary(255)' },
};
