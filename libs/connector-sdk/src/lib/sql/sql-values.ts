/**
 * Conversions between what the drivers return or bind and connector-space
 * values. Every driver is set up to hand over text where its own conversion
 * would lose something (timestamps, 64-bit integers), so the rules here are
 * the same for every dialect.
 */
import type { AttributeType, AttributeValue, AttributeValues } from '../connector';
import type { SqlAnchorType, SqlSoftDeleteType } from './sql-config';
import type { SqlParam } from './sql-dialect';

/** A mapped column as conversions need it. */
export interface SqlValueColumn {
  column: string;
  attribute: string;
  type: AttributeType;
  multiValued: boolean;
  separator: string;
}

/** Why a value could not be converted; the caller turns it into a per-object error naming the column. */
export class SqlValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlValueError';
  }
}

// Text without a zone is UTC: the drivers run their sessions in UTC, and the
// engine's own time zone must not change what a row means.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const INTEGER = /^[+-]?\d+$/;
const INTEGER_WITH_ZERO_FRACTION = /^([+-]?\d+)(?:\.0+)?$/;
const TRUE_WORDS = new Set(['true', 't', '1', 'yes', 'y']);
const FALSE_WORDS = new Set(['false', 'f', '0', 'no', 'n']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A date-time text as ISO-8601 UTC with milliseconds, or undefined when it is not one. */
export function parseDateTime(text: string): string | undefined {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : normalizeOffset(zone);
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction ? `.${fraction.slice(0, 3).padEnd(3, '0')}` : ''}${offset}`);
  if (Number.isNaN(date.getTime())) return undefined;
  // Date rolls 2024-02-30 over into March; a stored value that says so is wrong, not early.
  if (offset === 'Z' && (date.getUTCDate() !== Number(day) || date.getUTCMonth() !== Number(month) - 1)) return undefined;
  return date.toISOString();
}

function normalizeOffset(zone: string): string {
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.length > 2 ? digits.slice(2) : '00'}`;
}

function integerOf(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === 'bigint') return raw >= BigInt(Number.MIN_SAFE_INTEGER) && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : undefined;
  if (typeof raw === 'string') {
    const match = INTEGER_WITH_ZERO_FRACTION.exec(raw.trim());
    if (!match) return undefined;
    const value = Number(match[1]);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  return undefined;
}

function booleanOf(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint') return raw === 1 || raw === 1n ? true : raw === 0 || raw === 0n ? false : undefined;
  if (typeof raw === 'string') {
    const word = raw.trim().toLowerCase();
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
  }
  // MariaDB/MySQL BIT(1).
  if (Buffer.isBuffer(raw) && raw.length === 1 && raw[0] <= 1) return raw[0] === 1;
  return undefined;
}

function describe(raw: unknown): string {
  if (Buffer.isBuffer(raw)) return `${raw.length} bytes`;
  if (raw instanceof Date) return 'a date';
  const text = typeof raw === 'string' ? JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw) : String(raw);
  return `${typeof raw} ${text}`;
}

function article(type: AttributeType): string {
  return type === 'integer' ? 'an integer' : `a ${type}`;
}

/** One value read from a single-valued column. */
function readValue(raw: unknown, type: AttributeType): AttributeValue | undefined {
  switch (type) {
    case 'string':
    case 'reference':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'boolean') return String(raw);
      if (raw instanceof Date && !Number.isNaN(raw.getTime())) return raw.toISOString();
      return undefined;
    case 'integer':
      return integerOf(raw);
    case 'boolean':
      return booleanOf(raw);
    case 'datetime':
      if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? undefined : raw.toISOString();
      return typeof raw === 'string' ? parseDateTime(raw) : undefined;
    case 'binary':
      return Buffer.isBuffer(raw) || raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : undefined;
  }
}

/** The attribute values a column's raw value holds. Throws SqlValueError. */
export function columnToValues(raw: unknown, column: SqlValueColumn): AttributeValues {
  if (raw === null || raw === undefined) return [];
  if (!column.multiValued) {
    const value = readValue(raw, column.type);
    if (value === undefined) throw new SqlValueError(`column ${column.column}: ${describe(raw)} is not ${article(column.type)}`);
    return [value];
  }
  if (typeof raw !== 'string') throw new SqlValueError(`column ${column.column}: a multi-valued column must hold text, not ${describe(raw)}`);
  const values: AttributeValues = [];
  for (const part of raw.split(column.separator)) {
    const text = part.trim();
    if (text === '') continue;
    const value = readValue(text, column.type);
    if (value === undefined) throw new SqlValueError(`column ${column.column}: ${describe(text)} is not ${article(column.type)}`);
    values.push(value);
  }
  return values;
}

/** One connector-space value in the form it is written: text for delimited columns, typed otherwise. */
function writeValue(value: AttributeValue, type: AttributeType): Exclude<SqlParam, null> | undefined {
  switch (type) {
    case 'string':
    case 'reference':
      return typeof value === 'string' ? value : String(value);
    case 'integer': {
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
      if (typeof value !== 'string' || !INTEGER.test(value.trim())) return undefined;
      const number = Number(value.trim());
      // Beyond 2^53 the decimal text is bound as is and the server converts it exactly.
      return Number.isSafeInteger(number) ? number : value.trim();
    }
    case 'boolean':
      return booleanOf(value);
    case 'datetime': {
      const iso = typeof value === 'string' ? parseDateTime(value) : undefined;
      return iso === undefined ? undefined : new Date(iso);
    }
    case 'binary':
      return typeof value === 'string' && BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
  }
}

/** The parameter a column is written with. Throws SqlValueError. */
export function valuesToParam(values: AttributeValues, column: SqlValueColumn): SqlParam {
  if (!column.multiValued) {
    if (values.length > 1) throw new SqlValueError(`attribute ${column.attribute} holds one value, got ${values.length}`);
    if (values.length === 0) return null;
    const param = writeValue(values[0], column.type);
    if (param === undefined) throw new SqlValueError(`attribute ${column.attribute}: ${describe(values[0])} is not ${article(column.type)}`);
    return param;
  }
  const texts: string[] = [];
  for (const value of values) {
    const param = writeValue(value, column.type);
    if (param === undefined) throw new SqlValueError(`attribute ${column.attribute}: ${describe(value)} is not ${article(column.type)}`);
    const text = param instanceof Date ? param.toISOString() : String(param);
    if (text.includes(column.separator)) throw new SqlValueError(`attribute ${column.attribute}: a value contains the separator '${column.separator}'`);
    if (text.trim() !== text) throw new SqlValueError(`attribute ${column.attribute}: a value starts or ends with whitespace, which a delimited column cannot keep`);
    if (text !== '') texts.push(text);
  }
  return texts.length === 0 ? null : texts.join(column.separator);
}

/** A value's comparable form: what an import would read back after the value was written. */
function canonical(value: AttributeValue, type: AttributeType): string {
  const written = writeValue(value, type);
  if (written instanceof Date) return written.toISOString();
  if (Buffer.isBuffer(written)) return written.toString('base64');
  return String(written ?? value);
}

/** Whether two value lists hold the same values for the column (multi-valued ones in any order). */
export function sameValues(a: AttributeValues, b: AttributeValues, column: SqlValueColumn): boolean {
  if (a.length !== b.length) return false;
  const key = (values: AttributeValues) => values.map((value) => canonical(value, column.type));
  const left = key(a);
  const right = key(b);
  if (column.multiValued) {
    left.sort();
    right.sort();
  }
  return left.every((value, index) => value === right[index]);
}

/** The anchor text of a raw anchor value; undefined for NULL. Throws SqlValueError. */
export function readAnchor(raw: unknown, type: SqlAnchorType, column: string): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (type === 'integer') {
    if (typeof raw === 'number' && Number.isSafeInteger(raw)) return String(raw);
    if (typeof raw === 'bigint') return raw.toString();
    if (typeof raw === 'string' && INTEGER.test(raw.trim())) return BigInt(raw.trim()).toString();
    throw new SqlValueError(`anchor column ${column}: ${describe(raw)} is not an integer`);
  }
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint') return String(raw);
  throw new SqlValueError(`anchor column ${column}: ${describe(raw)} cannot be an anchor; map a text or integer column`);
}

/** The parameter an anchor is bound as. Throws SqlValueError. */
export function anchorParam(anchor: string, type: SqlAnchorType): SqlParam {
  if (type === 'string') return anchor;
  if (!INTEGER.test(anchor)) throw new SqlValueError(`anchor '${anchor}' is not an integer`);
  const number = Number(anchor);
  return Number.isSafeInteger(number) ? number : anchor;
}

/** The anchor as an attribute value, typed as the schema says. */
export function anchorValue(anchor: string, type: SqlAnchorType): AttributeValue {
  if (type === 'string') return anchor;
  const number = Number(anchor);
  return Number.isSafeInteger(number) ? number : anchor;
}

/** Whether a soft-delete column marks its row deleted. Throws SqlValueError. */
export function isSoftDeleted(raw: unknown, type: SqlSoftDeleteType, column: string): boolean {
  if (raw === null || raw === undefined) return false;
  if (type === 'timestamp') return true;
  const flag = booleanOf(raw);
  if (flag === undefined) throw new SqlValueError(`soft-delete column ${column}: ${describe(raw)} is not a boolean`);
  return flag;
}

/** Text of a raw watermark value (already cast to text by the query; SQLite may hand over a number). */
export function watermarkTextOf(raw: unknown): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'bigint') return String(raw);
  return undefined;
}
