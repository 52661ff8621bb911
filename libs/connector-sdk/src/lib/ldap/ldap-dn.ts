/**
 * Distinguished names and search filters as strings (RFC 4514, RFC 4515).
 * Every value that reaches a DN or a filter from data goes through these
 * escapes, so a value such as `x,ou=admins` or `*)(uid=*` stays a value.
 */

/** One `type=value` pair of an RDN, the value unescaped. */
export interface DnAttributeValue {
  type: string;
  value: string;
  /** The value was written as `#<hex BER>`; `value` then holds that text unchanged. */
  hexEncoded?: boolean;
}

/** One RDN: usually one pair, several for a multi-valued RDN (`cn=a+uid=b`). */
export type Rdn = DnAttributeValue[];

export class DnSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnSyntaxError';
  }
}

const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;
const NUMERIC_OID = /^\d+(\.\d+)+$/;
const HEX = /^[0-9A-Fa-f]{2}$/;
// Escaped with a backslash when they appear inside a value (RFC 4514 section 2.4).
const DN_SPECIALS = new Set(['"', '+', ',', ';', '<', '>', '\\']);

/**
 * Escapes one attribute value for use in a DN (RFC 4514 section 2.4).
 * `hex: true` writes the specials as `\2C`-style hex pairs: ldapts splits a
 * modifyDN target at the first comma not preceded by a backslash, which an
 * escaped backslash (`\\,`) would fool.
 */
export function escapeDnValue(value: string, options: { hex?: boolean } = {}): string {
  const chars = Array.from(value);
  let out = '';
  chars.forEach((ch, i) => {
    const edge = (i === 0 && (ch === ' ' || ch === '#')) || (i === chars.length - 1 && ch === ' ');
    if (ch === '\u0000') out += '\\00';
    else if (DN_SPECIALS.has(ch) || ch === '=' || edge) out += options.hex ? hexOf(ch) : `\\${ch}`;
    else out += ch;
  });
  return out;
}

function hexOf(ch: string): string {
  return Array.from(Buffer.from(ch, 'utf8'))
    .map((b) => `\\${b.toString(16).padStart(2, '0').toUpperCase()}`)
    .join('');
}

/**
 * Escapes a value for use inside a search filter (RFC 4515 section 3): `*`,
 * `(`, `)`, `\` and NUL always; a Buffer byte by byte, so a binary anchor
 * (objectGUID) can be searched for.
 */
export function escapeFilterValue(value: string | Buffer): string {
  if (Buffer.isBuffer(value)) return Array.from(value, (b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  let out = '';
  for (const ch of value) {
    if (ch === '*' || ch === '(' || ch === ')' || ch === '\\' || ch === '\u0000') out += `\\${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/**
 * Parses a DN string into RDNs, leftmost first. Lenient where directories
 * are in practice (spaces around separators, as older servers write them),
 * strict where it matters: an unescaped `"`, `;`, `<`, `>`, a dangling
 * backslash, bad hex or invalid UTF-8 in an escape is a DnSyntaxError.
 */
export function parseDn(dn: string): Rdn[] {
  if (dn.trim() === '') return [];
  const rdns: Rdn[] = [];
  let rdn: Rdn = [];
  let i = 0;
  const n = dn.length;
  const fail = (why: string): never => {
    throw new DnSyntaxError(`not a distinguished name (${why} at position ${i + 1})`);
  };
  while (i <= n) {
    while (i < n && dn[i] === ' ') i++;
    const typeStart = i;
    while (i < n && dn[i] !== '=') {
      if (dn[i] === ',' || dn[i] === '+') fail('attribute type without "="');
      i++;
    }
    if (i >= n) fail('attribute type without "="');
    const type = dn.slice(typeStart, i).trim();
    if (!DESCR.test(type) && !NUMERIC_OID.test(type)) fail(`bad attribute type "${type}"`);
    i++; // '='
    while (i < n && dn[i] === ' ') i++;
    let value: string;
    let hexEncoded = false;
    if (dn[i] === '#') {
      const start = i++;
      while (i < n && /[0-9A-Fa-f]/.test(dn[i])) i++;
      value = dn.slice(start, i);
      if ((value.length - 1) % 2 !== 0 || value.length < 3) fail('bad #hex value');
      hexEncoded = true;
      while (i < n && dn[i] === ' ') i++;
      if (i < n && dn[i] !== ',' && dn[i] !== '+') fail('text after a #hex value');
    } else {
      const bytes: number[] = [];
      let lastSignificant = 0; // bytes up to here are kept when trailing unescaped spaces are trimmed
      while (i < n && dn[i] !== ',' && dn[i] !== '+') {
        const ch = dn[i];
        if (ch === '\\') {
          const next = dn[i + 1];
          if (next === undefined) fail('dangling backslash');
          const pair = dn.slice(i + 1, i + 3);
          if (HEX.test(pair)) {
            bytes.push(parseInt(pair, 16));
            i += 3;
          } else if (DN_SPECIALS.has(next) || next === ' ' || next === '#' || next === '=') {
            bytes.push(next.charCodeAt(0));
            i += 2;
          } else {
            fail(`bad escape "\\${next}"`);
          }
          lastSignificant = bytes.length;
          continue;
        }
        if (ch === '"' || ch === ';' || ch === '<' || ch === '>' || ch === '\u0000') fail(`unescaped "${ch === '\u0000' ? 'NUL' : ch}"`);
        const cp = dn.codePointAt(i) as number;
        const encoded = Buffer.from(String.fromCodePoint(cp), 'utf8');
        bytes.push(...encoded);
        i += cp > 0xffff ? 2 : 1;
        if (ch !== ' ') lastSignificant = bytes.length;
      }
      value = decodeUtf8(Buffer.from(bytes.slice(0, lastSignificant))) ?? fail('escaped bytes that are not UTF-8');
    }
    rdn.push(hexEncoded ? { type, value, hexEncoded } : { type, value });
    if (i >= n) {
      rdns.push(rdn);
      break;
    }
    if (dn[i] === ',') {
      rdns.push(rdn);
      rdn = [];
    }
    i++;
    if (i >= n) fail('ends with a separator');
  }
  return rdns;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as text, or undefined when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return undefined;
    throw error;
  }
}

/** Writes RDNs back as a DN string in RFC 4514 form (no spaces, specials escaped). */
export function formatDn(rdns: Rdn[], options: { hex?: boolean } = {}): string {
  return rdns.map((rdn) => rdn.map((ava) => `${ava.type}=${ava.hexEncoded ? ava.value : escapeDnValue(ava.value, options)}`).join('+')).join(',');
}

/** True when `dn` parses as a distinguished name. */
export function isDn(dn: string): boolean {
  try {
    parseDn(dn);
    return true;
  } catch (error) {
    if (error instanceof DnSyntaxError) return false;
    throw error;
  }
}

/**
 * A comparison key for DNs: attribute types and values lower-cased, escapes
 * resolved, multi-valued RDNs in a fixed order. Directory naming attributes
 * (cn, uid, ou, dc) match case-insensitively, which is what this models; it
 * is for recognising the same entry, never for writing.
 */
export function dnKey(dn: string | Rdn[]): string {
  const rdns = typeof dn === 'string' ? parseDn(dn) : dn;
  return rdns
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.type.toLowerCase()}=${escapeDnValue(ava.value.toLowerCase())}`)
        .sort()
        .join('+'),
    )
    .join(',');
}

/** Whether `dn` lies inside `base` for a search of that scope. */
export function dnWithin(dn: string | Rdn[], base: string | Rdn[], scope: 'base' | 'one' | 'sub'): boolean {
  const entry = typeof dn === 'string' ? parseDn(dn) : dn;
  const root = typeof base === 'string' ? parseDn(base) : base;
  const depth = entry.length - root.length;
  if (depth < 0 || (scope === 'base' && depth !== 0) || (scope === 'one' && depth !== 1)) return false;
  return dnKey(entry.slice(depth)) === dnKey(root);
}

/** The parent DN (everything right of the first RDN); '' for a one-RDN DN. */
export function parentDn(dn: string | Rdn[]): string {
  const rdns = typeof dn === 'string' ? parseDn(dn) : dn;
  return formatDn(rdns.slice(1));
}
