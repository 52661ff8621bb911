/**
 * Distinguished names (RFC 4514): escaping a value for a DN template and a
 * canonical form for comparing DNs that different systems spell differently
 * (`CN=Doe\, John,OU=Staff` and `cn=doe\2c john, ou=staff` name the same entry).
 */

/** Characters RFC 4514 requires to be escaped anywhere in an attribute value. */
const ALWAYS_ESCAPED = new Set(['"', '+', ',', ';', '<', '>', '\\']);

/**
 * Escapes one attribute value for use inside a DN, so a display name such as
 * `Doe, John` stays one RDN value instead of becoming a second RDN.
 */
export function escapeDnValue(value: string): string {
  let out = '';
  const last = value.length - 1;
  for (let i = 0; i <= last; i++) {
    const ch = value[i];
    if (ALWAYS_ESCAPED.has(ch)) out += `\\${ch}`;
    else if (ch === '\u0000') out += '\\00';
    else if (i === 0 && (ch === ' ' || ch === '#')) out += `\\${ch}`;
    else if (i === last && ch === ' ') out += '\\ ';
    else out += ch;
  }
  return out;
}

/** One attribute type and value of an RDN, value unescaped. */
export interface DnAttributeValue {
  type: string;
  value: string;
}

const HEX_PAIR = /^[0-9a-fA-F]{2}$/;
const utf8 = new TextDecoder('utf-8');

/** A character of a value and whether the DN escaped it (escaped spaces are significant). */
interface ValueChar {
  ch: string;
  escaped: boolean;
}

/**
 * Parses a DN into RDNs (each a list of type/value pairs, `+` joining
 * multi-valued RDNs). Returns undefined when the text is not a DN, so callers
 * can fall back to comparing the raw text instead of failing an object.
 */
export function parseDn(dn: string): DnAttributeValue[][] | undefined {
  if (dn.trim() === '') return [];
  const rdns: DnAttributeValue[][] = [];
  let rdn: DnAttributeValue[] = [];
  const n = dn.length;
  let i = 0;
  for (;;) {
    const typeStart = i;
    while (i < n && dn[i] !== '=') {
      if (dn[i] === ',' || dn[i] === '+') return undefined;
      i++;
    }
    if (i >= n) return undefined;
    const type = dn.slice(typeStart, i).trim();
    if (type === '') return undefined;
    i++;
    const chars: ValueChar[] = [];
    // Hex escapes are collected as bytes, so a multi-byte UTF-8 sequence decodes whole.
    let bytes: number[] = [];
    const flushBytes = () => {
      if (bytes.length === 0) return;
      for (const ch of utf8.decode(new Uint8Array(bytes))) chars.push({ ch, escaped: true });
      bytes = [];
    };
    while (i < n && dn[i] !== ',' && dn[i] !== '+') {
      if (dn[i] === '\\') {
        const pair = dn.slice(i + 1, i + 3);
        if (HEX_PAIR.test(pair)) {
          bytes.push(parseInt(pair, 16));
          i += 3;
          continue;
        }
        if (i + 1 >= n) return undefined;
        flushBytes();
        chars.push({ ch: dn[i + 1], escaped: true });
        i += 2;
        continue;
      }
      flushBytes();
      chars.push({ ch: dn[i], escaped: false });
      i++;
    }
    flushBytes();
    let from = 0;
    let to = chars.length;
    while (from < to && chars[from].ch === ' ' && !chars[from].escaped) from++;
    while (to > from && chars[to - 1].ch === ' ' && !chars[to - 1].escaped) to--;
    rdn.push({ type, value: chars.slice(from, to).map((c) => c.ch).join('') });
    if (i >= n) {
      rdns.push(rdn);
      return rdns;
    }
    if (dn[i] === ',') {
      rdns.push(rdn);
      rdn = [];
    }
    i++;
  }
}

/**
 * The canonical form used to compare DNs and to key reference lookups:
 * attribute types and values lower-cased, insignificant spaces removed,
 * values re-escaped the one RFC 4514 way, multi-valued RDNs sorted. Text that
 * does not parse as a DN is compared trimmed and lower-cased.
 */
export function normalizeDn(dn: string): string {
  const rdns = parseDn(dn);
  if (!rdns) return dn.trim().toLowerCase();
  return rdns
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.type.toLowerCase()}=${escapeDnValue(ava.value.toLowerCase())}`)
        .sort()
        .join('+'),
    )
    .join(',');
}
