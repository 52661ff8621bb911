import { parse } from 'csv-parse/sync';
import { PassThrough } from 'node:stream';
import { writeCsv, writeGroupsCsv, writePeopleCsv, type CsvFormat } from './csv-writer';
import { PERSON_COLUMNS } from './file-columns';
import { IdentityGeneratorError } from './generator.errors';
import { writeJsonLines } from './json-lines-writer';
import type { Group, Person } from './model';
import { generatePopulation } from './population';
import { HashingSink } from './testing/checks';

/** Collects a small file's text; only for the few-row cases, the large ones go through HashingSink. */
async function text(write: (out: PassThrough) => Promise<unknown>): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await write(out);
  return Buffer.concat(chunks).toString('utf8');
}

const awkward: Person[] = [
  {
    employeeId: 'E000001',
    givenName: 'José "Pepe"',
    surname: 'Ñúñez, Jr.',
    preferredName: ' Pepe ',
    department: 'Research & Development',
    title: 'VP, Engineering\r\nand Operations',
    location: 'São Paulo',
    hireDate: '2001-02-03',
    employmentStatus: 'active',
    mobile: '+5511900000000',
  },
  {
    employeeId: 'E000002',
    givenName: 'Siobhán',
    surname: "O'Brien",
    department: 'Sales; EMEA',
    title: 'Account Executive',
    manager: 'E000001',
    location: 'Zürich',
    hireDate: '2010-11-12',
    employmentStatus: 'on-leave',
    mobile: '+41790000000',
  },
];

function rowsOf(csv: string, options: Record<string, unknown> = {}): Record<string, string>[] {
  return parse(csv, { columns: true, ...options }) as Record<string, string>[];
}

function expectedRow(person: Person): Record<string, string> {
  return Object.fromEntries(PERSON_COLUMNS.map((column) => [column.column, (column.value(person) as string | undefined) ?? '']));
}

describe('CSV writer: quoting', () => {
  it('quotes delimiters, quotes, line breaks and edge whitespace as RFC 4180 says, and keeps diacritics', async () => {
    const csv = await text((out) => writePeopleCsv(awkward, out));
    expect(csv.split('\r\n')[0]).toBe('Employee ID,Given Name,Surname,Preferred Name,Department,Title,Manager,Location,Hire Date,Employment Status,Mobile');
    expect(csv).toContain('"José ""Pepe""","Ñúñez, Jr."," Pepe "');
    expect(csv).toContain("Siobhán,O'Brien,,Sales; EMEA,");
    expect(rowsOf(csv)).toEqual(awkward.map(expectedRow));
    // The connector trims unquoted whitespace; quoted whitespace must survive that.
    expect(rowsOf(csv, { trim: true })).toEqual(awkward.map(expectedRow));
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('writes another dialect: semicolons, apostrophe quotes, LF', async () => {
    const format: CsvFormat = { delimiter: ';', quote: "'", lineEnding: '\n', separator: '/' };
    const csv = await text((out) => writePeopleCsv(awkward, out, format));
    expect(csv).toContain("'O''Brien'");
    expect(csv).toContain("'Sales; EMEA'");
    expect(csv).not.toContain('\r\n,');
    // RFC 4180 doubles the quote character itself; csv-parse must be told the escape is that character too.
    expect(rowsOf(csv, { delimiter: ';', quote: "'", escape: "'" })).toEqual(awkward.map(expectedRow));
  });

  it('joins group members with the separator and refuses a value that contains it', async () => {
    const groups: Group[] = [{ groupId: 'G000001', name: 'Ops, "core"', kind: 'project', members: ['E000001', 'E000002'], memberGroups: ['G000002'] }];
    const csv = await text((out) => writeGroupsCsv(groups, out));
    expect(rowsOf(csv)).toEqual([{ 'Group ID': 'G000001', Name: 'Ops, "core"', Kind: 'project', Members: 'E000001|E000002', 'Member Groups': 'G000002' }]);
    const broken: Group[] = [{ ...groups[0], members: ['E1|E2'] }];
    await expect(text((out) => writeGroupsCsv(broken, out))).rejects.toMatchObject({ code: 'GENERATOR_VALUE_UNWRITABLE' });
  });

  it('refuses a dialect that cannot work', async () => {
    await expect(text((out) => writePeopleCsv(awkward, out, { delimiter: ',', quote: ',' }))).rejects.toBeInstanceOf(IdentityGeneratorError);
    await expect(text((out) => writePeopleCsv(awkward, out, { separator: ',' }))).rejects.toThrow(/^format\.separator /);
    await expect(text((out) => writePeopleCsv(awkward, out, { delimiter: ';;' }))).rejects.toThrow(/^format\.delimiter /);
  });

  it('round-trips a generated population through csv-parse', async () => {
    const population = generatePopulation({ seed: 8, people: 2000, internationalNameRate: 0.3 });
    const csv = await text((out) => writePeopleCsv(population.people, out));
    expect(rowsOf(csv)).toEqual(population.people.map(expectedRow));
    const groups = rowsOf(await text((out) => writeGroupsCsv(population.groups, out)));
    expect(groups.map((row) => row['Members'].split('|').filter(Boolean))).toEqual(population.groups.map((group) => group.members));
    expect(groups.map((row) => row['Member Groups'].split('|').filter(Boolean))).toEqual(population.groups.map((group) => group.memberGroups));
  });
});

describe('CSV writer: streaming', () => {
  const population = generatePopulation({ seed: 77, people: 100_000 });

  it('streams the 100k-person file in bounded chunks, pulling rows only as the stream takes them', async () => {
    let pulled = 0;
    const pulledAtWrite: number[] = [];
    function* counted(): Generator<Person> {
      for (const person of population.people) {
        pulled++;
        yield person;
      }
    }
    const sink = new HashingSink(16 * 1024, () => pulledAtWrite.push(pulled));
    const result = await writePeopleCsv(counted(), sink);
    expect(result.records).toBe(100_000);
    expect(result.writes).toBe(sink.writeSizes.length);
    expect(result.writes).toBeGreaterThan(100);
    expect(result.bytes).toBe(sink.writeSizes.reduce((sum, size) => sum + size, 0));
    // Each write is one chunk (64 KiB plus the record that crossed the mark), never the file.
    expect(Math.max(...sink.writeSizes)).toBeLessThan(64 * 1024 * 4 + 1024);
    // The first chunk left before 1 % of the rows had been read: the text never existed whole.
    expect(pulledAtWrite[0]).toBeLessThan(1000);
    // Backpressure honoured: never more than one chunk beyond the sink's high-water mark waiting.
    expect(sink.maxBuffered).toBeLessThan(16 * 1024 + 64 * 1024 * 4 + 1024);
  });

  it('writes the same bytes for the same seed, other bytes for another', async () => {
    const hash = async (seed: number): Promise<string> => {
      const sink = new HashingSink();
      await writePeopleCsv(generatePopulation({ seed, people: 5000 }).people, sink);
      return sink.digest();
    };
    const first = await hash(1);
    expect(await hash(1)).toBe(first);
    expect(await hash(2)).not.toBe(first);
  });

  it('reports the longest record, which a reader must allow for', async () => {
    const sink = new HashingSink();
    const result = await writeGroupsCsv(population.groups, sink);
    // All Staff: 100k ids of 7 characters and their separators.
    expect(result.longestRecord).toBeGreaterThan(100_000 * 8);
  });

  it('stops with a coded error when the stream is destroyed midway', async () => {
    const sink = new HashingSink();
    const writing = writePeopleCsv(population.people, sink);
    setImmediate(() => sink.destroy());
    await expect(writing).rejects.toMatchObject({ code: 'GENERATOR_OUTPUT_CLOSED' });
  });

  it('leaves the stream open when asked, for a caller that appends', async () => {
    const sink = new HashingSink();
    await writeCsv([{ a: 'x' }], [{ column: 'A', attribute: 'a', value: (row: { a: string }) => row.a }], sink, {}, { end: false });
    expect(sink.writableEnded).toBe(false);
    sink.end();
  });
});

describe('JSON-lines writer', () => {
  it('writes one parseable object per line, in the model property order', async () => {
    const population = generatePopulation({ seed: 8, people: 300 });
    const jsonl = await text((out) => writeJsonLines(population.people, out));
    const lines = jsonl.trimEnd().split('\n');
    expect(lines).toHaveLength(300);
    expect(lines.map((line) => JSON.parse(line))).toEqual(population.people);
    expect(Object.keys(JSON.parse(lines[0]))[0]).toBe('employeeId');
  });
});
