import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** The separator of the directory's multi-valued columns (the SQL connector's default). */
export const DIRECTORY_VALUE_SEPARATOR = ';';

const TOUCH = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;

/**
 * The directory the demo provisions into: a SQLite file with a `people` and
 * a `groups` table, as a small LDAP-like system would keep them. The SQL
 * connector never creates a file or a table, so the demo does. `updated_at`
 * is kept by triggers and not mapped: it shows what the last cycle changed.
 */
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS people (
    account_name TEXT NOT NULL PRIMARY KEY,
    employee_id TEXT,
    display_name TEXT,
    given_name TEXT,
    surname TEXT,
    mail TEXT,
    department TEXT,
    title TEXT,
    manager TEXT,
    enabled INTEGER,
    updated_at TEXT NOT NULL DEFAULT (${TOUCH})
  )`,
  `CREATE INDEX IF NOT EXISTS people_employee_id ON people (employee_id)`,
  `CREATE TRIGGER IF NOT EXISTS people_touch AFTER UPDATE ON people FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
    BEGIN UPDATE people SET updated_at = ${TOUCH} WHERE account_name = NEW.account_name; END`,
  `CREATE TABLE IF NOT EXISTS groups (
    group_id TEXT NOT NULL PRIMARY KEY,
    name TEXT,
    kind TEXT,
    members TEXT,
    member_groups TEXT,
    updated_at TEXT NOT NULL DEFAULT (${TOUCH})
  )`,
  `CREATE TRIGGER IF NOT EXISTS groups_touch AFTER UPDATE ON groups FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
    BEGIN UPDATE groups SET updated_at = ${TOUCH} WHERE group_id = NEW.group_id; END`,
];

/**
 * Creates the directory file and its tables where they are missing; with
 * `fresh`, an earlier file is removed first (a new configuration starts from
 * an empty directory, as its connector space does).
 */
export function ensureDirectoryDatabase(file: string, options: { fresh: boolean }): void {
  if (options.fresh) for (const path of [file, `${file}-wal`, `${file}-shm`]) rmSync(path, { force: true });
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // WAL: the demo's summaries read while the engine's connector writes.
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      for (const statement of SCHEMA) db.exec(statement);
    })();
  } finally {
    db.close();
  }
}

export interface DirectoryPerson {
  accountName: string;
  employeeId: string | null;
  displayName: string | null;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  department: string | null;
  title: string | null;
  /** The manager's account name. */
  manager: string | null;
  enabled: boolean | null;
}

export interface DirectoryGroup {
  groupId: string;
  name: string | null;
  kind: string | null;
  /** Account names. */
  members: string[];
  /** Group ids. */
  memberGroups: string[];
}

export interface DirectoryContent {
  people: DirectoryPerson[];
  groups: DirectoryGroup[];
}

/** Everything in the directory, read in one read transaction; empty when the file is not there yet. */
export function readDirectory(file: string): DirectoryContent {
  if (!existsSync(file)) return { people: [], groups: [] };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    return db.transaction(() => {
      const people = db
        .prepare('SELECT account_name, employee_id, display_name, given_name, surname, mail, department, title, manager, enabled FROM people ORDER BY account_name')
        .all() as Array<Record<string, string | number | null>>;
      const groups = db.prepare('SELECT group_id, name, kind, members, member_groups FROM groups ORDER BY group_id').all() as Array<Record<string, string | null>>;
      return {
        people: people.map((row) => ({
          accountName: String(row['account_name']),
          employeeId: text(row['employee_id']),
          displayName: text(row['display_name']),
          givenName: text(row['given_name']),
          surname: text(row['surname']),
          mail: text(row['mail']),
          department: text(row['department']),
          title: text(row['title']),
          manager: text(row['manager']),
          enabled: row['enabled'] === null || row['enabled'] === undefined ? null : Number(row['enabled']) === 1,
        })),
        groups: groups.map((row) => ({
          groupId: String(row['group_id']),
          name: text(row['name']),
          kind: text(row['kind']),
          members: values(row['members']),
          memberGroups: values(row['member_groups']),
        })),
      };
    })();
  } finally {
    db.close();
  }
}

function text(value: string | number | null | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

function values(cell: string | null | undefined): string[] {
  if (!cell) return [];
  return cell
    .split(DIRECTORY_VALUE_SEPARATOR)
    .map((value) => value.trim())
    .filter((value) => value !== '');
}
