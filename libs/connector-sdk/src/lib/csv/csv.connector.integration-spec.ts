import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as iconv from 'iconv-lite';
import { ConnectorContext, ConnectorError, ExportChange, ImportBatch, ImportRequest } from '../connector';
import { writeFileAtomically } from './csv-file';
import { CsvConnector, csvConnectorFactory } from './csv.connector';

const context: ConnectorContext = {
  connectorId: 'csv-spec',
  secrets: { resolve: async () => Promise.reject(new Error('no secrets here')) },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
};

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'im-csv-connector-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const hrColumns = [
  { column: 'Employee ID', attribute: 'employeeId' },
  { column: 'First Name', attribute: 'givenName' },
  { column: 'Last Name', attribute: 'sn', required: true },
  { column: 'Groups', attribute: 'groups', separator: '|' },
  { column: 'Manager', attribute: 'manager', type: 'reference' },
];

function connectorFor(file: string, config: Record<string, unknown> = {}): CsvConnector {
  const validated = csvConnectorFactory.validate({ path: join(directory, file), anchorColumn: 'Employee ID', columns: hrColumns, ...config });
  return csvConnectorFactory.create(validated, context) as CsvConnector;
}

async function importAll(connector: CsvConnector, request: Partial<ImportRequest> = {}): Promise<ImportBatch[]> {
  const batches: ImportBatch[] = [];
  for await (const batch of connector.import({ mode: 'full', objectTypes: [], ...request })) batches.push(batch);
  return batches;
}

const upserted = (batches: ImportBatch[]) => batches.flatMap((batch) => batch.changes).map((change) => (change.kind === 'upsert' ? change : undefined));
const errors = (batches: ImportBatch[]) => batches.flatMap((batch) => batch.errors);

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

// The 100,000-row file takes seconds on a loaded 2-core host; no test here asserts a time.
jest.setTimeout(120_000);

describe('csv connector: import', () => {
  it('maps header columns to attributes, whatever their order, ignoring unmapped ones', async () => {
    await writeFile(
      join(directory, 'hr.csv'),
      'Cost Center,Last Name,Employee ID,First Name,Groups,Manager\n' + '4711,Lovelace,E1,Ada,Staff | Math ,\n' + '4712,"Hopper, Jr.",E2,Grace,,E1\n',
    );
    const batches = await importAll(connectorFor('hr.csv'));
    expect(errors(batches)).toEqual([]);
    expect(upserted(batches)).toEqual([
      { kind: 'upsert', objectType: 'person', anchor: 'E1', attributes: { employeeId: ['E1'], givenName: ['Ada'], sn: ['Lovelace'], groups: ['Staff', 'Math'], manager: [] } },
      { kind: 'upsert', objectType: 'person', anchor: 'E2', attributes: { employeeId: ['E2'], givenName: ['Grace'], sn: ['Hopper, Jr.'], groups: [], manager: ['E1'] } },
    ]);
  });

  it('describes the mapping as its schema: multi-valued columns, references by anchor, the anchor required', async () => {
    const schema = await connectorFor('hr.csv').schema();
    expect(schema.objectTypes[0]).toEqual({
      name: 'person',
      anchorAttribute: 'employeeId',
      attributes: [
        { name: 'employeeId', type: 'string', multiValued: false, required: true },
        { name: 'givenName', type: 'string', multiValued: false, required: false },
        { name: 'sn', type: 'string', multiValued: false, required: true },
        { name: 'groups', type: 'string', multiValued: true, required: false },
        { name: 'manager', type: 'reference', multiValued: false, required: false, referenceBy: 'anchor' },
      ],
    });
  });

  it('reads a file without a header row through columnNames, and a display key column as the dn', async () => {
    await writeFile(join(directory, 'hr.txt'), 'E1\tada\tAda\tLovelace\t\t\n');
    const connector = connectorFor('hr.txt', { header: false, delimiter: '\t', dnColumn: 'Login', columnNames: ['Employee ID', 'Login', 'First Name', 'Last Name', 'Groups', 'Manager'] });
    expect(upserted(await importAll(connector))).toEqual([expect.objectContaining({ anchor: 'E1', dn: 'ada', attributes: expect.objectContaining({ sn: ['Lovelace'] }) })]);
  });

  it.each([
    ['utf-8 with a BOM', 'utf-8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Employee ID;First Name;Last Name;Groups;Manager\r\nE1;Zoë;Ørsted;;\r\n')])],
    ['utf-8-bom', 'utf-8-bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Employee ID;First Name;Last Name;Groups;Manager\r\nE1;Zoë;Ørsted;;\r\n')])],
    ['windows-1252', 'windows-1252', iconv.encode('Employee ID;First Name;Last Name;Groups;Manager\r\nE1;Zoë;Ørsted;;\r\n', 'windows-1252')],
    ['latin1', 'latin1', iconv.encode('Employee ID;First Name;Last Name;Groups;Manager\r\nE1;Zoë;Ørsted;;\r\n', 'windows-1252')],
    ['utf-16le', 'utf-16le', iconv.encode('Employee ID;First Name;Last Name;Groups;Manager\r\nE1;Zoë;Ørsted;;\r\n', 'utf-16le', { addBOM: true })],
  ])('reads %s files', async (_, encoding, bytes) => {
    await writeFile(join(directory, 'hr.csv'), bytes);
    const batches = await importAll(connectorFor('hr.csv', { delimiter: ';', encoding }));
    expect(errors(batches)).toEqual([]);
    expect(upserted(batches)[0]?.attributes).toEqual(expect.objectContaining({ givenName: ['Zoë'], sn: ['Ørsted'] }));
  });

  it('fails each bad row alone, with its line, and imports the rest (R10)', async () => {
    const rows = [
      'Employee ID,First Name,Last Name,Groups,Manager',
      'E1,Ada,Lovelace,,',
      'E2,Grace,Hopper,,,extra',
      'E3,"Alan"x,Turing,,',
      ',Nobody,Empty,,',
      'E1,Again,Duplicate,,',
      'E4,"Barbara',
      'Liskov",Liskov,,',
      'E5,Edsger,Dijkstra,,',
    ];
    const bytes = Buffer.concat([Buffer.from(rows.join('\n') + '\n'), Buffer.from('E6,Bad'), Buffer.from([0xff, 0xfe]), Buffer.from(',Bytes,,\nE7,Tony,Hoare,,\n')]);
    await writeFile(join(directory, 'hr.csv'), bytes);
    const batches = await importAll(connectorFor('hr.csv'), { batchSize: 2 });
    expect(upserted(batches).map((change) => change?.anchor)).toEqual(['E1', 'E4', 'E5', 'E7']);
    expect(upserted(batches)[1]?.attributes['givenName']).toEqual(['Barbara\nLiskov']);
    expect(errors(batches).map(({ position, code, anchor }) => ({ position, code, anchor }))).toEqual([
      { position: 'line 3', code: 'OBJECT_MALFORMED', anchor: 'E2' },
      { position: 'line 4', code: 'OBJECT_MALFORMED', anchor: 'E3' },
      { position: 'line 5', code: 'OBJECT_MALFORMED', anchor: undefined },
      { position: 'line 6', code: 'OBJECT_DUPLICATE_ANCHOR', anchor: 'E1' },
      { position: 'line 10', code: 'OBJECT_MALFORMED', anchor: 'E6' },
    ]);
    expect(errors(batches).map((error) => error.message)).toEqual([
      'line 3: 6 fields where the header has 5',
      expect.stringContaining('line 4: a quoted field is followed by more text'),
      "line 5: the anchor column 'Employee ID' is empty",
      "line 6: anchor 'E1' is already on line 2; this row is skipped",
      "line 10: column 'First Name' holds bytes that are not valid utf-8",
    ]);
    expect(batches.every((batch) => batch.changes.length + batch.errors.length <= 2)).toBe(true);
  });

  it('fails a row whose value does not fit its column type, keeping its anchor', async () => {
    await writeFile(join(directory, 'hr.csv'), 'Employee ID,Hired\nE1,2024-13-01\nE2,2024-01-31\n');
    const connector = csvConnectorFactory.create(
      csvConnectorFactory.validate({ path: join(directory, 'hr.csv'), anchorColumn: 'Employee ID', columns: [{ column: 'Employee ID' }, { column: 'Hired', type: 'datetime' }] }),
      context,
    );
    const batches = [];
    for await (const batch of connector.import({ mode: 'full', objectTypes: [] })) batches.push(batch);
    expect(errors(batches)).toEqual([
      { objectType: 'person', anchor: 'E1', position: 'line 2', code: 'OBJECT_MALFORMED', message: "line 2: column 'Hired': '2024-13-01' is not an ISO-8601 date or date-time" },
    ]);
    expect(upserted(batches)[0]?.attributes['Hired']).toEqual(['2024-01-31T00:00:00.000Z']);
  });

  it('refuses a header that lacks a mapped column, hinting at a wrong encoding', async () => {
    await writeFile(join(directory, 'hr.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Employee ID,First Name,Last Name,Groups,Manager\n')]));
    const error = await rejection(importAll(connectorFor('hr.csv', { encoding: 'windows-1252' })));
    expect(error.code).toBe('CONNECTOR_CONFIG_INVALID');
    expect(error.message).toContain("the header has no column 'Employee ID'");
    expect(error.message).toContain('UTF-8 byte order mark');
  });

  it('treats a missing or empty source file as an error, never as "everyone left"', async () => {
    expect((await rejection(importAll(connectorFor('absent.csv')))).code).toBe('CONNECTOR_UNREACHABLE');
    await writeFile(join(directory, 'empty.csv'), '');
    expect((await rejection(importAll(connectorFor('empty.csv')))).message).toContain('is empty');
    expect(await connectorFor('absent.csv').testConnection()).toEqual({ ok: false, detail: expect.stringContaining('does not exist') });
  });

  it('gives a content-hash watermark on the last batch only; a delta is empty until the file changes, then the whole file', async () => {
    const file = join(directory, 'hr.csv');
    await writeFile(file, 'Employee ID,First Name,Last Name,Groups,Manager\nE1,A,One,,\nE2,B,Two,,\nE3,C,Three,,\n');
    const connector = connectorFor('hr.csv');
    const full = await importAll(connector, { batchSize: 2 });
    expect(full.map((batch) => batch.watermark === undefined)).toEqual([true, false]);
    const watermark = full[1].watermark;
    expect(watermark).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await importAll(connector, { mode: 'delta', watermark })).toEqual([]);

    await writeFile(file, 'Employee ID,First Name,Last Name,Groups,Manager\nE1,A,One,,\nE3,C,Changed,,\n');
    const delta = await importAll(connector, { mode: 'delta', watermark });
    expect(upserted(delta).map((change) => [change?.anchor, change?.attributes['sn']])).toEqual([
      ['E1', ['One']],
      ['E3', ['Changed']],
    ]);
    expect(delta.at(-1)?.watermark).not.toBe(watermark);
    expect(await importAll(connector, { mode: 'delta', watermark: delta.at(-1)?.watermark })).toEqual([]);
  });

  it('ends the stream early when the run is cancelled', async () => {
    await writeFile(join(directory, 'hr.csv'), 'Employee ID,First Name,Last Name,Groups,Manager\n' + Array.from({ length: 50 }, (_, i) => `E${i},A,B,,\n`).join(''));
    const controller = new AbortController();
    const batches: ImportBatch[] = [];
    for await (const batch of connectorFor('hr.csv').import({ mode: 'full', objectTypes: [], batchSize: 10, signal: controller.signal })) {
      batches.push(batch);
      controller.abort();
    }
    expect(batches).toHaveLength(1);
    expect(batches[0].watermark).toBeUndefined();
  });

  it('imports a generated 100,000-row file in batches, never holding more than a batch', async () => {
    const file = join(directory, 'big.csv');
    const out = createWriteStream(file);
    out.write('Employee ID,First Name,Last Name,Groups,Manager\n');
    for (let i = 0; i < 100_000; i++) {
      // Every 100th row quoted across two lines, so both parse paths are used.
      if (!out.write(i % 100 === 0 ? `E${i},"First\n${i}",Last,Staff|IT,E0\n` : `E${i},First ${i},Last,Staff,E0\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    let rows = 0;
    let batches = 0;
    let largest = 0;
    let watermarks = 0;
    for await (const batch of connectorFor('big.csv').import({ mode: 'full', objectTypes: ['person'], batchSize: 1_000 })) {
      expect(batch.errors).toEqual([]);
      largest = Math.max(largest, batch.changes.length);
      rows += batch.changes.length;
      batches++;
      if (batch.watermark) watermarks++;
    }
    expect({ rows, batches, largest, watermarks }).toEqual({ rows: 100_000, batches: 101, largest: 1_000, watermarks: 1 });
  });
});

describe('csv connector: export', () => {
  const target = (config: Record<string, unknown> = {}) =>
    connectorFor('out.csv', { delimiter: ';', encoding: 'windows-1252', dnColumn: 'Login', export: { enabled: true }, ...config });
  const change = (fields: Partial<ExportChange> & Pick<ExportChange, 'kind'>): ExportChange => ({ id: `c-${Math.random()}`, objectType: 'person', ...fields });
  const add = (anchor: string, sn: string, extra: Partial<ExportChange> = {}) =>
    change({ kind: 'add', anchor, dn: anchor.toLowerCase(), attributes: { givenName: { op: 'replace', values: ['Zoë €'] }, sn: { op: 'replace', values: [sn] } }, ...extra });

  it('creates the file on the first export and writes exact bytes: header, CRLF, quoting, the encoding', async () => {
    const connector = target();
    expect(await connector.testConnection()).toEqual({ ok: true, detail: expect.stringContaining('the first export creates it') });
    const results = await connector.export([
      add('E1', 'Doe; "JD"'),
      change({ kind: 'add', anchor: 'E2', attributes: { sn: { op: 'replace', values: ['Roe'] }, groups: { op: 'replace', values: ['Staff', 'IT'] }, manager: { op: 'replace', values: ['E1'] } } }),
    ]);
    expect(results.map((result) => result.outcome)).toEqual(['applied', 'applied']);
    const bytes = await readFile(join(directory, 'out.csv'));
    expect(bytes.equals(iconv.encode('Employee ID;First Name;Last Name;Groups;Manager;Login\r\nE1;Zoë €;"Doe; ""JD""";;;e1\r\nE2;;Roe;Staff|IT;E1;\r\n', 'windows-1252'))).toBe(true);
    expect((await readdir(directory)).sort()).toEqual(['out.csv']);
  });

  it('applies adds, updates, deletes and renames as one set and rewrites the file once, keeping unmapped columns and their order', async () => {
    const file = join(directory, 'out.csv');
    await writeFile(file, iconv.encode('Login;Cost Center;Employee ID;First Name;Last Name;Groups;Manager\r\nada;4711;E1;Ada;Lovelace;Staff;\r\ngrace;4712;E2;Grace;Hopper;Staff;E1\r\n', 'windows-1252'));
    await chmod(file, 0o640);
    const results = await target().export([
      change({ kind: 'update', anchor: 'E1', attributes: { groups: { op: 'add', values: ['Math'] }, givenName: { op: 'replace', values: ['Augusta Ada'] } } }),
      change({ kind: 'rename', anchor: 'E2', newDn: 'ghopper' }),
      change({ kind: 'delete', anchor: 'E1' }),
      add('E3', 'Turing'),
    ]);
    expect(results.map((result) => result.outcome)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(iconv.decode(await readFile(file), 'windows-1252')).toBe('Login;Cost Center;Employee ID;First Name;Last Name;Groups;Manager\r\nghopper;4712;E2;Grace;Hopper;Staff;E1\r\ne3;;E3;Zoë €;Turing;;\r\n');
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });

  it('recognises re-applied changes (a retried batch, from a new connector) and leaves the file untouched', async () => {
    const file = join(directory, 'out.csv');
    await writeFile(file, 'Employee ID;First Name;Last Name;Groups;Manager;Login\r\nE2;B;Two;Staff;;two\r\nE3;C;Three;;;three\r\nE4;D;Four;;;four\r\n');
    const batch = [
      add('E1', 'Doe'),
      change({ kind: 'update', anchor: 'E2', attributes: { groups: { op: 'add', values: ['IT', 'Staff'] }, sn: { op: 'replace', values: ['Deux'] } } }),
      change({ kind: 'rename', anchor: 'E3', newDn: 'drei' }),
      change({ kind: 'delete', anchor: 'E4' }),
    ];
    expect((await target().export(batch)).map((result) => result.outcome)).toEqual(['applied', 'applied', 'applied', 'applied']);
    const before = await stat(file);
    const again = await target().export([...batch, change({ kind: 'update', anchor: 'E2', attributes: { groups: { op: 'replace', values: ['IT', 'Staff'] } } })]);
    expect(again.map((result) => result.outcome)).toEqual(['already-applied', 'already-applied', 'already-applied', 'already-applied', 'already-applied']);
    const after = await stat(file);
    expect({ inode: after.ino, mtime: after.mtimeMs }).toEqual({ inode: before.ino, mtime: before.mtimeMs });
    expect(iconv.decode(await readFile(file), 'windows-1252')).toBe('Employee ID;First Name;Last Name;Groups;Manager;Login\r\nE2;B;Deux;Staff|IT;;two\r\nE3;C;Three;;;drei\r\nE1;Zoë €;Doe;;;e1\r\n');
  });

  it('fails bad changes alone, each with a code and a message', async () => {
    const results = await target().export([
      add('E1', 'Doe'),
      add('E2', '王'),
      add('E1', 'Other'),
      change({ kind: 'add', attributes: { sn: { op: 'replace', values: ['NoAnchor'] } } }),
      change({ kind: 'add', anchor: 'E3', attributes: { givenName: { op: 'replace', values: ['NoSurname'] } } }),
      change({ kind: 'update', anchor: 'E404', attributes: { sn: { op: 'replace', values: ['x'] } } }),
      change({ kind: 'update', anchor: 'E1', attributes: { employeeId: { op: 'replace', values: ['E2'] } } }),
      change({ kind: 'update', anchor: 'E1', attributes: { unknown: { op: 'replace', values: ['x'] } } }),
      change({ kind: 'update', anchor: 'E1', attributes: { groups: { op: 'replace', values: ['a|b'] } } }),
      change({ kind: 'add', objectType: 'group', anchor: 'G1' }),
      add('E5', 'Five'),
    ]);
    expect(results.map((result) => [result.outcome, result.error?.code])).toEqual([
      ['applied', undefined],
      ['failed', 'OBJECT_CONSTRAINT_VIOLATION'],
      ['failed', 'OBJECT_ALREADY_EXISTS'],
      ['failed', 'OBJECT_REJECTED'],
      ['failed', 'OBJECT_CONSTRAINT_VIOLATION'],
      ['failed', 'OBJECT_NOT_FOUND'],
      ['failed', 'OBJECT_REJECTED'],
      ['failed', 'OBJECT_REJECTED'],
      ['failed', 'OBJECT_CONSTRAINT_VIOLATION'],
      ['failed', 'OBJECT_REJECTED'],
      ['applied', undefined],
    ]);
    expect(results[1].error?.message).toContain('encoding cannot represent');
    const held = iconv.decode(await readFile(join(directory, 'out.csv')), 'windows-1252');
    expect(held.split('\r\n').filter(Boolean).map((line) => line.split(';')[0])).toEqual(['Employee ID', 'E1', 'E5']);
  });

  it('writes nothing when the target holds rows it cannot read, since a rewrite would drop them', async () => {
    const file = join(directory, 'out.csv');
    const content = 'Employee ID;First Name;Last Name;Groups;Manager;Login\r\nE1;"Ada;Lovelace;;;\r\nE2;Grace;Hopper;;;\r\n';
    await writeFile(file, content);
    const error = await rejection(target({ encoding: 'utf-8' }).export([add('E3', 'Turing')]));
    expect(error.message).toContain('line 2');
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('writes utf-16le with a byte order mark, tab-delimited, as Excel does', async () => {
    await target({ delimiter: '\t', encoding: 'utf-16le', export: { enabled: true, lineEnding: '\n' } }).export([add('E1', 'Şahin')]);
    const bytes = await readFile(join(directory, 'out.csv'));
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(iconv.decode(bytes, 'utf-16le')).toBe('Employee ID\tFirst Name\tLast Name\tGroups\tManager\tLogin\nE1\tZoë €\tŞahin\t\t\te1\n');
  });

  it('refuses exports when export is not enabled', async () => {
    expect((await rejection(connectorFor('hr.csv').export([add('E1', 'Doe')]))).code).toBe('CONNECTOR_CONFIG_INVALID');
  });
});

describe('writeFileAtomically', () => {
  it('leaves the old file and no temporary file behind when writing fails midway', async () => {
    const file = join(directory, 'out.csv');
    await writeFile(file, 'old content\n');
    function* failing(): Generator<Uint8Array> {
      yield Buffer.from('new content, part one\n');
      throw new Error('disk on fire');
    }
    const error = await rejection(writeFileAtomically(file, failing()));
    expect(error.message).toContain('disk on fire');
    expect(await readFile(file, 'utf8')).toBe('old content\n');
    expect(await readdir(directory)).toEqual(['out.csv']);
  });
});
