/**
 * The four drivers behind one small interface: run a statement, run a
 * transaction. Each driver is loaded when a connector of its dialect first
 * connects, so a relay agent that only runs CSV connectors never loads a
 * native SQLite binding or the SQL Server client. The requires name each
 * package literally so bundlers and the generated package.json still see them.
 */
import type * as Pg from 'pg';
import type * as MySql from 'mysql2/promise';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqlDialectName, SqlStatement } from './sql-dialect';

export type SqlRow = Record<string, unknown>;

export interface SqlSession {
  /** Runs one statement: the rows of a query, an empty list for anything else. */
  query(statement: SqlStatement): Promise<SqlRow[]>;
}

export interface SqlDriver extends SqlSession {
  /**
   * Runs `work` in one transaction on one connection: committed when it
   * resolves, rolled back when it throws. SQLite takes the write lock at the
   * start (BEGIN IMMEDIATE), so reads in it are consistent with its writes.
   */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SqlDriverOptions {
  dialect: SqlDialectName;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  file?: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
  poolSize: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  /** Shown to the server's administrators (pg_stat_activity, sys.dm_exec_sessions). */
  applicationName: string;
  /** An idle pooled connection failed; the pool replaces it. Without a listener the process would crash. */
  onIdleError(error: unknown): void;
}

export function openSqlDriver(options: SqlDriverOptions): SqlDriver {
  switch (options.dialect) {
    case 'postgres':
      return new PgDriver(options);
    case 'mariadb':
    case 'mysql':
      return new MySqlDriver(options);
    case 'sqlite':
      return new SqliteDriver(options);
    case 'mssql':
      return new MssqlDriver(options);
  }
}

// pg parses these types itself without loss; every other type arrives as the
// server's text (timestamps with all their digits, numerics, json), which
// sql-values converts the same way on every dialect.
const PG_PARSED_TYPES = new Set([16 /* bool */, 17 /* bytea */, 20 /* int8: a string */, 21 /* int2 */, 23 /* int4 */, 26 /* oid */, 700, 701 /* floats */]);

class PgDriver implements SqlDriver {
  private readonly pool: Pg.Pool;

  constructor(options: SqlDriverOptions) {
    const pg = require('pg') as typeof Pg;
    const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
      PG_PARSED_TYPES.has(oid) ? pg.types.getTypeParser(oid, format) : (value: string) => value) as Pg.CustomTypesConfig['getTypeParser'];
    this.pool = new pg.Pool({
      host: options.host,
      port: options.port,
      database: options.database,
      user: options.user,
      password: options.password,
      ssl: options.encrypt ? { rejectUnauthorized: !options.trustServerCertificate } : false,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.queryTimeoutMs,
      application_name: options.applicationName,
      types: { getTypeParser },
    });
    this.pool.on('error', (error) => options.onIdleError(error));
  }

  async query(statement: SqlStatement): Promise<SqlRow[]> {
    return (await this.pool.query({ text: statement.sql, values: statement.params })).rows;
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work({ query: async (statement) => (await client.query({ text: statement.sql, values: statement.params })).rows });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        // The connection is gone or unusable: the pool must not hand it out again.
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

class MySqlDriver implements SqlDriver {
  private readonly pool: MySql.Pool;
  private readonly utcSessions = new WeakSet<object>();

  constructor(private readonly options: SqlDriverOptions) {
    const mysql = require('mysql2/promise') as typeof MySql;
    this.pool = mysql.createPool({
      host: options.host,
      port: options.port,
      database: options.database,
      user: options.user,
      password: options.password,
      ssl: options.encrypt ? { rejectUnauthorized: !options.trustServerCertificate } : undefined,
      connectionLimit: options.poolSize,
      connectTimeout: options.connectTimeoutMs,
      charset: 'utf8mb4',
      // Text keeps DATETIME(6) fractions and BIGINTs beyond 2^53; sql-values reads both.
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
      // Each connection caches its prepared statements; the server's limit is shared by every client.
      maxPreparedStatements: 64,
      connectAttributes: { program_name: options.applicationName },
    });
  }

  private async connection(): Promise<MySql.PoolConnection> {
    const connection = await this.pool.getConnection();
    try {
      // TIMESTAMP columns are read and written in the session's zone; UTC makes them mean what DATETIME means.
      if (!this.utcSessions.has(connection.connection)) {
        await connection.query("SET time_zone = '+00:00'");
        this.utcSessions.add(connection.connection);
      }
      return connection;
    } catch (error) {
      connection.release();
      throw error;
    }
  }

  private async run(connection: MySql.PoolConnection, statement: SqlStatement): Promise<SqlRow[]> {
    // Statements without values (savepoints among them, which not every server prepares) go over the text protocol.
    const [rows] =
      statement.params.length === 0
        ? await connection.query({ sql: statement.sql, timeout: this.options.queryTimeoutMs })
        : await connection.execute({ sql: statement.sql, timeout: this.options.queryTimeoutMs }, statement.params);
    return Array.isArray(rows) ? (rows as SqlRow[]) : [];
  }

  async query(statement: SqlStatement): Promise<SqlRow[]> {
    const connection = await this.connection();
    try {
      return await this.run(connection, statement);
    } finally {
      connection.release();
    }
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    const connection = await this.connection();
    let broken = false;
    try {
      await connection.beginTransaction();
      const result = await work({ query: (statement) => this.run(connection, statement) });
      await connection.commit();
      return result;
    } catch (error) {
      await connection.rollback().catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

class SqliteDriver implements SqlDriver {
  private database: BetterSqlite3.Database | undefined;
  // better-sqlite3 is synchronous and has one connection: statements of other
  // callers must not land inside a transaction that awaits between its own.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SqlDriverOptions) {}

  private open(): BetterSqlite3.Database {
    if (!this.database) {
      const Database = require('better-sqlite3') as typeof BetterSqlite3;
      const database = new Database(this.options.file as string, { fileMustExist: true, timeout: this.options.connectTimeoutMs });
      try {
        // Integers beyond 2^53 (anchors, rowids) come back as bigint instead of losing digits.
        database.defaultSafeIntegers(true);
        // Declared foreign keys are enforced, so an export cannot leave a dangling manager_id.
        database.pragma('foreign_keys = ON');
      } catch (error) {
        database.close();
        throw error;
      }
      this.database = database;
    }
    return this.database;
  }

  private run(statement: SqlStatement): SqlRow[] {
    const prepared = this.open().prepare(statement.sql);
    if (prepared.reader) return prepared.all(...statement.params) as SqlRow[];
    prepared.run(...statement.params);
    return [];
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  query(statement: SqlStatement): Promise<SqlRow[]> {
    return this.exclusive(async () => this.run(statement));
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const database = this.open();
      database.exec('BEGIN IMMEDIATE');
      try {
        const result = await work({ query: async (statement) => this.run(statement) });
        database.exec('COMMIT');
        return result;
      } catch (error) {
        if (database.inTransaction) database.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue;
    this.database?.close();
    this.database = undefined;
  }
}

/** The part of the mssql package this driver uses (the package ships no type declarations). */
interface MssqlRequest {
  input(name: string, value: unknown): MssqlRequest;
  input(name: string, type: unknown, value: unknown): MssqlRequest;
  query(sql: string): Promise<{ recordset?: SqlRow[] }>;
}
interface MssqlTransaction {
  begin(): Promise<unknown>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
interface MssqlPool {
  connect(): Promise<MssqlPool>;
  close(): Promise<void>;
  request(): MssqlRequest;
  on(event: 'error', listener: (error: unknown) => void): void;
}
interface MssqlModule {
  ConnectionPool: new (config: Record<string, unknown>) => MssqlPool;
  Transaction: new (pool: MssqlPool) => MssqlTransaction;
  Request: new (parent: MssqlTransaction) => MssqlRequest;
  DateTime2: unknown;
}

class MssqlDriver implements SqlDriver {
  private readonly mssql: MssqlModule;
  private readonly pool: MssqlPool;
  private connected: Promise<MssqlPool> | undefined;

  constructor(options: SqlDriverOptions) {
    this.mssql = require('mssql') as MssqlModule;
    this.pool = new this.mssql.ConnectionPool({
      server: options.host,
      port: options.port,
      database: options.database,
      user: options.user,
      password: options.password,
      connectionTimeout: options.connectTimeoutMs,
      requestTimeout: options.queryTimeoutMs,
      pool: { max: options.poolSize, min: 0 },
      options: { encrypt: options.encrypt, trustServerCertificate: options.trustServerCertificate, appName: options.applicationName, useUTC: true },
    });
    this.pool.on('error', (error) => options.onIdleError(error));
  }

  private async ready(): Promise<MssqlPool> {
    this.connected ??= this.pool.connect().catch((error: unknown) => {
      // The next call tries again instead of failing on the first attempt's error forever.
      this.connected = undefined;
      throw error;
    });
    return this.connected;
  }

  private bind(request: MssqlRequest, statement: SqlStatement): MssqlRequest {
    statement.params.forEach((value, index) => {
      // Left alone the driver would bind a Date as the legacy datetime type, rounding to 3.33 ms.
      if (value instanceof Date) request.input(`p${index + 1}`, this.mssql.DateTime2, value);
      else request.input(`p${index + 1}`, value);
    });
    return request;
  }

  async query(statement: SqlStatement): Promise<SqlRow[]> {
    const pool = await this.ready();
    return (await this.bind(pool.request(), statement).query(statement.sql)).recordset ?? [];
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    const pool = await this.ready();
    const transaction = new this.mssql.Transaction(pool);
    await transaction.begin();
    try {
      const result = await work({ query: async (statement) => (await this.bind(new this.mssql.Request(transaction), statement).query(statement.sql)).recordset ?? [] });
      await transaction.commit();
      return result;
    } catch (error) {
      // A transaction the server already aborted (XACT_ABORT, a deadlock) cannot be rolled back again.
      await transaction.rollback().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.pool.close();
  }
}
