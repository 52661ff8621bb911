import type { ExportChange } from '../connector';
import { ConnectorError } from '../connector';
import { parseSqlConnectorConfig } from './sql-config';
import { sqlDialect, SqlDialectName, SqlStatement } from './sql-dialect';
import type { SqlRow, SqlSession } from './sql-driver';
import { SqlTableExport } from './sql-export';
import { ALIAS, SqlTableStatements } from './sql-table';

/*
 * The export plan and its fallback against a scripted session: which
 * statements go out, and what happens when one fails. The same against real
 * servers is in sql-connector.integration-spec.ts.
 */

function exporterFor(dialect: SqlDialectName): { exporter: SqlTableExport; table: SqlTableStatements } {
  const config = parseSqlConnectorConfig({
    dialect,
    connection: dialect === 'sqlite' ? { file: 'x' } : { host: 'db', database: 'hr' },
    objectTypes: [{ name: 'person', table: 'people', anchor: { column: 'id' }, attributes: [{ column: 'sn' }, { column: 'groups', multiValued: true }] }],
  });
  const table = new SqlTableStatements(sqlDialect(dialect), config.objectTypes[0]);
  return { exporter: new SqlTableExport(table, sqlDialect(dialect), ['Pa55word']), table };
}

/** A session over rows held in memory that fails statements the test names. */
class ScriptedSession implements SqlSession {
  readonly sql: string[] = [];

  constructor(
    private readonly rows: SqlRow[],
    private readonly fail: (statement: SqlStatement) => unknown = () => undefined,
  ) {}

  async query(statement: SqlStatement): Promise<SqlRow[]> {
    this.sql.push(statement.sql);
    const error = this.fail(statement);
    if (error) throw error;
    if (statement.sql.startsWith('SELECT')) return this.rows.filter((row) => statement.params.includes(row[ALIAS.anchor] as string));
    return [];
  }
}

const row = (id: string, sn: string, groups: string | null = null): SqlRow => ({ [ALIAS.anchor]: id, [ALIAS.attribute(0)]: sn, [ALIAS.attribute(1)]: groups });
const add = (id: string, sn?: string): ExportChange => ({
  id: `add-${id}`,
  kind: 'add',
  objectType: 'person',
  anchor: id,
  attributes: sn === undefined ? {} : { sn: { op: 'replace', values: [sn] } },
});
const notNull = Object.assign(new Error('null value in column "sn" violates not-null constraint'), { code: '23502', severity: 'ERROR' });

describe('SqlTableExport', () => {
  it('decides from the rows: unchanged changes write nothing, the rest go out as one statement per kind', async () => {
    const { exporter } = exporterFor('postgres');
    const session = new ScriptedSession([row('E1', 'Lee', 'a;b'), row('E2', 'Kim')]);
    const results = await exporter.apply(session, [
      add('E1', 'Lee'),
      { id: 'upd', kind: 'update', objectType: 'person', anchor: 'E2', attributes: { groups: { op: 'add', values: ['x'] } } },
      add('E3', 'New'),
      { id: 'del', kind: 'delete', objectType: 'person', anchor: 'E4' },
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied', 'already-applied']);
    // E1's add clears groups it does not carry; it is an update of the existing row, not an upsert.
    expect(session.sql.map((sql) => sql.split(' ').slice(0, 2).join(' '))).toEqual(['SELECT "id"', 'SAVEPOINT im_batch', 'INSERT INTO', 'UPDATE "people"', 'RELEASE SAVEPOINT']);
  });

  it('replays a failed batch row by row under savepoints, so only the refused row fails', async () => {
    const { exporter } = exporterFor('postgres');
    const session = new ScriptedSession([], (statement) => (statement.sql.startsWith('INSERT') && statement.params.includes('E-BAD') ? notNull : undefined));
    const results = await exporter.apply(session, [add('E1', 'A'), add('E-BAD', 'B'), add('E2', 'C')]);
    expect(results).toEqual([
      { id: 'add-E1', outcome: 'applied' },
      { id: 'add-E-BAD', outcome: 'failed', error: { code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: false, message: 'null value in column "sn" violates not-null constraint' } },
      { id: 'add-E2', outcome: 'applied' },
    ]);
    expect(session.sql.filter((sql) => /SAVEPOINT|^INSERT/.test(sql)).map((sql) => sql.split(' (')[0])).toEqual([
      'SAVEPOINT im_batch',
      'INSERT INTO "people"',
      'ROLLBACK TO SAVEPOINT im_batch',
      'RELEASE SAVEPOINT im_batch',
      ...['E1', 'E-BAD', 'E2'].flatMap((id) => ['SAVEPOINT im_row', 'INSERT INTO "people"', ...(id === 'E-BAD' ? ['ROLLBACK TO SAVEPOINT im_row'] : []), 'RELEASE SAVEPOINT im_row']),
    ]);
  });

  it('uses SAVE TRANSACTION and no RELEASE on SQL Server', async () => {
    const { exporter } = exporterFor('mssql');
    const failure = Object.assign(new Error('Cannot insert the value NULL'), { number: 515, code: 'EREQUEST' });
    const session = new ScriptedSession([], (statement) => (statement.sql.startsWith('MERGE') && statement.params.includes('E-BAD') ? failure : undefined));
    const results = await exporter.apply(session, [add('E-BAD', 'B'), add('E1', 'A')]);
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'applied']);
    expect(session.sql.filter((sql) => /TRANSACTION/.test(sql))).toEqual([
      'SAVE TRANSACTION im_batch',
      'ROLLBACK TRANSACTION im_batch',
      'SAVE TRANSACTION im_row',
      'ROLLBACK TRANSACTION im_row',
      'SAVE TRANSACTION im_row',
    ]);
  });

  it('fails the whole batch when the connection fails, instead of blaming rows', async () => {
    const { exporter } = exporterFor('mariadb');
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' });
    const session = new ScriptedSession([], (statement) => (statement.sql.startsWith('INSERT') ? lost : undefined));
    await expect(exporter.apply(session, [add('E1', 'A')])).rejects.toBe(lost);
  });

  it('fails the whole batch when the server aborted the transaction (a savepoint cannot be rolled back to)', async () => {
    const { exporter } = exporterFor('mssql');
    const session = new ScriptedSession([], (statement) => {
      if (statement.sql.startsWith('MERGE')) return Object.assign(new Error('Cannot insert the value NULL Pa55word'), { number: 515 });
      if (statement.sql.startsWith('ROLLBACK')) return Object.assign(new Error('The current transaction cannot be committed'), { number: 3930 });
      return undefined;
    });
    const error = await exporter.apply(session, [add('E1', 'A')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ code: 'SYSTEM_ERROR', retryable: false, message: expect.stringContaining('the server aborted the transaction') });
    expect((error as Error).message).not.toContain('Pa55word');
  });

  it('keeps secrets out of per-row messages', async () => {
    const { exporter } = exporterFor('postgres');
    const leaky = Object.assign(new Error('value Pa55word is too long'), { code: '22001', severity: 'ERROR' });
    const session = new ScriptedSession([], (statement) => (statement.sql.startsWith('INSERT') ? leaky : undefined));
    const [result] = await exporter.apply(session, [add('E1', 'A')]);
    expect(result.error).toEqual({ code: 'OBJECT_REJECTED', retryable: false, message: 'value *** is too long' });
  });
});
