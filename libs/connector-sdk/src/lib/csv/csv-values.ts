import type { AttributeValue, AttributeValues } from '../connector';
import type { CsvColumnType } from './csv-config';

/** A mapped column as the connector uses it: its attribute name resolved. */
export interface CsvColumn {
  column: string;
  attribute: string;
  type: CsvColumnType;
  separator?: string;
  required: boolean;
}

// Dates without a zone are read as UTC: an HR feed's dates have no zone, and
// the engine's clock zone must not change what a row means.
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const TRUE_WORDS = new Set(['true', '1', 'yes', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n']);

/** The values of one cell, or why they are not valid for the column. */
export function cellToValues(cell: string, column: CsvColumn): AttributeValues | { problem: string } {
  const texts = column.separator === undefined ? [cell] : cell.split(column.separator).map((part) => part.trim());
  const values: AttributeValues = [];
  for (const text of texts) {
    if (text === '') continue;
    const value = textToValue(text, column.type);
    if (value === undefined) return { problem: `column '${column.column}': '${text}' is not ${article(column.type)}` };
    values.push(value);
  }
  return values;
}

function textToValue(text: string, type: CsvColumnType): AttributeValue | undefined {
  switch (type) {
    case 'string':
    case 'reference':
      return text;
    case 'integer': {
      if (!/^[+-]?\d+$/.test(text)) return undefined;
      const number = Number(text);
      return Number.isSafeInteger(number) ? number : undefined;
    }
    case 'boolean': {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return undefined;
    }
    case 'datetime':
      return isoDateTime(text);
  }
}

function isoDateTime(text: string): string | undefined {
  const match = ISO_DATE.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${zone}`);
  if (Number.isNaN(date.getTime())) return undefined;
  // Date rolls 2024-02-30 over to March; a feed that says so is wrong, not early.
  if (!zone.startsWith('+') && !zone.startsWith('-') && date.getUTCDate() !== Number(day)) return undefined;
  return date.toISOString();
}

function article(type: CsvColumnType): string {
  switch (type) {
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'a boolean (true/false, yes/no, 1/0)';
    case 'datetime':
      return 'an ISO-8601 date or date-time';
    case 'string':
    case 'reference':
      return `a ${type}`;
  }
}

/** The cell text for values of an export, or why the column cannot hold them. */
export function valuesToCell(values: AttributeValues, column: CsvColumn): string | { problem: string } {
  if (column.separator === undefined && values.length > 1) {
    return { problem: `attribute '${column.attribute}' holds one value, got ${values.length}` };
  }
  const texts: string[] = [];
  for (const value of values) {
    const text = valueToText(value, column.type);
    if (text === undefined) return { problem: `attribute '${column.attribute}': ${JSON.stringify(value)} is not ${article(column.type)}` };
    if (column.separator !== undefined && text.includes(column.separator)) {
      return { problem: `attribute '${column.attribute}': value '${text}' contains the separator '${column.separator}'` };
    }
    if (text === '') continue;
    texts.push(text);
  }
  return texts.join(column.separator ?? '');
}

function valueToText(value: AttributeValue, type: CsvColumnType): string | undefined {
  switch (type) {
    case 'string':
    case 'reference':
      return typeof value === 'string' ? value : String(value);
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) ? value.trim() : undefined;
    case 'boolean':
      if (typeof value === 'boolean') return String(value);
      return typeof value === 'string' && (TRUE_WORDS.has(value.toLowerCase()) || FALSE_WORDS.has(value.toLowerCase())) ? String(TRUE_WORDS.has(value.toLowerCase())) : undefined;
    case 'datetime':
      return typeof value === 'string' ? isoDateTime(value.trim()) : undefined;
  }
}

/** Whether two cells hold the same values for the column (multi-valued cells in any order). */
export function sameCell(a: string, b: string, column: CsvColumn): boolean {
  if (a === b) return true;
  const left = cellToValues(a, column);
  const right = cellToValues(b, column);
  if (!Array.isArray(left) || !Array.isArray(right)) return false;
  const key = (values: AttributeValues) => values.map((value) => String(value)).sort();
  return JSON.stringify(key(left)) === JSON.stringify(key(right));
}
