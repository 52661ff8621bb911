/*
 * The SQL connector against real SQLite, PostgreSQL and MariaDB: each test
 * gets its own database (a temp file, a random-named database) and drops it.
 * The conformance kit's run of this connector is in
 * libs/connector-conformance/src/connectors/sql (the kit depends on this lib,
 * so its runs live beside it); this file covers what the kit does not:
 * equal timestamps, soft deletes, thousands of rows, hostile rows, one bad
 * row in a large export batch, failures of the connection.
 */
import { createServer } from 'node:net';
import type { Connector, ExportChange, ImportBatch, ImportChange, ImportRequest } from '../connector';
import { ConnectorError } from '../connector';
import type { SqlConnectorRawConfig } from './sql-config';
import { sqlConnectorFactory } from './sql-connector';
import { COLUMN_TYPES, createTestDatabase, PG_PASSWORD, SQL_TEST_DIALECTS, SqlTestDialect, TestDatabase, testContext } from './support/test-databases';

jest.setTimeout(60_000);

const T0 = '2024-05-01T12:00:00.000Z';
const T1 = '2024-05-01T12:00:01.000Z';
const T2 = '2024-05-01T12:00:02.000Z';

/** A timestamp literal each dialect's column accepts. */
function at(dialect: SqlTestDialect, iso: string): string {
  return dialect === 'mariadb' ? iso.replace('T', ' ').replace('Z', '') : iso;
}

async function createPeople(db: TestDatabase): Promise<void> {
  const t = COLUMN_TYPES[db.dialect];
  const nowDefault = {
    sqlite: "DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    postgres: 'DEFAULT clock_timestamp()',
    mariadb: 'DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)',
  }[db.dialect];
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
    photo ${t.blob},
    updated_at ${t.timestamp} NOT NULL ${nowDefault},
    deleted_at ${t.timestamp} NULL
  )`);
  // The table keeps its watermark current on every write, the connector's own included (docs/connectors/sql.md).
  if (db.dialect === 'postgres') {
    await db.exec(`CREATE FUNCTION touch_updated_at() RETURNS trigger AS $$
      BEGIN IF NEW.updated_at = OLD.updated_at THEN NEW.updated_at := clock_timestamp(); END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await db.exec('CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch_updated_at()');
  }
  if (db.dialect === 'sqlite') {
    await db.exec(`CREATE TRIGGER people_touch AFTER UPDATE ON people FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
      BEGIN UPDATE people SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE employee_id = NEW.employee_id; END`);
  }
}

function peopleConfig(db: TestDatabase, overrides: Record<string, unknown> = {}): SqlConnectorRawConfig {
  return {
    dialect: db.dialect,
    connection: db.connection,
    objectTypes: [
      {
        name: 'person',
        table: 'people',
        anchor: { column: 'employee_id', attribute: 'employeeId' },
        dnColumn: 'display_name',
        attributes: [
          { column: 'given_name', attribute: 'givenName' },
          { column: 'surname', attribute: 'sn' },
          { column: 'mail' },
          { column: 'groups_list', attribute: 'groups', multiValued: true },
          { column: 'manager_id', attribute: 'manager', type: 'reference' },
          { column: 'grade', type: 'integer' },
          { column: 'active', type: 'boolean' },
          { column: 'hired_at', attribute: 'hiredAt', type: 'datetime' },
          { column: 'photo', type: 'binary' },
          { column: 'updated_at', attribute: 'updatedAt', type: 'datetime' },
        ],
        watermark: { column: 'updated_at', type: 'timestamp' },
        softDelete: { column: 'deleted_at', type: 'timestamp' },
        ...overrides,
      },
    ],
  } as SqlConnectorRawConfig;
}

async function readAll(connector: Connector, request: Partial<ImportRequest> = {}): Promise<ImportBatch[]> {
  const batches: ImportBatch[] = [];
  for await (const batch of connector.import({ mode: 'full', objectTypes: [], ...request })) {
    batches.push(batch);
    if (batches.length > 10_000) throw new Error('import does not end');
  }
  return batches;
}

const changesOf = (batches: ImportBatch[]) => batches.flatMap((b) => b.changes);
const errorsOf = (batches: ImportBatch[]) => batches.flatMap((b) => b.errors);
const lastWatermark = (batches: ImportBatch[]) => batches.reduce<string | undefined>((w, b) => b.watermark ?? w, undefined);
const anchorsOf = (changes: ImportChange[]) => changes.map((c) => `${c.kind}:${c.anchor}`).sort();

let sequence = 0;
function change(kind: ExportChange['kind'], anchor: string, fields: Partial<ExportChange> = {}): ExportChange {
  return { id: `c${++sequence}`, kind, objectType: 'person', anchor, ...fields };
}
function person(n: number, extra: Record<string, unknown[]> = {}): ExportChange {
  return change('add', `E${n}`, {
    dn: `Person ${n}`,
    attributes: Object.fromEntries(
      Object.entries({ givenName: [`Given ${n}`], sn: [`Surname ${n}`], mail: [`p${n}@corp.example`], ...extra }).map(([name, values]) => [
        name,
        { op: 'replace' as const, values: values as Array<string | number | boolean> },
      ]),
    ),
  });
}

async function insertRows(db: TestDatabase, from: number, count: number, updatedAt: string): Promise<void> {
  const rows: unknown[] = [];
  for (let n = from; n < from + count; n++) rows.push(`E${String(n).padStart(5, '0')}`, `Person ${n}`, `Surname ${n}`, `p${n}@corp.example`, at(db.dialect, updatedAt));
  // Chunked so SQLite's and PostgreSQL's parameter limits hold.
  for (let index = 0; index < rows.length; index += 5 * 500) {
    const chunk = rows.slice(index, index + 5 * 500);
    const values = Array.from({ length: chunk.length / 5 }, () => '(?, ?, ?, ?, ?)').join(', ');
    await db.exec(`INSERT INTO people (employee_id, display_name, surname, mail, updated_at) VALUES ${values}`, chunk);
  }
}

describe.each(SQL_TEST_DIALECTS)('sql connector on %s', (dialect) => {
  let db: TestDatabase;
  const open: Connector[] = [];
  const connect = (overrides: Record<string, unknown> = {}, log?: string[]) => {
    const connector = sqlConnectorFactory.create(sqlConnectorFactory.validate(peopleConfig(db, overrides)), testContext(undefined, log));
    open.push(connector);
    return connector;
  };

  beforeEach(async () => {
    db = await createTestDatabase(dialect);
    await createPeople(db);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
    await db.drop();
  });

  it('tests its connection, counting the rows, with the password resolved from a secret reference and shown nowhere', async () => {
    await insertRows(db, 1, 3, T0);
    const log: string[] = [];
    const result = await connect({}, log).testConnection();
    expect(result.ok).toBe(true);
    expect(result.detail).toContain('person: table people has 3 rows');
    expect(JSON.stringify([result, log])).not.toContain(PG_PASSWORD);
  });

  it('imports a few thousand rows in batches of batchSize, each once, with a watermark only on the final batch', async () => {
    await insertRows(db, 0, 3_001, T0);
    const batches = await readAll(connect(), { batchSize: 500 });
    expect(batches.map((b) => b.changes.length)).toEqual([500, 500, 500, 500, 500, 500, 1, 0]);
    expect(batches.slice(0, -1).every((b) => b.watermark === undefined)).toBe(true);
    expect(lastWatermark(batches)).toBeDefined();
    const anchors = changesOf(batches).map((c) => c.anchor);
    expect(new Set(anchors).size).toBe(3_001);
    expect(errorsOf(batches)).toEqual([]);
  });

  it('reads and writes every attribute type: integers, booleans, date-times, bytes, delimited lists, references', async () => {
    const connector = connect();
    const photo = Buffer.from([0, 1, 2, 250, 255]).toString('base64');
    const add = person(1, { groups: ['staff', 'vpn users'], manager: ['E0'], grade: [7], active: [true], hiredAt: ['2020-02-29T08:30:00.250Z'], photo: [photo] });
    expect(await connector.export([add])).toEqual([{ id: add.id, outcome: 'applied' }]);
    const [imported] = changesOf(await readAll(connector));
    expect(imported).toEqual({
      kind: 'upsert',
      objectType: 'person',
      anchor: 'E1',
      dn: 'Person 1',
      attributes: expect.objectContaining({
        employeeId: ['E1'],
        givenName: ['Given 1'],
        groups: ['staff', 'vpn users'],
        manager: ['E0'],
        grade: [7],
        active: [true],
        hiredAt: ['2020-02-29T08:30:00.250Z'],
        photo: [photo],
        updatedAt: [expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)],
      }),
    });
    // The same add again, from a new connector: the row already holds it.
    expect(await connect().export([{ ...add, id: 'retry' }])).toEqual([{ id: 'retry', outcome: 'already-applied' }]);
  });

  it('finds rows changed at the same timestamp as the watermark: added late with a lower anchor, or changed again', async () => {
    // The test sets updated_at itself, as a writer whose clock ticks coarsely would.
    if (dialect === 'postgres') await db.exec('ALTER TABLE people DISABLE TRIGGER people_touch');
    if (dialect === 'sqlite') await db.exec('DROP TRIGGER people_touch');
    await insertRows(db, 10, 12, T1);
    const connector = connect();
    const full = await readAll(connector, { batchSize: 5 });
    const watermark = lastWatermark(full);
    expect(changesOf(await readAll(connector, { mode: 'delta', watermark, batchSize: 5 }))).toEqual([]);

    // Committed after the full import, stamped with the same instant, sorting before every anchor already read.
    await db.exec('INSERT INTO people (employee_id, surname, updated_at) VALUES (?, ?, ?)', ['A-late', 'Late', at(dialect, T1)]);
    // Changed again within the same tick: the timestamp does not move.
    await db.exec('UPDATE people SET given_name = ?, updated_at = ? WHERE employee_id = ?', ['Changed', at(dialect, T1), 'E00015']);
    const delta = await readAll(connector, { mode: 'delta', watermark, batchSize: 5 });
    expect(anchorsOf(changesOf(delta))).toEqual(['upsert:A-late', 'upsert:E00015']);
    expect(changesOf(delta).find((c) => c.anchor === 'E00015')).toMatchObject({ attributes: { givenName: ['Changed'] } });

    const next = lastWatermark(delta);
    expect(changesOf(await readAll(connector, { mode: 'delta', watermark: next, batchSize: 5 }))).toEqual([]);
    // Later changes come after it.
    await db.exec('UPDATE people SET surname = ?, updated_at = ? WHERE employee_id = ?', ['Later', at(dialect, T2), 'E00010']);
    expect(anchorsOf(changesOf(await readAll(connector, { mode: 'delta', watermark: next })))).toEqual(['upsert:E00010']);
  });

  it('pages a delta through more rows sharing one timestamp than a batch holds, each once, every batch a resume point', async () => {
    await insertRows(db, 0, 3, T0);
    const connector = connect();
    const watermark = lastWatermark(await readAll(connector));
    await insertRows(db, 100, 23, T1);
    const delta = await readAll(connector, { mode: 'delta', watermark, batchSize: 5 });
    expect(delta.every((b) => b.changes.length <= 5 && b.watermark !== undefined)).toBe(true);
    const anchors = changesOf(delta).map((c) => c.anchor);
    expect(anchors).toHaveLength(23);
    expect(new Set(anchors).size).toBe(23);
    // Resuming from any batch brings exactly the rows of the later batches.
    for (let index = 0; index < delta.length; index++) {
      const later = changesOf(delta.slice(index + 1)).map((c) => c.anchor);
      const resumed = changesOf(await readAll(connector, { mode: 'delta', watermark: delta[index].watermark, batchSize: 5 })).map((c) => c.anchor);
      expect(resumed).toEqual(later);
    }
  });

  it('reports soft-deleted rows as deletes in a delta and leaves them out of a full import', async () => {
    await insertRows(db, 1, 4, T0);
    const connector = connect();
    const watermark = lastWatermark(await readAll(connector));
    await db.exec('UPDATE people SET deleted_at = ?, updated_at = ? WHERE employee_id = ?', [at(dialect, T1), at(dialect, T1), 'E00002']);
    const delta = await readAll(connector, { mode: 'delta', watermark });
    expect(changesOf(delta)).toEqual([{ kind: 'delete', objectType: 'person', anchor: 'E00002', dn: 'Person 2' }]);
    expect(changesOf(await readAll(connector)).map((c) => c.anchor)).toEqual(['E00001', 'E00003', 'E00004']);
    expect(changesOf(await readAll(connector, { mode: 'delta', watermark: lastWatermark(delta) }))).toEqual([]);
  });

  it('without a soft-delete column, deltas are snapshots: nothing while the table is unchanged, the whole content once it changed', async () => {
    await insertRows(db, 1, 3, T0);
    const connector = connect({ softDelete: undefined });
    expect(connector.capabilities().deltaImport).toBe('snapshot');
    const watermark = lastWatermark(await readAll(connector));
    expect(await readAll(connector, { mode: 'delta', watermark })).toEqual([]);
    await db.exec('DELETE FROM people WHERE employee_id = ?', ['E00002']);
    const delta = await readAll(connector, { mode: 'delta', watermark });
    expect(anchorsOf(changesOf(delta))).toEqual(['upsert:E00001', 'upsert:E00003']);
    expect(await readAll(connector, { mode: 'delta', watermark: lastWatermark(delta) })).toEqual([]);
  });

  it('reports a row whose value does not convert, and goes on with the rest', async () => {
    await insertRows(db, 1, 3, T0);
    await db.exec('UPDATE people SET grade = ? WHERE employee_id = ?', ['twelve', 'E00002']);
    const batches = await readAll(connect(), { batchSize: 2 });
    expect(changesOf(batches).map((c) => c.anchor)).toEqual(['E00001', 'E00003']);
    expect(errorsOf(batches)).toEqual([
      { objectType: 'person', anchor: 'E00002', position: 'people employee_id=E00002', code: 'OBJECT_MALFORMED', message: 'column grade: string "twelve" is not an integer' },
    ]);
  });

  it('reads a view: duplicate and missing anchors are per-row errors, and exports to it are refused', async () => {
    await insertRows(db, 1, 3, T0);
    await db.exec(`CREATE VIEW people_view AS
      SELECT employee_id, display_name, surname, updated_at FROM people
      UNION ALL SELECT employee_id, display_name, surname, updated_at FROM people WHERE employee_id = 'E00002'
      UNION ALL SELECT NULL, 'Nobody', 'Nobody', updated_at FROM people WHERE employee_id = 'E00001'`);
    const connector = sqlConnectorFactory.create(
      sqlConnectorFactory.validate({
        dialect,
        connection: db.connection,
        objectTypes: [{ name: 'person', view: 'people_view', anchor: { column: 'employee_id' }, dnColumn: 'display_name', attributes: [{ column: 'surname' }] }],
      }),
      testContext(),
    );
    open.push(connector);
    expect(connector.capabilities()).toEqual({ deltaImport: 'snapshot', export: false, rename: false, assignsAnchorOnAdd: false });
    // A batch of 2 puts the two E00002 rows across a page boundary; they are still seen together.
    const batches = await readAll(connector, { batchSize: 2 });
    expect(changesOf(batches).map((c) => c.anchor)).toEqual(['E00001', 'E00003']);
    expect(errorsOf(batches).map((e) => [e.code, e.anchor, e.position])).toEqual([
      ['OBJECT_MALFORMED', undefined, 'people_view row Nobody'],
      ['OBJECT_DUPLICATE_ANCHOR', 'E00002', 'people_view employee_id=E00002'],
    ]);
    const [result] = await connector.export([change('delete', 'E00001')]);
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'OBJECT_REJECTED', retryable: false } });
  });

  it('exports adds, updates, renames and deletes; a retry of each, from a new connector, is already-applied', async () => {
    const connector = connect();
    const history = [
      person(1),
      person(2, { groups: ['a', 'b'] }),
      change('update', 'E2', { attributes: { groups: { op: 'add', values: ['c', 'a'] }, givenName: { op: 'replace', values: [] } } }),
      change('rename', 'E1', { dn: 'Person 1', newDn: 'Renamed 1' }),
      change('delete', 'E2'),
    ];
    for (const step of history) {
      expect(await connector.export([step])).toEqual([{ id: step.id, outcome: 'applied' }]);
      expect(await connect().export([step])).toEqual([{ id: step.id, outcome: 'already-applied' }]);
    }
    const state = async () =>
      (await db.exec('SELECT employee_id, display_name, groups_list, given_name, deleted_at FROM people ORDER BY employee_id')).map((r) => [
        r['employee_id'],
        r['display_name'],
        r['groups_list'],
        r['given_name'],
        r['deleted_at'] === null ? 'live' : 'deleted',
      ]);
    const final = [
      ['E1', 'Renamed 1', null, 'Given 1', 'live'],
      ['E2', 'Person 2', 'a;b;c', null, 'deleted'],
    ];
    expect(await state()).toEqual(final);
    // The whole history again in one batch (a second change to an anchor waits for the next round) ends in the same state.
    const replay = await connect().export(history);
    expect(replay.every((r) => r.outcome !== 'failed')).toBe(true);
    expect(await state()).toEqual(final);
    expect((await connector.export([change('update', 'E2', { attributes: { sn: { op: 'replace', values: ['X'] } } })]))[0]).toMatchObject({
      outcome: 'failed',
      error: { code: 'OBJECT_NOT_FOUND', retryable: false },
    });
    // An add over a soft-deleted row brings it back with the add's values.
    expect((await connector.export([person(2)]))[0].outcome).toBe('applied');
    expect((await state())[1]).toEqual(['E2', 'Person 2', null, 'Given 2', 'live']);
  });

  it('deletes rows outright with softDelete.onExport hard, and a second delete is already-applied', async () => {
    const connector = connect({ softDelete: { column: 'deleted_at', onExport: 'hard' } });
    await connector.export([person(1)]);
    expect((await connector.export([change('delete', 'E1')]))[0].outcome).toBe('applied');
    expect(await db.exec('SELECT employee_id FROM people')).toEqual([]);
    expect((await connector.export([change('delete', 'E1')]))[0].outcome).toBe('already-applied');
  });

  it('applies a large batch set-based, and one bad row in it fails alone', async () => {
    const connector = connect();
    const changes = Array.from({ length: 1_200 }, (_, n) => person(n));
    // NOT NULL: the server refuses this one; the connector does not know surname is required.
    changes[600] = change('add', 'E-BAD', { attributes: { givenName: { op: 'replace', values: ['No surname'] } } });
    // Takes the mail of another row of the same batch: a unique key other than the anchor.
    changes[900] = person(900, { mail: ['p5@corp.example'] });
    const results = await connector.export(changes);
    expect(results.map((r) => r.id)).toEqual(changes.map((c) => c.id));
    const failed = results.filter((r) => r.outcome === 'failed');
    expect(failed.map((r) => [r.id, r.error?.code])).toEqual([
      [changes[600].id, 'OBJECT_CONSTRAINT_VIOLATION'],
      [changes[900].id, 'OBJECT_CONSTRAINT_VIOLATION'],
    ]);
    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1_198);
    const [{ count }] = await db.exec('SELECT COUNT(*) AS count FROM people');
    expect(Number(count)).toBe(1_198);
    // The row whose mail was taken keeps its own values (on MariaDB, ON DUPLICATE KEY would otherwise have overwritten it).
    expect(await db.exec('SELECT employee_id, surname FROM people WHERE mail = ?', ['p5@corp.example'])).toEqual([{ employee_id: 'E5', surname: 'Surname 5' }]);
  });

  it('an update that would collide with another row on a unique column fails alone', async () => {
    const connector = connect();
    await connector.export([person(1), person(2), person(3)]);
    const results = await connector.export([
      change('update', 'E1', { attributes: { sn: { op: 'replace', values: ['One'] } } }),
      change('update', 'E2', { attributes: { mail: { op: 'replace', values: ['p3@corp.example'] } } }),
      change('update', 'E3', { attributes: { sn: { op: 'replace', values: ['Three'] } } }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'failed', 'applied']);
    expect(await db.exec('SELECT surname FROM people ORDER BY employee_id')).toEqual([{ surname: 'One' }, { surname: 'Surname 2' }, { surname: 'Three' }]);
  });

  it('refuses changes it cannot map before touching the table', async () => {
    const results = await connect().export([
      change('add', 'E1', { attributes: { sn: { op: 'replace', values: ['x'] }, nickname: { op: 'replace', values: ['y'] } } }),
      change('add', 'E2', { attributes: { sn: { op: 'replace', values: ['x'] }, updatedAt: { op: 'replace', values: [T0] } } }),
      change('add', 'E3', { attributes: { sn: { op: 'replace', values: ['x'] }, grade: { op: 'replace', values: ['high'] } } }),
      change('add', 'E4', { attributes: { sn: { op: 'replace', values: ['x'] }, groups: { op: 'replace', values: ['a;b'] } } }),
      { id: 'no-anchor', kind: 'add', objectType: 'person', attributes: { sn: { op: 'replace', values: ['x'] } } },
      { id: 'other-type', kind: 'add', objectType: 'group', anchor: 'G1' },
    ]);
    expect(results.map((r) => r.error?.code)).toEqual(['OBJECT_REJECTED', 'OBJECT_REJECTED', 'OBJECT_MALFORMED', 'OBJECT_MALFORMED', 'OBJECT_MALFORMED', 'OBJECT_REJECTED']);
    expect(await db.exec('SELECT employee_id FROM people')).toEqual([]);
  });

  it('a connection that fails is a retryable ConnectorError; an unknown secret is an auth failure', async () => {
    const port = await closedPort();
    const unreachable = {
      sqlite: { file: `${String(db.connection['file'])}.missing` },
      postgres: { host: '127.0.0.1', port, database: 'x', user: 'postgres', connectTimeoutMs: 2_000 },
      mariadb: { host: '127.0.0.1', port, database: 'x', user: 'root', connectTimeoutMs: 2_000 },
    }[dialect];
    const broken = sqlConnectorFactory.create(sqlConnectorFactory.validate({ ...peopleConfig(db), connection: unreachable }), testContext());
    open.push(broken);
    expect(await broken.testConnection()).toEqual({ ok: false, detail: expect.stringContaining('CONNECTOR_UNREACHABLE') });
    await expect(broken.export([person(1)])).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true });
    await expect(readAll(broken)).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true });

    if (dialect === 'postgres') {
      const noSecret = sqlConnectorFactory.create(sqlConnectorFactory.validate(peopleConfig(db)), testContext({}));
      open.push(noSecret);
      const error = await readAll(noSecret).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectorError);
      expect(error).toMatchObject({ code: 'CONNECTOR_AUTH_FAILED', retryable: false });
    }
  });

  it('a missing table is a config error, not a per-row one', async () => {
    const connector = connect({ table: 'no_such_table' });
    const result = await connector.testConnection();
    expect(result.ok).toBe(false);
    const error = await readAll(connector).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    // SQLite names every failure to prepare a statement SQLITE_ERROR, so it cannot tell a missing table from other mistakes.
    expect((error as ConnectorError).code).toBe(dialect === 'sqlite' ? 'SYSTEM_ERROR' : 'CONNECTOR_CONFIG_INVALID');
  });
});

describe('sql connector on SQL Server (no server here: the driver path up to the connection)', () => {
  it('loads the mssql driver and reports a closed port as a retryable unreachable server', async () => {
    const port = await closedPort();
    const connector = sqlConnectorFactory.create(
      sqlConnectorFactory.validate({
        dialect: 'mssql',
        connection: { host: '127.0.0.1', port, database: 'hr', user: 'sync', passwordSecret: 'sql/mssql', connectTimeoutMs: 2_000 },
        objectTypes: [{ name: 'person', table: 'dbo.people', anchor: { column: 'employee_id' }, attributes: [{ column: 'surname' }] }],
      }),
      testContext({ 'sql/mssql': 'mssql-password-never-shown' }),
    );
    try {
      const result = await connector.testConnection();
      expect(result).toEqual({ ok: false, detail: expect.stringContaining('CONNECTOR_UNREACHABLE') });
      expect(result.detail).not.toContain('mssql-password-never-shown');
      await expect(connector.export([{ id: 'x', kind: 'delete', objectType: 'person', anchor: '1' }])).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true });
    } finally {
      await connector.close();
    }
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
