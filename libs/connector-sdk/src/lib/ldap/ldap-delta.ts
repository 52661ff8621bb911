/**
 * Delta imports: the watermark of each delta mode, and the LDAP requests a
 * delta sends, as pure functions so they are unit-tested without a server
 * (Active Directory cannot run here).
 */
import { z } from 'zod';
import { AndFilter, Control, EqualityFilter, Entry, Filter, FilterParser, GreaterThanEqualsFilter, OrFilter } from 'ldapts';
import { ConnectorError } from '../connector';
import type { LdapConnectorConfig, LdapDeltaMode, LdapObjectTypeConfig } from './ldap-config';
import { DnSyntaxError, dnWithin, formatDn, parseDn, Rdn } from './ldap-dn';
import { entryBytes, entryText } from './ldap-session';
import { formatGeneralizedTime, guidToString } from './ldap-values';

// ---------------------------------------------------------------- watermarks

const REQ_START = /^(\d{14})\.(\d{6})Z$/;

const watermarkSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    v: z.literal(1),
    mode: z.literal('accesslog'),
    /** Every log record before this reqStart is processed. */
    from: z.string().regex(REQ_START),
    /** Records at or after `from` already processed: `<seconds after from>.<sequence>`. */
    seen: z.array(z.string().regex(/^\d+\.\d{1,6}$|^=.+$/)),
  }),
  z.strictObject({ v: z.literal(1), mode: z.literal('modifyTimestamp'), since: z.string().regex(/^\d{14}Z$/) }),
  z.strictObject({ v: z.literal(1), mode: z.literal('usn'), usn: z.string().regex(/^\d+$/), dc: z.string().optional() }),
]);

export type AccesslogWatermark = { mode: 'accesslog'; from: string; seen: Set<string> };
export type ModifyTimestampWatermark = { mode: 'modifyTimestamp'; since: string };
export type UsnWatermark = { mode: 'usn'; usn: string; dc?: string };
export type LdapWatermark = AccesslogWatermark | ModifyTimestampWatermark | UsnWatermark;

function reqStartSeconds(reqStart: string): number {
  const m = REQ_START.exec(reqStart);
  if (!m) return NaN;
  const t = m[1];
  return Date.UTC(+t.slice(0, 4), +t.slice(4, 6) - 1, +t.slice(6, 8), +t.slice(8, 10), +t.slice(10, 12), +t.slice(12, 14)) / 1000;
}

/** A reqStart-shaped lower bound at whole seconds: `20240501123456.000000Z`. */
export function reqStartFloor(time: Date): string {
  return `${formatGeneralizedTime(new Date(Math.floor(time.getTime() / 1000) * 1000), { fraction: 'never' }).slice(0, 14)}.000000Z`;
}

/** Moves a reqStart by whole seconds, keeping the reqStart form (sequence reset to 0). */
export function shiftReqStart(reqStart: string, seconds: number): string {
  const s = reqStartSeconds(reqStart);
  return Number.isNaN(s) ? reqStart : reqStartFloor(new Date((s + seconds) * 1000));
}

/** The watermark as the opaque string the engine stores. */
export function encodeWatermark(watermark: LdapWatermark): string {
  switch (watermark.mode) {
    case 'accesslog': {
      const base = reqStartSeconds(watermark.from);
      const seen = [...watermark.seen].sort().map((reqStart) => {
        const m = REQ_START.exec(reqStart);
        // reqStart is `<second>.<sequence>Z` on OpenLDAP 2.5; anything else is kept verbatim.
        return m && reqStart >= watermark.from ? `${reqStartSeconds(reqStart) - base}.${Number(m[2])}` : `=${reqStart}`;
      });
      return JSON.stringify({ v: 1, mode: 'accesslog', from: watermark.from, seen });
    }
    case 'modifyTimestamp':
      return JSON.stringify({ v: 1, mode: 'modifyTimestamp', since: watermark.since });
    case 'usn':
      return JSON.stringify({ v: 1, mode: 'usn', usn: watermark.usn, ...(watermark.dc ? { dc: watermark.dc } : {}) });
  }
}

/**
 * Reads a stored watermark. One written in another delta mode, or not by
 * this connector, is refused with a message that says what to do.
 */
export function decodeWatermark(text: string, mode: LdapDeltaMode): LdapWatermark {
  let parsed: z.infer<typeof watermarkSchema>;
  try {
    parsed = watermarkSchema.parse(JSON.parse(text));
  } catch (error) {
    if (!(error instanceof SyntaxError) && !(error instanceof z.ZodError)) throw error;
    throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'the delta watermark was not written by the ldap connector; run a full import to start a new one');
  }
  if (parsed.mode !== mode) {
    throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `the delta watermark was written in delta mode ${parsed.mode} and the connector now uses ${mode}; run a full import to start a new one`);
  }
  switch (parsed.mode) {
    case 'accesslog': {
      const base = reqStartSeconds(parsed.from);
      const seen = new Set(
        parsed.seen.map((item) => {
          if (item.startsWith('=')) return item.slice(1);
          const [offset, sequence] = item.split('.');
          return `${reqStartFloor(new Date((base + Number(offset)) * 1000)).slice(0, 15)}${sequence.padStart(6, '0')}Z`;
        }),
      );
      return { mode: 'accesslog', from: parsed.from, seen };
    }
    case 'modifyTimestamp':
      return { mode: 'modifyTimestamp', since: parsed.since };
    case 'usn':
      return { mode: 'usn', usn: parsed.usn, dc: parsed.dc };
  }
}

// ---------------------------------------------------------------- accesslog

/** One write the accesslog recorded, reduced to what a delta needs. */
export interface AccesslogRecord {
  reqStart: string;
  type: 'add' | 'modify' | 'delete' | 'modrdn';
  /** The entry's DN before the operation. */
  dn: string;
  /** For modrdn: where the entry went. */
  newDn?: string;
  entryUUID?: string;
}

const ACCESSLOG_TYPES = new Set(['add', 'modify', 'delete', 'modrdn']);
export const ACCESSLOG_ATTRIBUTES = ['reqStart', 'reqType', 'reqDN', 'reqEntryUUID', 'reqNewRDN', 'reqNewSuperior'];

/** The accesslog search for successful writes at or after `from`. */
export function accesslogFilter(from: string): Filter {
  return new AndFilter({
    filters: [
      new EqualityFilter({ attribute: 'objectClass', value: 'auditWriteObject' }),
      new EqualityFilter({ attribute: 'reqResult', value: '0' }),
      new GreaterThanEqualsFilter({ attribute: 'reqStart', value: from }),
    ],
  });
}

/** One accesslog entry as a record; undefined for what a delta ignores (binds, extended operations). */
export function parseAccesslogEntry(entry: Entry): AccesslogRecord | undefined {
  const one = (name: string) => entryText(entry, name)[0];
  const reqStart = one('reqStart');
  const type = one('reqType');
  const dn = one('reqDN');
  if (!reqStart || !type || !ACCESSLOG_TYPES.has(type) || dn === undefined) return undefined;
  const record: AccesslogRecord = { reqStart, type: type as AccesslogRecord['type'], dn };
  const uuid = one('reqEntryUUID');
  if (uuid) record.entryUUID = uuid.toLowerCase();
  if (record.type === 'modrdn') {
    const newRdn = one('reqNewRDN');
    const newSuperior = one('reqNewSuperior');
    if (newRdn) {
      try {
        const parent: Rdn[] = newSuperior !== undefined ? parseDn(newSuperior) : parseDn(dn).slice(1);
        record.newDn = formatDn([...parseDn(newRdn), ...parent]);
      } catch (error) {
        if (!(error instanceof DnSyntaxError)) throw error;
      }
    }
  }
  return record;
}

/**
 * Tracks which accesslog records a delta has processed, and turns that into
 * safe resume points. Concurrent writes may reach the log slightly out of
 * reqStart order; `overlapSeconds` bounds that, so a resume point keeps the
 * records of its last `overlapSeconds` by name instead of trusting the order.
 */
export class AccesslogCursor {
  private max?: string;
  private from: string;

  constructor(
    private readonly searchFromBound: string,
    private readonly seen: Set<string>,
    private readonly overlapSeconds: number,
  ) {
    this.from = searchFromBound;
  }

  /** The lower bound for the search. */
  get searchFrom(): string {
    return this.searchFromBound;
  }

  /**
   * Within one delta every record from the search's lower bound on counts,
   * however far the resume points have moved: a record logged out of order
   * is still read, and one read twice (the search started over) is skipped.
   */
  isNew(reqStart: string): boolean {
    return reqStart >= this.searchFromBound && !this.seen.has(reqStart);
  }

  processed(reqStart: string): void {
    this.seen.add(reqStart);
    if (this.max === undefined || reqStart > this.max) this.max = reqStart;
  }

  /**
   * The watermark after everything processed so far. `floor` (the server
   * time at the start of the delta minus the overlap) lets the final batch
   * move the lower bound past records that were never in scope.
   */
  checkpoint(floor?: string): AccesslogWatermark {
    const candidates = [this.from];
    if (this.max !== undefined) candidates.push(shiftReqStart(this.max, -this.overlapSeconds));
    if (floor !== undefined) candidates.push(floor);
    this.from = candidates.sort()[candidates.length - 1];
    return { mode: 'accesslog', from: this.from, seen: new Set([...this.seen].filter((reqStart) => reqStart >= this.from)) };
  }
}

/**
 * Which object types a logged write may concern: those whose base holds the
 * entry's DN before or after the operation. The current state decides
 * between an upsert and a delete.
 */
export function typesConcerned(record: Pick<AccesslogRecord, 'dn' | 'newDn'>, types: LdapObjectTypeConfig[]): LdapObjectTypeConfig[] {
  const dns: Rdn[][] = [];
  for (const dn of [record.dn, record.newDn]) {
    if (dn === undefined) continue;
    try {
      dns.push(parseDn(dn));
    } catch (error) {
      if (!(error instanceof DnSyntaxError)) throw error;
      return types; // a DN the log holds but this parser refuses: let the current state decide for every type
    }
  }
  return types.filter((type) => type.baseDns.some((base) => dns.some((dn) => dnWithin(dn, base, type.scope))));
}

/** A filter for the entries of `type` among `anchors` (entryUUIDs or GUID strings). */
export function anchorsFilter(type: LdapObjectTypeConfig, anchors: string[], toValue: (anchor: string) => string | Buffer): Filter {
  const byAnchor = anchors.map((anchor) => new EqualityFilter({ attribute: type.anchorAttribute, value: toValue(anchor) }));
  return new AndFilter({ filters: [FilterParser.parseString(type.filter), byAnchor.length === 1 ? byAnchor[0] : new OrFilter({ filters: byAnchor })] });
}

// ---------------------------------------------------------------- modifyTimestamp

/** `(&<type filter>(modifyTimestamp>=since))`. */
export function modifyTimestampFilter(type: LdapObjectTypeConfig, since: string): Filter {
  return new AndFilter({ filters: [FilterParser.parseString(type.filter), new GreaterThanEqualsFilter({ attribute: 'modifyTimestamp', value: since })] });
}

/** The next modifyTimestamp watermark: the server time at the start of the search, minus the margin. */
export function nextModifyTimestamp(start: Date, marginSeconds: number): string {
  return formatGeneralizedTime(new Date(start.getTime() - marginSeconds * 1000), { fraction: 'never' });
}

// ---------------------------------------------------------------- Active Directory USN

/** LDAP_SERVER_SHOW_DELETED_OID: returns tombstones, which searches otherwise hide. */
export const AD_SHOW_DELETED_OID = '1.2.840.113556.1.4.417';

export interface LdapSearchRequest {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: Filter;
  attributes: string[];
  controls: Control[];
}

/** `(&<type filter>(uSNChanged>=usn+1))`: AD filters know `>=` only, so "greater than" is one more. */
export function usnChangedFilter(type: LdapObjectTypeConfig, usn: string): Filter {
  return new AndFilter({ filters: [FilterParser.parseString(type.filter), new GreaterThanEqualsFilter({ attribute: 'uSNChanged', value: (BigInt(usn) + 1n).toString() })] });
}

/** The Deleted Objects container: configured, or under the domain's naming context. */
export function deletedObjectsDn(config: LdapConnectorConfig, defaultNamingContext: string | undefined): string {
  if (config.delta.deletedObjectsDn) return config.delta.deletedObjectsDn;
  if (!defaultNamingContext) {
    throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'the server names no defaultNamingContext; set delta.deletedObjectsDn to the Deleted Objects container');
  }
  return `CN=Deleted Objects,${defaultNamingContext}`;
}

/** The search for objects deleted since `usn`: tombstones in the Deleted Objects container, with the show-deleted control. */
export function deletedObjectsRequest(config: LdapConnectorConfig, types: LdapObjectTypeConfig[], usn: string, defaultNamingContext: string | undefined): LdapSearchRequest {
  const anchors = [...new Set(types.map((t) => t.anchorAttribute))];
  return {
    base: deletedObjectsDn(config, defaultNamingContext),
    scope: 'one',
    filter: new AndFilter({
      filters: [new EqualityFilter({ attribute: 'isDeleted', value: 'TRUE' }), new GreaterThanEqualsFilter({ attribute: 'uSNChanged', value: (BigInt(usn) + 1n).toString() })],
    }),
    attributes: [...anchors, 'objectClass', 'lastKnownParent', 'isDeleted', 'uSNChanged'],
    controls: [new Control(AD_SHOW_DELETED_OID, { critical: true })],
  };
}

export interface Tombstone {
  dn: string;
  objectClasses: string[];
  lastKnownParent?: string;
}

/** A tombstone's anchor for `type`, in the form imports use (GUID string for objectGUID). */
export function tombstoneAnchor(entry: Entry, type: LdapObjectTypeConfig): string | undefined {
  const raw = entryBytes(entry, type.anchorAttribute)[0];
  if (!raw) return undefined;
  if (type.anchorAttribute.toLowerCase() === 'objectguid') return raw.length === 16 ? guidToString(raw) : undefined;
  return raw.toString('utf8');
}

export function parseTombstone(entry: Entry): Tombstone {
  return { dn: entry.dn, objectClasses: entryText(entry, 'objectClass'), lastKnownParent: entryText(entry, 'lastKnownParent')[0] };
}

/**
 * The object types a tombstone was part of. A tombstone keeps objectClass
 * and lastKnownParent but not the attributes a type filter may test, so:
 * every configured object class present, and the last parent inside a base.
 */
export function tombstoneTypes(tombstone: Tombstone, types: LdapObjectTypeConfig[]): LdapObjectTypeConfig[] {
  const classes = new Set(tombstone.objectClasses.map((c) => c.toLowerCase()));
  return types.filter((type) => {
    if (!type.objectClasses.every((c) => classes.has(c.toLowerCase()))) return false;
    if (!tombstone.lastKnownParent) return true;
    try {
      const parent = parseDn(tombstone.lastKnownParent);
      return type.baseDns.some((base) => dnWithin(parent, base, 'sub'));
    } catch (error) {
      if (!(error instanceof DnSyntaxError)) throw error;
      return true;
    }
  });
}

/**
 * AD returns at most MaxValRange values of a large attribute (`member;range=0-1499`)
 * and expects the client to ask for the next range. Fetches the rest and
 * folds the ranges into the plain attribute.
 */
export async function completeRangedAttributes(entry: Entry, fetch: (dn: string, attribute: string) => Promise<Entry | undefined>): Promise<void> {
  const RANGED = /^(.+);range=(\d+)-(\d+|\*)$/i;
  for (const key of Object.keys(entry)) {
    const m = RANGED.exec(key);
    if (!m) continue;
    const name = m[1];
    const values = [...entryBytes(entry, key)];
    let end = m[3];
    delete entry[key];
    for (let guard = 0; end !== '*' && guard < 100_000; guard++) {
      const next = await fetch(entry.dn, `${name};range=${Number(end) + 1}-*`);
      const nextKey = next ? Object.keys(next).find((k) => RANGED.test(k) && RANGED.exec(k)?.[1].toLowerCase() === name.toLowerCase()) : undefined;
      if (!next || !nextKey) break;
      values.push(...entryBytes(next, nextKey));
      end = (RANGED.exec(nextKey) as RegExpExecArray)[3];
    }
    entry[name] = values;
  }
}
