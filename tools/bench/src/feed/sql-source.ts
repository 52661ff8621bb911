import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { Delta, Group, Person, Population } from '@identitymesh/identity-generator';
import type { JsonObject } from '@identitymesh/persistence';
import type { BenchDatabase } from '../harness/bench-database';

/** Values of a multi-valued column are joined with this; employee and group ids never contain it. */
const SEPARATOR = ';';

const PEOPLE_COLUMNS = ['employee_id', 'given_name', 'surname', 'preferred_name', 'department', 'title', 'manager_id', 'location', 'hire_date', 'employment_status', 'mobile', 'row_version', 'deleted'] as const;
const GROUP_COLUMNS = ['group_id', 'name', 'kind', 'members', 'member_groups', 'row_version', 'deleted'] as const;
const ROWS_PER_STATEMENT = 500;

type Row = Array<string | number | null>;

function personRow(person: Person, version: number, deleted: boolean): Row {
  return [
    person.employeeId,
    person.givenName,
    person.surname,
    person.preferredName ?? null,
    person.department,
    person.title,
    person.manager ?? null,
    person.location,
    person.hireDate,
    person.employmentStatus,
    person.mobile,
    version,
    deleted ? 1 : 0,
  ];
}

function groupRow(group: Group, version: number): Row {
  return [group.groupId, group.name, group.kind, group.members.join(SEPARATOR), group.memberGroups.join(SEPARATOR), version, 0];
}

/**
 * The HR system of the delta series as two SQL tables (people, groups) with
 * an integer row version (the watermark) and a soft-delete flag: the `sql`
 * connector then reads native deltas — only the rows written since the last
 * one — so a delta import's cost can be compared across directory sizes. (A
 * CSV feed's delta is the whole file again, compared row by row: its cost
 * grows with N by design.) The generator's deltas are written to it as an
 * HR system would: upserts, leavers flagged deleted.
 */
export class SqlHrSource {
  private version = 1;

  constructor(readonly database: BenchDatabase) {}

  /** The `sql` connector configs of the two tables (docs/connectors/sql.md), in the attribute names of the CSV feed. */
  connectorConfigs(): { people: JsonObject; groups: JsonObject } {
    const connection = this.database.dialect === 'sqlite' ? { file: this.database.name } : { url: this.database.settings.url as string };
    const common = { dialect: this.database.dialect, connection };
    return {
      people: {
        ...common,
        objectTypes: [
          {
            name: 'person',
            table: 'people',
            anchor: { column: 'employee_id', attribute: 'employeeId' },
            attributes: [
              { column: 'given_name', attribute: 'givenName' },
              { column: 'surname', attribute: 'sn', required: true },
              { column: 'preferred_name', attribute: 'preferredName' },
              { column: 'department' },
              { column: 'title' },
              { column: 'manager_id', attribute: 'manager', type: 'reference' },
              { column: 'location' },
              { column: 'hire_date', attribute: 'hireDate' },
              { column: 'employment_status', attribute: 'employmentStatus' },
              { column: 'mobile' },
            ],
            watermark: { column: 'row_version', type: 'integer' },
            softDelete: { column: 'deleted', type: 'boolean' },
          },
        ],
      },
      groups: {
        ...common,
        objectTypes: [
          {
            name: 'group',
            table: 'groups',
            anchor: { column: 'group_id', attribute: 'groupId' },
            attributes: [
              { column: 'name', required: true },
              { column: 'kind' },
              { column: 'members', multiValued: true, separator: SEPARATOR },
              { column: 'member_groups', attribute: 'memberGroups', type: 'reference', multiValued: true, separator: SEPARATOR },
            ],
            watermark: { column: 'row_version', type: 'integer' },
            softDelete: { column: 'deleted', type: 'boolean' },
          },
        ],
      },
    };
  }

  /** The tables, with the index a delta's `(row_version, anchor)` order reads. */
  async load(population: Population): Promise<void> {
    const text = this.database.dialect === 'sqlite' ? 'TEXT' : 'text';
    const int = this.database.dialect === 'sqlite' ? 'INTEGER' : 'bigint';
    await this.exec([
      `CREATE TABLE people (employee_id ${text} PRIMARY KEY, given_name ${text}, surname ${text} NOT NULL, preferred_name ${text}, department ${text}, title ${text}, manager_id ${text}, location ${text}, hire_date ${text}, employment_status ${text}, mobile ${text}, row_version ${int} NOT NULL, deleted ${int} NOT NULL DEFAULT 0)`,
      'CREATE INDEX people_row_version ON people (row_version, employee_id)',
      `CREATE TABLE groups (group_id ${text} PRIMARY KEY, name ${text} NOT NULL, kind ${text}, members ${text}, member_groups ${text}, row_version ${int} NOT NULL, deleted ${int} NOT NULL DEFAULT 0)`,
      'CREATE INDEX groups_row_version ON groups (row_version, group_id)',
    ]);
    await this.upsert('people', PEOPLE_COLUMNS, population.people.map((p) => personRow(p, this.version, false)));
    await this.upsert('groups', GROUP_COLUMNS, population.groups.map((g) => groupRow(g, this.version)));
  }

  /** Writes one delta of the generator as the HR system's own writes; the people and groups it touched. */
  async apply(delta: Delta): Promise<{ people: number; groups: number }> {
    const version = ++this.version;
    const people: Row[] = delta.changes.people.map((change) => (change.kind === 'leave' ? personRow(change.before, version, true) : personRow(change.after, version, false)));
    const byId = new Map(delta.population.groups.map((g) => [g.groupId, g]));
    const groups: Row[] = delta.changes.groups.flatMap((change) => {
      const group = byId.get(change.groupId);
      return group ? [groupRow(group, version)] : [];
    });
    await this.upsert('people', PEOPLE_COLUMNS, people);
    await this.upsert('groups', GROUP_COLUMNS, groups);
    return { people: people.length, groups: groups.length };
  }

  private async exec(statements: string[]): Promise<void> {
    if (this.database.dialect === 'sqlite') {
      const db = new Database(this.database.name);
      try {
        for (const sql of statements) db.exec(sql);
      } finally {
        db.close();
      }
      return;
    }
    await this.withClient(async (client) => {
      for (const sql of statements) await client.query(sql);
    });
  }

  private async upsert(table: string, columns: readonly string[], rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const key = columns[0];
    const update = columns
      .slice(1)
      .map((c) => `${c} = excluded.${c}`)
      .join(', ');
    if (this.database.dialect === 'sqlite') {
      const db = new Database(this.database.name);
      try {
        db.pragma('journal_mode = WAL');
        const statement = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT (${key}) DO UPDATE SET ${update}`);
        db.transaction(() => {
          for (const row of rows) statement.run(row);
        })();
      } finally {
        db.close();
      }
      return;
    }
    await this.withClient(async (client) => {
      await client.query('BEGIN');
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
        const values = chunk.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
        await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values} ON CONFLICT (${key}) DO UPDATE SET ${update}`, chunk.flat());
      }
      await client.query('COMMIT');
    });
  }

  private async withClient(work: (client: Client) => Promise<void>): Promise<void> {
    const client = new Client({ connectionString: this.database.settings.url });
    await client.connect();
    try {
      await work(client);
    } finally {
      await client.end();
    }
  }
}
