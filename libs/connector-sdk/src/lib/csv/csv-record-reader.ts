import { parse } from 'csv-parse/sync';
import * as iconv from 'iconv-lite';

/** How a delimited file is spelled; see CsvConnectorConfig for each field. */
export interface CsvDialect {
  /** An iconv-lite encoding name. */
  encoding: string;
  delimiter: string;
  quote: string;
  trim: boolean;
  maxLinesPerRecord: number;
  maxRecordLength: number;
}

/** One record of the file: its fields and where it starts and ends (1-based physical lines). */
export interface CsvRecord {
  kind: 'record';
  line: number;
  endLine: number;
  fields: string[];
}

/** A record that could not be read; the reader goes on with the next one. */
export interface CsvRecordProblem {
  kind: 'problem';
  line: number;
  endLine: number;
  message: string;
  /** The record's first physical line as read, so a caller can still try to find its anchor. */
  text: string;
}

export type CsvReadItem = CsvRecord | CsvRecordProblem;

interface PhysicalLine {
  number: number;
  /** Without the `\n`; a CRLF line keeps its `\r` until the record is parsed. */
  text: string;
  tooLong: boolean;
}

/**
 * Reads a delimited file as records, pulling bytes from `source` only as the
 * caller pulls records: memory holds one chunk and the record being
 * assembled, never the file.
 *
 * Physical lines are grouped into a record until its quotes balance, and each
 * record is parsed on its own (with csv-parse). That is what lets one broken
 * row fail alone: a stray or unclosed quote is reported on its line, and
 * reading restarts on the next line instead of swallowing the rest of the
 * file, which a single streaming parser does.
 */
export async function* readCsvRecords(source: AsyncIterable<Uint8Array | string>, dialect: CsvDialect): AsyncGenerator<CsvReadItem> {
  const lines = physicalLines(decode(source, dialect.encoding), dialect.maxRecordLength)[Symbol.asyncIterator]();
  const replay: PhysicalLine[] = [];
  let pending: PhysicalLine[] = [];
  let pendingLength = 0;
  let quoteParity = 0;

  function* giveUp(reason: string): Generator<CsvReadItem> {
    const first = pending[0];
    yield problem(first, first, reason);
    // The quote may have been a stray one: the lines after it get their own chance.
    replay.unshift(...pending.slice(1));
    pending = [];
    pendingLength = 0;
    quoteParity = 0;
  }

  for (;;) {
    let line = replay.shift();
    if (!line) {
      const next = await lines.next();
      if (next.done) {
        if (pending.length === 0) return;
        yield* giveUp(`a quote opened on line ${pending[0].number} is not closed before the end of the file`);
        continue;
      }
      line = next.value;
    }

    if (line.tooLong) {
      if (pending.length > 0) {
        replay.unshift(line);
        yield* giveUp(`a quote opened on line ${pending[0].number} is not closed within ${dialect.maxRecordLength} characters`);
      } else {
        yield problem(line, line, `the line is longer than ${dialect.maxRecordLength} characters`);
      }
      continue;
    }
    if (pending.length === 0 && line.text.trim() === '') continue;

    pending.push(line);
    pendingLength += line.text.length + 1;
    quoteParity ^= countOf(line.text, dialect.quote) & 1;
    if (quoteParity === 1) {
      if (pending.length >= dialect.maxLinesPerRecord || pendingLength > dialect.maxRecordLength) {
        yield* giveUp(`a quote opened on line ${pending[0].number} is not closed within ${dialect.maxLinesPerRecord} lines`);
      }
      continue;
    }

    const first = pending[0];
    const parsed = parseRecord(pending, dialect);
    if (typeof parsed === 'string') {
      if (pending.length > 1) {
        yield* giveUp(parsed);
        continue;
      }
      yield problem(first, line, parsed);
    } else {
      yield { kind: 'record', line: first.number, endLine: line.number, fields: parsed };
    }
    pending = [];
    pendingLength = 0;
  }
}

function problem(first: PhysicalLine, last: PhysicalLine, message: string): CsvRecordProblem {
  return { kind: 'problem', line: first.number, endLine: last.number, message, text: first.tooLong ? '' : first.text };
}

/** The fields of one record, or why it cannot be read. */
function parseRecord(lines: PhysicalLine[], dialect: CsvDialect): string[] | string {
  if (lines.length === 1 && !lines[0].text.includes(dialect.quote)) {
    // Most rows hold no quote at all; splitting them directly gives what
    // csv-parse gives (see the spec) at a fraction of its per-call cost.
    const fields = stripCarriageReturn(lines[0].text).split(dialect.delimiter);
    return dialect.trim ? fields.map((field) => field.trim()) : fields;
  }
  const text = lines.map((line) => line.text).join('\n');
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: dialect.delimiter,
      quote: dialect.quote,
      escape: dialect.quote,
      record_delimiter: ['\r\n', '\n'],
      trim: dialect.trim,
      relax_column_count: true,
      skip_empty_lines: false,
    });
  } catch (error) {
    return describeParseError(error);
  }
  if (records.length !== 1) return 'the record cannot be read as one row';
  return records[0];
}

function describeParseError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  switch (code) {
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quoted field is followed by more text before the next delimiter (a quote inside a quoted field must be doubled)';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote character inside an unquoted field (quote the field and double the quote)';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is not closed';
    default:
      return `the record cannot be parsed (${code ?? String(error)})`;
  }
}

function stripCarriageReturn(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

function countOf(text: string, character: string): number {
  let count = 0;
  for (let index = text.indexOf(character); index !== -1; index = text.indexOf(character, index + 1)) count++;
  return count;
}

/** Text in the file's encoding; a leading byte order mark is dropped. Undecodable bytes become U+FFFD. */
async function* decode(source: AsyncIterable<Uint8Array | string>, encoding: string): AsyncGenerator<string> {
  const decoder = iconv.getDecoder(encoding, { stripBOM: true });
  for await (const chunk of source) {
    const text = decoder.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

async function* physicalLines(text: AsyncIterable<string>, maxLength: number): AsyncGenerator<PhysicalLine> {
  let number = 1;
  let partial = '';
  let tooLong = false;
  for await (const chunk of text) {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, end);
      yield tooLong || partial.length + piece.length > maxLength ? { number, text: '', tooLong: true } : { number, text: partial + piece, tooLong: false };
      number++;
      partial = '';
      tooLong = false;
      start = end + 1;
    }
    if (!tooLong) {
      partial += chunk.slice(start);
      // A line that never ends must not take the whole file into memory.
      if (partial.length > maxLength) {
        partial = '';
        tooLong = true;
      }
    }
  }
  if (tooLong) yield { number, text: '', tooLong: true };
  else if (partial !== '') yield { number, text: partial, tooLong: false };
}

/** Whether a decoded text holds bytes the encoding could not decode. */
export function hasUndecodableBytes(text: string): boolean {
  return text.includes('\ufffd');
}
