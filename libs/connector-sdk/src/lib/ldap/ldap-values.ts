/**
 * Conversions between LDAP values (bytes on the wire) and connector-space
 * values: AD GUIDs, GeneralizedTime, booleans, integers, binary as base64.
 */
import type { AttributeType, AttributeValue } from '../connector';
import { decodeUtf8, isDn } from './ldap-dn';

/**
 * The canonical string form of an Active Directory objectGUID: the 16 bytes
 * as stored, with the first three groups little-endian, as AD tools print it
 * (`{3f2504e0-4f89-41d3-9a0c-0305e82c3301}` without braces, lower case).
 */
export function guidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a GUID has 16 bytes, not ${bytes.length}`);
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Array.from(bytes.slice(from, to));
    if (reverse) part.reverse();
    return part.map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

const GUID = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** The 16 bytes AD stores for a GUID string (the inverse of guidToString). */
export function guidToBytes(guid: string): Buffer {
  const m = GUID.exec(guid.trim());
  if (!m) throw new RangeError('not a GUID');
  const le = (hex: string) => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([le(m[1]), le(m[2]), le(m[3]), Buffer.from(m[4], 'hex'), Buffer.from(m[5], 'hex')]);
}

export function isGuid(value: string): boolean {
  return GUID.test(value.trim());
}

const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/;

/** GeneralizedTime (RFC 4517 3.3.13) to a Date; undefined when it is not one. */
export function parseGeneralizedTime(text: string): Date | undefined {
  const m = GENERALIZED_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '00', s = '00', fraction, zone] = m;
  const wall = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Math.min(Number(s), 59)));
  // Date.UTC rolls 30 February over into March; a real timestamp never does.
  if (wall.getUTCMonth() !== Number(mo) - 1 || wall.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  // A fraction belongs to the last unit given (an hour, a minute or a second).
  const unitMs = m[6] !== undefined ? 1000 : m[5] !== undefined ? 60_000 : 3_600_000;
  const fractionMs = fraction ? Math.floor(Number(`0.${fraction}`) * unitMs) : 0;
  let ms = wall.getTime() + fractionMs;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5) || '0')) * 60_000;
  }
  return new Date(ms);
}

/** A Date as GeneralizedTime in UTC; milliseconds only when there are any. */
export function formatGeneralizedTime(date: Date, options: { fraction?: 'auto' | 'never' } = {}): string {
  const iso = date.toISOString(); // 2024-05-01T12:34:56.789Z
  const base = iso.slice(0, 19).replace(/[-:T]/g, '');
  const ms = iso.slice(20, 23);
  return options.fraction === 'never' || ms === '000' ? `${base}Z` : `${base}.${ms}Z`;
}

/** Why one value could not be converted; the caller turns it into a per-object error. */
export class ValueConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueConversionError';
  }
}

/**
 * One LDAP value as the connector-space value of an attribute of `type`.
 * Values arrive as bytes, so text that is not valid UTF-8 is caught here
 * rather than silently replaced.
 */
export function decodeValue(raw: Buffer, type: AttributeType): AttributeValue {
  if (type === 'binary') return raw.toString('base64');
  const text = decodeUtf8(raw);
  if (text === undefined) throw new ValueConversionError('is not valid UTF-8 text (declare the attribute as binary if it holds bytes)');
  switch (type) {
    case 'string':
      return text;
    case 'reference':
      if (!isDn(text)) throw new ValueConversionError('is not a distinguished name');
      return text;
    case 'integer': {
      if (!/^-?\d+$/.test(text.trim())) throw new ValueConversionError('is not an integer');
      const n = Number(text.trim());
      if (!Number.isSafeInteger(n)) throw new ValueConversionError('is an integer too large for exact arithmetic (declare the attribute as string)');
      return n;
    }
    case 'boolean':
      if (text === 'TRUE') return true;
      if (text === 'FALSE') return false;
      throw new ValueConversionError('is not an LDAP boolean (TRUE or FALSE)');
    case 'datetime': {
      const date = parseGeneralizedTime(text);
      if (!date) throw new ValueConversionError('is not a GeneralizedTime');
      return date.toISOString();
    }
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One connector-space value as what an LDAP write sends. */
export function encodeValue(value: AttributeValue, type: AttributeType): string | Buffer {
  switch (type) {
    case 'binary':
      if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) throw new ValueConversionError('must be base64 text');
      return Buffer.from(value, 'base64');
    case 'boolean':
      if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
      if (value === 'TRUE' || value === 'FALSE') return value;
      throw new ValueConversionError('must be true or false');
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return String(value);
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
      throw new ValueConversionError('must be an integer');
    case 'datetime': {
      const date = typeof value === 'string' ? new Date(value) : undefined;
      if (!date || Number.isNaN(date.getTime())) throw new ValueConversionError('must be an ISO-8601 date-time');
      return formatGeneralizedTime(date);
    }
    case 'reference':
      if (typeof value !== 'string' || !isDn(value)) throw new ValueConversionError('must be a distinguished name');
      return value;
    case 'string':
      if (typeof value === 'string' && value.includes('\u0000')) throw new ValueConversionError('must not contain NUL');
      return String(value);
  }
}
