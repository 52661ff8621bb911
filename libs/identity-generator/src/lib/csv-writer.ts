import type { Writable } from 'node:stream';
import { IdentityGeneratorError, invalidParameter } from './generator.errors';
import { GROUP_COLUMNS, PERSON_COLUMNS, type FileColumn } from './file-columns';
import type { Group, Person } from './model';
import { writeLines, type WriteOptions, type WriteResult } from './record-writer';

/** The dialect of the CSV files; the connector config helpers take the same object. */
export interface CsvFormat {
  /** One character. @default ',' */
  delimiter?: string;
  /** One character; doubled inside a quoted field (RFC 4180). @default '"' */
  quote?: string;
  /** Joins the values of a multi-valued cell (group members). @default '|' */
  separator?: string;
  /** RFC 4180 says CRLF. @default '\r\n' */
  lineEnding?: '\r\n' | '\n';
}

export type ResolvedCsvFormat = Required<CsvFormat>;

export function resolveCsvFormat(format: CsvFormat = {}): ResolvedCsvFormat {
  const resolved: ResolvedCsvFormat = { delimiter: ',', quote: '"', separator: '|', lineEnding: '\r\n', ...format };
  for (const name of ['delimiter', 'quote'] as const) {
    const value = resolved[name];
    if ([...value].length !== 1 || value === '\r' || value === '\n') throw invalidParameter(`format.${name}`, `must be one character other than a line break, got ${JSON.stringify(value)}`);
  }
  if (resolved.delimiter === resolved.quote) throw invalidParameter('format.quote', 'must differ from the delimiter');
  if (resolved.separator === '' || resolved.separator === resolved.delimiter || resolved.separator === resolved.quote) {
    throw invalidParameter('format.separator', 'must be non-empty and differ from the delimiter and the quote');
  }
  if (resolved.lineEnding !== '\r\n' && resolved.lineEnding !== '\n') throw invalidParameter('format.lineEnding', `must be "\\r\\n" or "\\n", got ${JSON.stringify(resolved.lineEnding)}`);
  return resolved;
}

function escapeForCharacterClass(character: string): string {
  return character.replace(/[\\\]^-]/g, '\\$&');
}

/** Quotes a field only when it must be: delimiter, quote or line break inside, or whitespace at an end (readers trim it off unquoted fields). */
export function csvField(value: string, format: ResolvedCsvFormat, needsQuotes = quotingTest(format)): string {
  if (!needsQuotes.test(value)) return value;
  return format.quote + value.split(format.quote).join(format.quote + format.quote) + format.quote;
}

function quotingTest(format: ResolvedCsvFormat): RegExp {
  return new RegExp(`[${escapeForCharacterClass(format.delimiter)}${escapeForCharacterClass(format.quote)}\\r\\n]|^\\s|\\s$`);
}

function cellText<T>(column: FileColumn<T>, row: T, format: ResolvedCsvFormat): string {
  const value = column.value(row);
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  for (const part of value) {
    if (part === '' || part.includes(format.separator)) {
      throw new IdentityGeneratorError('GENERATOR_VALUE_UNWRITABLE', `column '${column.column}': the value ${JSON.stringify(part)} cannot be one of the values joined by ${JSON.stringify(format.separator)}`);
    }
  }
  return value.join(format.separator);
}

function* csvLines<T>(rows: Iterable<T>, columns: readonly FileColumn<T>[], format: ResolvedCsvFormat): Generator<string> {
  const needsQuotes = quotingTest(format);
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) line += format.delimiter;
      line += csvField(cellText(columns[i], row, format), format, needsQuotes);
    }
    yield line;
  }
}

/** Writes rows as CSV with a header row, streamed (see {@link writeLines}). */
export function writeCsv<T>(rows: Iterable<T>, columns: readonly FileColumn<T>[], out: Writable, format: CsvFormat = {}, options: WriteOptions = {}): Promise<WriteResult> {
  const resolved = resolveCsvFormat(format);
  const header = columns.map((column) => csvField(column.column, resolved)).join(resolved.delimiter);
  return writeLines(csvLines(rows, columns, resolved), resolved.lineEnding, out, options, header);
}

/** The HR feed: one row per person; `Manager` holds the manager's Employee ID. */
export function writePeopleCsv(people: Iterable<Person>, out: Writable, format: CsvFormat = {}, options: WriteOptions = {}): Promise<WriteResult> {
  return writeCsv(people, PERSON_COLUMNS, out, format, options);
}

/** One row per group; `Members` holds Employee IDs and `Member Groups` Group IDs, each joined by the separator. */
export function writeGroupsCsv(groups: Iterable<Group>, out: Writable, format: CsvFormat = {}, options: WriteOptions = {}): Promise<WriteResult> {
  return writeCsv(groups, GROUP_COLUMNS, out, format, options);
}
