import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import * as iconv from 'iconv-lite';
import { CsvDialect, CsvReadItem, readCsvRecords } from './csv-record-reader';

const COMMA: CsvDialect = { encoding: 'utf-8', delimiter: ',', quote: '"', trim: true, maxLinesPerRecord: 100, maxRecordLength: 1024 * 1024 };

async function readAll(input: Buffer | string, dialect: Partial<CsvDialect> = {}, chunkSize = 7): Promise<CsvReadItem[]> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  // Small chunks put chunk boundaries inside lines, quotes and multi-byte characters.
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) chunks.push(bytes.subarray(offset, offset + chunkSize));
  const items: CsvReadItem[] = [];
  for await (const item of readCsvRecords(Readable.from(chunks), { ...COMMA, ...dialect })) items.push(item);
  return items;
}

const fieldsOf = (items: CsvReadItem[]) => items.map((item) => (item.kind === 'record' ? item.fields : `problem@${item.line}`));

describe('readCsvRecords', () => {
  it('splits on a semicolon and on a tab', async () => {
    expect(fieldsOf(await readAll('id;name\n1;Ann\n', { delimiter: ';' }))).toEqual([
      ['id', 'name'],
      ['1', 'Ann'],
    ]);
    expect(fieldsOf(await readAll('id\tname\n1\t Ann Lee \n', { delimiter: '\t' }))).toEqual([
      ['id', 'name'],
      ['1', 'Ann Lee'],
    ]);
  });

  it('reads quoted fields holding delimiters, line breaks and doubled quotes', async () => {
    const items = await readAll('id,note,city\r\n1,"Lee, Ann","Line one\r\nline two"\r\n2,"She said ""hi""",  "  Oslo  "  \r\n3,,""\r\n');
    expect(fieldsOf(items)).toEqual([
      ['id', 'note', 'city'],
      ['1', 'Lee, Ann', 'Line one\r\nline two'],
      ['2', 'She said "hi"', '  Oslo  '],
      ['3', '', ''],
    ]);
    expect(items.map((item) => [item.line, item.endLine])).toEqual([
      [1, 1],
      [2, 3],
      [4, 4],
      [5, 5],
    ]);
  });

  it('uses a configured quote character', async () => {
    expect(fieldsOf(await readAll("id;name\n1;'O''Brien; Pat'\n", { delimiter: ';', quote: "'" }))).toEqual([
      ['id', 'name'],
      ['1', "O'Brien; Pat"],
    ]);
  });

  it('keeps whitespace when trim is off', async () => {
    expect(fieldsOf(await readAll('a, b \n', { trim: false }))).toEqual([['a', ' b ']]);
  });

  it('skips blank lines but counts them', async () => {
    const items = await readAll('id\n\n   \n1\n');
    expect(items.map((item) => item.line)).toEqual([1, 4]);
  });

  it('drops a UTF-8 byte order mark', async () => {
    const items = await readAll(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,name\n1,Zoë\n')]), {}, 2);
    expect(fieldsOf(items)).toEqual([
      ['id', 'name'],
      ['1', 'Zoë'],
    ]);
  });

  it('decodes windows-1252 (latin1) files', async () => {
    const bytes = Buffer.from([...Buffer.from('id,name\n1,'), 0x5a, 0x6f, 0xeb, 0x20, 0x80, 0x0a]);
    expect(fieldsOf(await readAll(bytes, { encoding: 'windows-1252' }))).toEqual([
      ['id', 'name'],
      ['1', 'Zoë €'],
    ]);
  });

  it('decodes utf-16le files with their byte order mark, split anywhere', async () => {
    const bytes = iconv.encode('id;name\r\n1;"Şahin; Ayşe"\r\n', 'utf-16le', { addBOM: true });
    expect(fieldsOf(await readAll(bytes, { encoding: 'utf-16le', delimiter: ';' }, 3))).toEqual([
      ['id', 'name'],
      ['1', 'Şahin; Ayşe'],
    ]);
  });

  it('marks bytes that are not valid in the encoding', async () => {
    const bytes = Buffer.concat([Buffer.from('id,name\n1,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n2,ok\n')]);
    const items = await readAll(bytes);
    expect(items[1]).toMatchObject({ kind: 'record', fields: ['1', '\ufffd('] });
    expect(items[2]).toMatchObject({ kind: 'record', fields: ['2', 'ok'] });
  });

  describe('a broken row fails alone', () => {
    it('a quote closed in the middle of a field', async () => {
      const items = await readAll('id,name\n1,"Ann"x\n2,Bob\n');
      expect(fieldsOf(items)).toEqual([['id', 'name'], 'problem@2', ['2', 'Bob']]);
      expect(items[1]).toMatchObject({ message: expect.stringContaining('doubled') });
    });

    it('a stray quote inside an unquoted field', async () => {
      expect(fieldsOf(await readAll('id,name\n1,O"Brien\n2,Bob\n3,"Cy"\n'))).toEqual([['id', 'name'], 'problem@2', ['2', 'Bob'], ['3', 'Cy']]);
    });

    it('a quote never closed, at the end of the file', async () => {
      const items = await readAll('id,name\n1,Ann\n2,"Bob\n3,Cy\n');
      expect(fieldsOf(items)).toEqual([['id', 'name'], ['1', 'Ann'], 'problem@3', ['3', 'Cy']]);
      expect(items[2]).toMatchObject({ message: expect.stringContaining('not closed') });
    });

    it('a quote not closed within maxLinesPerRecord lines', async () => {
      const rows = Array.from({ length: 10 }, (_, i) => `${i + 3},row${i + 3}`).join('\n');
      const items = await readAll(`id,name\n2,"open\n${rows}\n13,"x"\n`, { maxLinesPerRecord: 5 });
      expect(fieldsOf(items)[1]).toBe('problem@2');
      expect(items.filter((item) => item.kind === 'record')).toHaveLength(1 + 10 + 1);
    });

    it('a line longer than maxRecordLength', async () => {
      const items = await readAll(`id,name\n1,${'x'.repeat(5000)}\n2,Bob\n`, { maxRecordLength: 1024 }, 512);
      expect(fieldsOf(items)).toEqual([['id', 'name'], 'problem@2', ['2', 'Bob']]);
    });

    it('two stray quotes on different lines do not swallow the lines between', async () => {
      expect(fieldsOf(await readAll('id,name\n1,a"b\n2,ok\n3,c"d\n4,ok\n'))).toEqual([['id', 'name'], 'problem@2', ['2', 'ok'], 'problem@4', ['4', 'ok']]);
    });
  });

  it('reads quote-free lines exactly as csv-parse does', async () => {
    const lines = ['a,b,c', ' a , b ,c ', 'a,,', ',', 'x\u00a0,\ty\t,z', 'a b,c  d', 'a,b\r', "it's,fine", 'ä,ö;ü'];
    for (const trim of [true, false]) {
      for (const line of lines) {
        const [record] = await readAll(`${line}\n`, { trim });
        const expected = parse(`${line}\n`, { delimiter: ',', quote: '"', escape: '"', trim, relax_column_count: true, record_delimiter: ['\r\n', '\n'] })[0];
        expect({ line, trim, fields: record.kind === 'record' ? record.fields : record }).toEqual({ line, trim, fields: expected });
      }
    }
  });

  it('pulls the source lazily, holding no more than a batch of rows', async () => {
    let produced = 0;
    async function* rows(): AsyncGenerator<Buffer> {
      yield Buffer.from('id,name,mail\n');
      for (let i = 1; i <= 100_000; i++) {
        produced++;
        // Every tenth row is quoted, so both ways a record is parsed are pulled through.
        yield Buffer.from(i % 10 === 0 ? `E${i},"Doe, ${i}",e${i}@corp.example\n` : `E${i},Doe ${i},e${i}@corp.example\n`);
      }
    }
    const batchSize = 1_000;
    const producedAtBatchEnd: number[] = [];
    let batch = 0;
    let records = 0;
    for await (const item of readCsvRecords(rows(), COMMA)) {
      if (item.kind !== 'record') throw new Error(`unexpected problem at line ${item.line}`);
      records++;
      batch++;
      if (batch === batchSize) {
        producedAtBatchEnd.push(produced);
        batch = 0;
      }
    }
    expect(records).toBe(100_001);
    expect(producedAtBatchEnd.length).toBe(100);
    // The reader asks the source for a row only as its own consumer asks: it never runs ahead by more than one row.
    producedAtBatchEnd.forEach((count, index) => expect(count - (index + 1) * batchSize).toBeLessThanOrEqual(1));
  });
});
