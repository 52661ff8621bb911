/*
 * The SQL connector's real systems for the conformance kit: a table (or a
 * view over it) in a throwaway database per case, a temp file for SQLite and
 * a random-named database on the PostgreSQL and MariaDB of
 * tools/dev-services. The driver reads and writes it with plain SQL through
 * the drivers themselves, never through the connector.
 *
 * Test-only: reads IM_TEST_PG_URL and IM_TEST_MARIADB_URL directly.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import type { Attributes, AttributeValue, ImportedObject } from '@identitymesh/connector-sdk';
import type { ConformanceObject, SeededObject, SystemDriver } from '../../../lib/conformance-harness';

export type SqlSystemDialect = 'sqlite' | 'postgres' | 'mariadb';

const PG_ADMIN_URL = process.env['IM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MARIADB_ADMIN_URL = process.env['IM_TEST_MARIADB_URL'] ?? 'mysql://root@127.0.0.1:3306/';

type Row = Record<string, unknown>;

/** Plain SQL with `?` placeholders on every dialect. */
interface ThrowawayDatabase {
  exec(sql: string, params?: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
  connection: Record<string, unknown>;
}

async function createDatabase(dialect: SqlSystemDialect): Promise<ThrowawayDatabase> {
  const name = `im_conf_${randomBytes(6).toString('hex')}`;
  if (dialect === 'sqlite') {
    const directory = await mkdtemp(join(tmpdir(), 'im-sql-conformance-'));
    const file = join(directory, 'system.sqlite');
    const db = new Database(file);
    return {
      connection: { file },
      exec: async (sql, params = []) => {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all(...params) as Row[];
        statement.run(...params);
        return [];
      },
      drop: async () => {
        db.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  }
  if (dialect === 'postgres') {
    const admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    return {
      connection: { url: url.toString() },
      exec: async (sql, params = []) => {
        let position = 0;
        return (await client.query(sql.replace(/\?/g, () => `$${++position}`), params)).rows;
      },
      drop: async () => {
        await client.end();
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
        await admin.end();
      },
    };
  }
  const admin = await createConnection(MARIADB_ADMIN_URL);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = new URL(MARIADB_ADMIN_URL);
  url.pathname = `/${name}`;
  const connection = await createConnection({ uri: url.toString(), dateStrings: true, timezone: 'Z' });
  await connection.query("SET time_zone = '+00:00'");
  return {
    connection: { url: url.toString() },
    exec: async (sql, params = []) => {
      const [rows] = await connection.query(sql, params);
      return Array.isArray(rows) ? (rows as Row[]) : [];
    },
    drop: async () => {
      await connection.end();
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

const TYPES: Record<SqlSystemDialect, { key: string; text: string; boolean: string; timestamp: string; now: string }> = {
  sqlite: { key: 'TEXT', text: 'TEXT', boolean: 'INTEGER', timestamp: 'TEXT', now: "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" },
  postgres: { key: 'varchar(64)', text: 'text', boolean: 'boolean', timestamp: 'timestamptz(3)', now: 'clock_timestamp()' },
  mariadb: { key: 'varchar(64)', text: 'varchar(255)', boolean: 'tinyint(1)', timestamp: 'datetime(6)', now: 'CURRENT_TIMESTAMP(6)' },
};

/** How the attributes of the harness's samples sit in the table. */
const COLUMNS: Array<{ attribute: string; column: string; kind: 'text' | 'list' | 'integer' | 'boolean' | 'datetime' }> = [
  { attribute: 'givenName', column: 'given_name', kind: 'text' },
  { attribute: 'sn', column: 'surname', kind: 'text' },
  { attribute: 'mail', column: 'mail', kind: 'text' },
  { attribute: 'groups', column: 'groups_list', kind: 'list' },
  { attribute: 'manager', column: 'manager_id', kind: 'text' },
  { attribute: 'grade', column: 'grade', kind: 'integer' },
  { attribute: 'active', column: 'active', kind: 'boolean' },
  { attribute: 'hiredAt', column: 'hired_at', kind: 'datetime' },
];

export interface SqlSystemOptions {
  dialect: SqlSystemDialect;
  /** Deletes mark rows (deleted_at) instead of removing them. */
  softDelete: boolean;
  /** The connector reads a view over the table instead of the table. */
  view: boolean;
}

export class SqlTableDriver implements SystemDriver {
  private constructor(
    private readonly db: ThrowawayDatabase,
    private readonly options: SqlSystemOptions,
  ) {}

  /** A fresh database holding an empty `people` table (and `people_view` over it). */
  static async create(options: SqlSystemOptions): Promise<SqlTableDriver> {
    const db = await createDatabase(options.dialect);
    const t = TYPES[options.dialect];
    try {
      // grade is text in the table and an integer in connector space, as HR systems keep it: a stored 'n/a' is malformed.
      await db.exec(`CREATE TABLE people (
        employee_id ${t.key} NOT NULL PRIMARY KEY,
        display_name ${t.text},
        given_name ${t.text},
        surname ${t.text} NOT NULL,
        mail ${t.key} UNIQUE,
        groups_list ${t.text},
        manager_id ${t.key},
        grade ${t.key},
        active ${t.boolean},
        hired_at ${t.timestamp},
        updated_at ${t.timestamp} NOT NULL DEFAULT ${options.dialect === 'sqlite' ? `(${t.now})` : t.now},
        deleted_at ${t.timestamp} NULL
      )`);
      await db.exec('CREATE VIEW people_view AS SELECT * FROM people');
      return new SqlTableDriver(db, options);
    } catch (error) {
      await db.drop();
      throw error;
    }
  }

  get connection(): Record<string, unknown> {
    return this.db.connection;
  }

  drop(): Promise<void> {
    return this.db.drop();
  }

  async seed(objects: ConformanceObject[]): Promise<SeededObject[]> {
    const seeded: SeededObject[] = [];
    for (const object of objects) {
      const anchor = object.anchor as string;
      const columns = ['employee_id', 'display_name', ...COLUMNS.map((c) => c.column)];
      const values = [anchor, object.dn ?? null, ...COLUMNS.map((c) => this.toColumn(c, object.attributes[c.attribute]))];
      await this.db.exec(`INSERT INTO people (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, values);
      seeded.push({ anchor, ...(object.dn !== undefined ? { dn: object.dn } : {}) });
    }
    return seeded;
  }

  async modify(anchor: string, attributes: Attributes): Promise<void> {
    const changed = COLUMNS.filter((c) => c.attribute in attributes);
    const assignments = [...changed.map((c) => `${c.column} = ?`), `updated_at = ${TYPES[this.options.dialect].now}`];
    await this.db.exec(`UPDATE people SET ${assignments.join(', ')} WHERE employee_id = ?`, [...changed.map((c) => this.toColumn(c, attributes[c.attribute])), anchor]);
  }

  async remove(anchor: string): Promise<void> {
    const now = TYPES[this.options.dialect].now;
    if (this.options.softDelete) await this.db.exec(`UPDATE people SET deleted_at = ${now}, updated_at = ${now} WHERE employee_id = ?`, [anchor]);
    else await this.db.exec('DELETE FROM people WHERE employee_id = ?', [anchor]);
  }

  async rename(anchor: string, newDn: string): Promise<void> {
    await this.db.exec(`UPDATE people SET display_name = ?, updated_at = ${TYPES[this.options.dialect].now} WHERE employee_id = ?`, [newDn, anchor]);
  }

  async read(ref: { anchor?: string; dn?: string }): Promise<ImportedObject | undefined> {
    const [where, value] = ref.anchor !== undefined ? ['employee_id', ref.anchor] : ['display_name', ref.dn];
    const rows = await this.db.exec(`SELECT * FROM people WHERE ${where} = ? AND deleted_at IS NULL`, [value]);
    return rows.length === 1 ? this.toObject(rows[0]) : undefined;
  }

  async list(): Promise<ImportedObject[]> {
    return (await this.db.exec('SELECT * FROM people WHERE deleted_at IS NULL ORDER BY employee_id')).map((row) => this.toObject(row));
  }

  /** A row whose grade is not a number. */
  async injectMalformed(): Promise<void> {
    await this.db.exec("INSERT INTO people (employee_id, display_name, surname, grade) VALUES ('E-MALFORMED', 'Malformed', 'Malformed', 'n/a')");
  }

  private toColumn(column: (typeof COLUMNS)[number], values: AttributeValue[] | undefined): unknown {
    if (!values || values.length === 0) return null;
    switch (column.kind) {
      case 'list':
        return values.join(';');
      case 'integer':
        return String(values[0]);
      case 'boolean':
        return this.options.dialect === 'sqlite' ? (values[0] ? 1 : 0) : Boolean(values[0]);
      case 'datetime':
        return this.options.dialect === 'mariadb' ? String(values[0]).replace('T', ' ').replace('Z', '') : String(values[0]);
      case 'text':
        return String(values[0]);
    }
  }

  private toObject(row: Row): ImportedObject {
    const attributes: Attributes = { employeeId: [String(row['employee_id'])] };
    for (const column of COLUMNS) {
      const raw = row[column.column];
      if (raw === null || raw === undefined) {
        attributes[column.attribute] = [];
        continue;
      }
      switch (column.kind) {
        case 'list':
          attributes[column.attribute] = String(raw).split(';').filter((part) => part !== '');
          break;
        case 'integer':
          attributes[column.attribute] = [Number(raw)];
          break;
        case 'boolean':
          attributes[column.attribute] = [raw === true || raw === 1 || raw === '1'];
          break;
        case 'datetime':
          attributes[column.attribute] = [raw instanceof Date ? raw.toISOString() : new Date(`${String(raw).replace(' ', 'T').replace(/Z?$/, 'Z')}`).toISOString()];
          break;
        case 'text':
          attributes[column.attribute] = [String(raw)];
      }
    }
    const dn = row['display_name'];
    return { objectType: 'person', anchor: String(row['employee_id']), ...(dn !== null && dn !== undefined ? { dn: String(dn) } : {}), attributes };
  }
}
