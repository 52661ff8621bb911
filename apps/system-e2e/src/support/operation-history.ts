import type { Client } from 'pg';

/**
 * Operation histories for fault tests, recorded by PostgreSQL itself so that
 * nothing the engine does can escape them: triggers append one row per
 * change, in the transaction that makes it, and a rolled-back transaction
 * leaves no row. The test reads them afterwards and checks them against its
 * oracle.
 */

export interface TableChange {
  seq: number;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  key: string;
  newRow: Record<string, unknown> | null;
  oldRow: Record<string, unknown> | null;
  txid: string;
}

/**
 * Every INSERT, UPDATE and DELETE of `table` (a connected system's table)
 * appended to `<table>_history` with the row key, the new and old values and
 * the transaction id. An upsert that finds its row records an UPDATE, so a
 * change applied twice shows up even when it wrote the same values again.
 */
export async function recordTableHistory(sql: Client, table: string, keyColumn: string): Promise<void> {
  const history = `${table}_history`;
  await sql.query(`
    CREATE TABLE "${history}" (
      "seq" bigserial PRIMARY KEY,
      "op" text NOT NULL,
      "key" text NOT NULL,
      "newRow" jsonb,
      "oldRow" jsonb,
      "txid" bigint NOT NULL DEFAULT txid_current(),
      "at" timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE FUNCTION "${history}_record"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        INSERT INTO "${history}" ("op", "key", "oldRow") VALUES (TG_OP, OLD."${keyColumn}", to_jsonb(OLD));
      ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO "${history}" ("op", "key", "newRow", "oldRow") VALUES (TG_OP, NEW."${keyColumn}", to_jsonb(NEW), to_jsonb(OLD));
      ELSE
        INSERT INTO "${history}" ("op", "key", "newRow") VALUES (TG_OP, NEW."${keyColumn}", to_jsonb(NEW));
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER "${history}_trigger" AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION "${history}_record"();
  `);
}

export async function readTableHistory(sql: Client, table: string): Promise<TableChange[]> {
  const { rows } = await sql.query<TableChange & { seq: string }>(`SELECT "seq", "op", "key", "newRow", "oldRow", "txid" FROM "${table}_history" ORDER BY "seq"`);
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}

/** One committed row change of an engine table, as the commit log saw it at COMMIT. */
export interface CommitRecord {
  txid: string;
  /** The database role the writing session logged in as: which engine process wrote it. */
  writer: string;
  table: string;
  op: string;
  connectorId: string | null;
  /** The connector's lease row at commit time: holder and fencing token in force. */
  leaseEngine: string | null;
  leaseToken: number | null;
  committedAt: Date;
}

/**
 * A commit log of engine tables: a deferred constraint trigger per table runs
 * at COMMIT of every transaction that changed a row and appends the writing
 * role (`session_user`), the row's connector and that connector's lease row as
 * it is at that moment (holder, fencing token). A process paused in the middle
 * of a transaction and woken later would show up with a commit time after its
 * wake-up; a write that the lease does not cover shows a lease holder other
 * than its writer.
 *
 * The lease check every batch starts with is a no-op UPDATE of the lease row
 * (it only takes the row's lock): those are left out, real lease changes
 * (acquire, renew, release) are kept.
 */
export async function recordCommits(sql: Client, tables: string[]): Promise<void> {
  await sql.query(`
    CREATE TABLE "fault_commit_log" (
      "seq" bigserial PRIMARY KEY,
      "txid" bigint NOT NULL,
      "writer" text NOT NULL,
      "table" text NOT NULL,
      "op" text NOT NULL,
      "connectorId" text,
      "leaseEngine" text,
      "leaseToken" bigint,
      "committedAt" timestamptz NOT NULL
    );
    -- SECURITY DEFINER: the engines' roles need no rights on the log; session_user still names them.
    CREATE FUNCTION "fault_commit_log_record"() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
    DECLARE
      changed jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
      connector text := changed ->> 'connectorId';
      holder text;
      token bigint;
    BEGIN
      IF TG_OP = 'UPDATE' AND to_jsonb(OLD) = to_jsonb(NEW) THEN
        RETURN NULL;
      END IF;
      IF connector IS NOT NULL THEN
        SELECT "engineInstanceId", "fencingToken" INTO holder, token FROM "IM_ConnectorLeases" WHERE "connectorId" = connector;
      END IF;
      INSERT INTO "fault_commit_log" ("txid", "writer", "table", "op", "connectorId", "leaseEngine", "leaseToken", "committedAt")
      VALUES (txid_current(), session_user, TG_TABLE_NAME, TG_OP, connector, holder, token, clock_timestamp());
      RETURN NULL;
    END $$;
  `);
  for (const table of tables) {
    await sql.query(
      `CREATE CONSTRAINT TRIGGER "fault_commit_log_${table}" AFTER INSERT OR UPDATE OR DELETE ON "${table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "fault_commit_log_record"()`,
    );
  }
}

export async function readCommits(sql: Client): Promise<CommitRecord[]> {
  const { rows } = await sql.query<Omit<CommitRecord, 'leaseToken'> & { leaseToken: string | null }>(
    `SELECT "txid", "writer", "table", "op", "connectorId", "leaseEngine", "leaseToken", "committedAt" FROM "fault_commit_log" ORDER BY "seq"`,
  );
  return rows.map((row) => ({ ...row, leaseToken: row.leaseToken === null ? null : Number(row.leaseToken) }));
}

/**
 * Two login roles for two engine processes on one database, so that every
 * session (and the commit log's `session_user`) names its process. The first
 * owns the database (it migrates it); the second is a member of the first
 * and so may do all the first may. Roles are server-wide: drop them with
 * {@link dropLoginRoles} after the database.
 */
export async function createLoginRoles(sql: Client, database: string, names: [string, string]): Promise<void> {
  const [owner, member] = names;
  await sql.query(`CREATE ROLE "${owner}" LOGIN`);
  await sql.query(`CREATE ROLE "${member}" LOGIN IN ROLE "${owner}"`);
  await sql.query(`ALTER DATABASE "${database}" OWNER TO "${owner}"`);
}

/**
 * Drops the roles of {@link createLoginRoles}, from a superuser session on
 * their database while it still exists: what they own (the database, the
 * engine's tables) goes to the session's user first.
 */
export async function dropLoginRoles(sql: Client, names: string[]): Promise<void> {
  const list = names.map((name) => `"${name}"`).join(', ');
  await sql.query(`REASSIGN OWNED BY ${list} TO CURRENT_USER`);
  await sql.query(`DROP OWNED BY ${list}`);
  for (const name of [...names].reverse()) await sql.query(`DROP ROLE IF EXISTS "${name}"`);
}

/** The database URL with another user name (no password: the loopback server trusts its users, as the throwaway databases do). */
export function urlWithUser(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  return parsed.toString();
}
