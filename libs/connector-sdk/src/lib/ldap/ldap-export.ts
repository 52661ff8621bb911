/**
 * Exports: add, modify, delete and modDN, one result per change, each safe
 * to repeat. A retried change whose first attempt reached the directory is
 * recognised (the entry exists with the desired values, the value is already
 * there, the entry is already gone or already at its new DN) and reported as
 * success instead of failing or being applied twice.
 *
 * Round trips: the entries a batch's updates, deletes and renames name by
 * anchor are looked up together before the first write (an OR of up to
 * ANCHORS_PER_SEARCH anchors per search), and an add's server-assigned
 * anchor comes back with the add itself (post-read control, RFC 4527) or,
 * where the server lacks that control, from one search per parent after
 * the batch's adds. Writes keep the order they were given in.
 */
import { AndFilter, Attribute, Change, EqualityFilter, Entry, Filter, OrFilter } from 'ldapts';
import type { AttributeChange, AttributeSchema, ConnectorLogger, ExportChange, ExportResult, ObjectTypeSchema } from '../connector';
import type { LdapConnectorConfig, LdapObjectTypeConfig } from './ldap-config';
import { DnSyntaxError, dnKey, dnWithin, formatDn, parseDn, Rdn } from './ldap-dn';
import { anchorCodec } from './ldap-entry';
import { describeLdapError, LDAP_RESULT, ldapResultCode, objectFailure, ObjectFailure } from './ldap-errors';
import { PostReadControl } from './ldap-post-read';
import { entryBytes, LdapSession, RootDse } from './ldap-session';
import { SERVER_ASSIGNED_ANCHORS } from './ldap-schema';
import { encodeValue, ValueConversionError } from './ldap-values';

/** A change the connector refuses before sending anything (bad DN, value of the wrong type, read-only attribute). */
class RejectedChange extends Error {
  constructor(
    message: string,
    readonly code: ObjectFailure['code'] = 'OBJECT_REJECTED',
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'RejectedChange';
  }
}

interface Modification {
  name: string;
  op: AttributeChange['op'];
  values: Buffer[];
  schema: AttributeSchema;
}

/** Anchors per lookup search: keeps the filter well under server limits on filter size and on entries per search. */
const ANCHORS_PER_SEARCH = 100;

/** The key of a DN for recognising the same entry; undefined when it does not parse. */
function dnKeyOrUndefined(dn: string | Rdn[]): string | undefined {
  try {
    return dnKey(dn);
  } catch (error) {
    if (error instanceof DnSyntaxError) return undefined;
    throw error;
  }
}

function chunked<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Where one batch's anchors were found by the lookup before its first
 * write, kept current as the batch renames and deletes entries. An anchor
 * absent here was not looked up (or its lookup was inconclusive): its
 * change searches for it alone, as it would without the lookup.
 */
class AnchorLocations {
  private readonly found = new Map<string, Array<{ dn: string; key: string }>>();

  private static id(typeName: string, anchor: string): string {
    return `${typeName}\u0000${anchor}`;
  }

  /** The DNs carrying the anchor (empty: no entry has it), or undefined when it was not looked up. */
  get(typeName: string, anchor: string): string[] | undefined {
    return this.found.get(AnchorLocations.id(typeName, anchor))?.map((e) => e.dn);
  }

  /** Records what a search found for an anchor; false (and nothing recorded) when a DN does not parse. */
  set(typeName: string, anchor: string, dns: string[]): boolean {
    const entries: Array<{ dn: string; key: string }> = [];
    for (const dn of dns) {
      const key = dnKeyOrUndefined(dn);
      if (key === undefined) return false;
      entries.push({ dn, key });
    }
    this.found.set(AnchorLocations.id(typeName, anchor), entries);
    return true;
  }

  /** After a rename or move: entries at or below `from` are now below `to`. */
  moved(from: string, to: string): void {
    const fromKey = dnKeyOrUndefined(from);
    if (fromKey === undefined) return;
    const depthOfFrom = parseDn(from).length;
    for (const entries of this.found.values()) {
      entries.forEach((entry, i) => {
        if (entry.key !== fromKey && !entry.key.endsWith(`,${fromKey}`)) return;
        const rdns = parseDn(entry.dn);
        const dn = formatDn([...rdns.slice(0, rdns.length - depthOfFrom), ...parseDn(to)]);
        entries[i] = { dn, key: dnKey(dn) };
      });
    }
  }

  /** After a delete: no anchor leads to `dn` any more. */
  gone(dn: string): void {
    const key = dnKeyOrUndefined(dn);
    if (key === undefined) return;
    for (const [id, entries] of this.found) this.found.set(id, entries.filter((e) => e.key !== key));
  }
}

/** An applied add whose server-assigned anchor did not come back with it: read after the batch's adds. */
interface PendingAnchor {
  change: ExportChange;
  dn: string;
  type: LdapObjectTypeConfig;
  result: ExportResult;
}

/** What one apply() call shares between its changes. */
interface Batch {
  located: AnchorLocations;
  pendingAnchors: PendingAnchor[];
}

/** Where a change's entry is: `fromBatch` when the batch's lookup said so, which a write failing with noSuchObject calls into question. */
interface Location {
  dn: string | undefined;
  byAnchor: boolean;
  fromBatch: boolean;
}

const applied = (id: string, anchor?: string): ExportResult => (anchor === undefined ? { id, outcome: 'applied' } : { id, outcome: 'applied', anchor });
const alreadyApplied = (id: string, anchor?: string): ExportResult =>
  anchor === undefined ? { id, outcome: 'already-applied' } : { id, outcome: 'already-applied', anchor };

function checkedDn(dn: string | undefined, field: string): string {
  if (!dn) throw new RejectedChange(`needs ${field}`);
  try {
    if (parseDn(dn).length === 0) throw new RejectedChange(`${field} is empty`);
  } catch (error) {
    if (error instanceof DnSyntaxError) throw new RejectedChange(`${field} is ${error.message}`);
    throw error;
  }
  return dn;
}

export class LdapExporter {
  private root?: RootDse;

  constructor(
    private readonly session: LdapSession,
    private readonly config: LdapConnectorConfig,
    private readonly schemas: () => Promise<Map<string, ObjectTypeSchema>>,
    private readonly logger: ConnectorLogger,
  ) {}

  async apply(changes: ExportChange[]): Promise<ExportResult[]> {
    const results: ExportResult[] = [];
    if (changes.length === 0) return results;
    // Connecting first makes an unreachable directory or a wrong password fail the call as a whole, before anything is applied.
    await this.session.connect();
    const schemas = await this.schemas();
    const batch: Batch = { located: await this.lookUpAnchors(changes), pendingAnchors: [] };
    let unreachable: ObjectFailure | undefined;
    for (const change of changes) {
      if (unreachable) {
        results.push({ id: change.id, outcome: 'failed', error: { ...unreachable, message: `not attempted: ${unreachable.message}` } });
        continue;
      }
      try {
        results.push(await this.applyOne(change, schemas, batch));
      } catch (error) {
        const failure = this.failure(change, error);
        if (failure.code === 'CONNECTOR_UNREACHABLE' && failure.retryable) unreachable = failure;
        results.push({ id: change.id, outcome: 'failed', error: failure });
      }
    }
    if (batch.pendingAnchors.length > 0) await this.readNewAnchors(batch.pendingAnchors, results);
    return results;
  }

  private failure(change: ExportChange, error: unknown): ObjectFailure {
    const failure =
      error instanceof RejectedChange
        ? { code: error.code, message: `${change.kind} of ${change.objectType} ${change.dn ?? change.anchor ?? ''}: ${error.message}`, retryable: error.retryable }
        : objectFailure(error, `${change.kind} of ${change.dn ?? change.anchor ?? change.objectType}`);
    this.logger.debug('ldap export change failed', { id: change.id, kind: change.kind, code: failure.code });
    return failure;
  }

  private async applyOne(change: ExportChange, schemas: Map<string, ObjectTypeSchema>, batch: Batch): Promise<ExportResult> {
    const type = this.typeOf(change);
    const schema = schemas.get(change.objectType);
    if (!type || !schema) throw new RejectedChange(`object type ${change.objectType} is not configured`);
    switch (change.kind) {
      case 'add':
        return this.add(change, type, schema, batch);
      case 'update':
        return this.update(change, type, schema, batch);
      case 'delete':
        return this.delete(change, type, batch);
      case 'rename':
        return this.rename(change, type, batch);
    }
  }

  private typeOf(change: ExportChange): LdapObjectTypeConfig | undefined {
    return this.config.objectTypes.find((t) => t.name === change.objectType);
  }

  private modifications(change: ExportChange, type: LdapObjectTypeConfig, schema: ObjectTypeSchema): Modification[] {
    return Object.entries(change.attributes ?? {}).map(([name, attributeChange]) => {
      const attr = schema.attributes.find((a) => a.name === name) ?? (name.toLowerCase() === 'objectclass' ? { name, type: 'string' as const, multiValued: true } : undefined);
      if (!attr) throw new RejectedChange(`attribute ${name} is not in the schema of object type ${type.name}`);
      if (attr.readOnly) throw new RejectedChange(`attribute ${name} is read-only (the directory maintains it)`);
      const values = attributeChange.values.map((value, i) => {
        try {
          const encoded = encodeValue(value, attr.type);
          return Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded, 'utf8');
        } catch (error) {
          if (error instanceof ValueConversionError) throw new RejectedChange(`attribute ${name} value ${i + 1} ${error.message}`);
          throw error;
        }
      });
      return { name, op: attributeChange.op, values, schema: attr };
    });
  }

  private async rootDse(): Promise<RootDse> {
    this.root ??= await this.session.rootDse();
    return this.root;
  }

  /** The naming context holding a type's entries: anchors are looked up there, so an entry moved out of the type's base is still found. */
  private async namingContextOf(type: LdapObjectTypeConfig): Promise<string> {
    const base = type.baseDns[0];
    const holding = (await this.rootDse()).namingContexts.filter((nc) => {
      try {
        return dnWithin(base, nc, 'sub');
      } catch (error) {
        if (error instanceof DnSyntaxError) return false;
        throw error;
      }
    });
    return holding.sort((a, b) => b.length - a.length)[0] ?? base;
  }

  /**
   * The entry a change is about, by anchor when it has one (the DN may be
   * stale after an out-of-band rename), else by the DN it names. `fresh`
   * skips the batch's lookup and asks the directory again.
   */
  private async locate(change: ExportChange, type: LdapObjectTypeConfig, batch: Batch, fresh = false): Promise<Location> {
    if (change.anchor === undefined) return { dn: checkedDn(change.dn, 'a dn or an anchor'), byAnchor: false, fromBatch: false };
    const known = fresh ? undefined : batch.located.get(type.name, change.anchor);
    const dns = known ?? (await this.searchAnchor(change.anchor, type));
    // A second look corrects the lookup for the batch's later changes; anchors it left out stay out (the batch may change them).
    if (fresh) batch.located.set(type.name, change.anchor, dns);
    if (dns.length > 1) throw new RejectedChange(`${dns.length} entries carry ${type.anchorAttribute} ${change.anchor}`, 'OBJECT_DUPLICATE_ANCHOR');
    return { dn: dns[0], byAnchor: true, fromBatch: known !== undefined };
  }

  /** The DNs of the entries carrying one anchor (two at most: more than one is already a duplicate). */
  private async searchAnchor(anchor: string, type: LdapObjectTypeConfig): Promise<string[]> {
    const entries = await this.session.search(await this.namingContextOf(type), {
      scope: 'sub',
      filter: new EqualityFilter({ attribute: type.anchorAttribute, value: anchorCodec(type).encode(anchor) }),
      attributes: ['1.1'],
      sizeLimit: 2,
    });
    return entries.map((e) => e.dn);
  }

  /**
   * Looks up, before the batch's first write, the entries that its
   * updates, deletes and renames name by anchor: one search per
   * ANCHORS_PER_SEARCH anchors of a type. Anchors the batch itself may
   * give or take away (an add or update writing the anchor attribute, a
   * rename whose new RDN is the anchor) are left to their own search at
   * their turn.
   */
  private async lookUpAnchors(changes: ExportChange[]): Promise<AnchorLocations> {
    const located = new AnchorLocations();
    const byType = new Map<LdapObjectTypeConfig, Set<string>>();
    const volatile = new Map<LdapObjectTypeConfig, Set<string>>();
    const note = (map: Map<LdapObjectTypeConfig, Set<string>>, type: LdapObjectTypeConfig, anchor: string) => {
      const set = map.get(type) ?? new Set<string>();
      set.add(anchor);
      map.set(type, set);
    };
    for (const change of changes) {
      const type = this.typeOf(change);
      if (!type) continue;
      const anchorName = type.anchorAttribute.toLowerCase();
      const writesAnchor =
        change.kind === 'rename' ? this.renamesAnchor(change.newDn, anchorName) : Object.keys(change.attributes ?? {}).some((name) => name.toLowerCase() === anchorName);
      if (writesAnchor) {
        if (change.anchor !== undefined) note(volatile, type, change.anchor);
        for (const [name, attributeChange] of Object.entries(change.attributes ?? {})) {
          if (name.toLowerCase() === anchorName) for (const value of attributeChange.values) note(volatile, type, String(value));
        }
        if (change.kind === 'rename') for (const value of this.rdnValues(change.newDn, anchorName)) note(volatile, type, value);
      }
      if (change.kind === 'add') {
        if (change.anchor !== undefined) note(volatile, type, change.anchor);
      } else if (change.anchor !== undefined) {
        note(byType, type, change.anchor);
      }
    }
    for (const [type, anchors] of byType) {
      const codec = anchorCodec(type);
      // Anchors compare as the directory writes them (entryUUID lower-case, a GUID in one form).
      const canonical = (anchor: string) => {
        const encoded = codec.encode(anchor);
        return codec.decode(Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded, 'utf8'));
      };
      const unstable = new Set([...(volatile.get(type) ?? [])].map(canonical));
      const wanted = [...anchors].filter((anchor) => {
        const key = canonical(anchor);
        return key !== undefined && !unstable.has(key);
      });
      for (const chunk of chunked(wanted, ANCHORS_PER_SEARCH)) {
        try {
          await this.lookUpChunk(type, chunk, canonical, located);
        } catch (error) {
          // The lookup only saves round trips: these anchors are searched one by one at their turn, which reports a failure against that change.
          this.logger.debug('ldap anchor lookup failed; locating entries one by one', { objectType: type.name, reason: describeLdapError(error) });
          if (ldapResultCode(error) === undefined) return located;
        }
      }
    }
    return located;
  }

  private async lookUpChunk(type: LdapObjectTypeConfig, anchors: string[], canonical: (anchor: string) => string | undefined, located: AnchorLocations): Promise<void> {
    const codec = anchorCodec(type);
    const filters = anchors.map((anchor) => new EqualityFilter({ attribute: type.anchorAttribute, value: codec.encode(anchor) }));
    const entries = await this.session.search(await this.namingContextOf(type), {
      scope: 'sub',
      filter: filters.length === 1 ? filters[0] : new OrFilter({ filters }),
      attributes: [type.anchorAttribute],
    });
    const dnsByKey = new Map<string, string[]>(anchors.map((anchor) => [canonical(anchor) as string, []]));
    for (const entry of entries) {
      let claimed = false;
      for (const raw of entryBytes(entry, type.anchorAttribute)) {
        const key = codec.decode(raw);
        const dns = key === undefined ? undefined : dnsByKey.get(key);
        if (dns && !dns.includes(entry.dn)) dns.push(entry.dn);
        claimed ||= dns !== undefined;
      }
      // The server matched an entry by a rule this side does not model (case, spaces): let each change ask the server alone.
      if (!claimed) return;
    }
    for (const anchor of anchors) {
      if (!located.set(type.name, anchor, dnsByKey.get(canonical(anchor) as string) ?? [])) this.logger.debug('ldap anchor lookup found a DN that does not parse', { anchor });
    }
  }

  /** Whether a rename's new RDN holds the anchor attribute (a modDN then replaces the anchor value). */
  private renamesAnchor(newDn: string | undefined, anchorName: string): boolean {
    try {
      return newDn !== undefined && (parseDn(newDn)[0] ?? []).some((ava) => ava.type.toLowerCase() === anchorName);
    } catch (error) {
      if (error instanceof DnSyntaxError) return false; // refused at its turn, before anything is sent
      throw error;
    }
  }

  private rdnValues(newDn: string | undefined, anchorName: string): string[] {
    if (!this.renamesAnchor(newDn, anchorName)) return [];
    return (parseDn(newDn as string)[0] ?? []).filter((ava) => ava.type.toLowerCase() === anchorName).map((ava) => ava.value);
  }

  private async readAnchor(dn: string, type: LdapObjectTypeConfig): Promise<string | undefined> {
    const entry = await this.session.read(dn, [type.anchorAttribute]);
    const raw = entry ? entryBytes(entry, type.anchorAttribute)[0] : undefined;
    return raw ? anchorCodec(type).decode(raw) : undefined;
  }

  private async add(change: ExportChange, type: LdapObjectTypeConfig, schema: ObjectTypeSchema, batch: Batch): Promise<ExportResult> {
    const dn = checkedDn(change.dn, 'a dn');
    const mods = this.modifications(change, type, schema);
    const anchorName = type.anchorAttribute.toLowerCase();
    const serverAssigned = SERVER_ASSIGNED_ANCHORS.has(anchorName);
    const has = (name: string) => mods.some((m) => m.name.toLowerCase() === name.toLowerCase());
    if (!has('objectClass')) {
      if (type.objectClasses.length === 0) throw new RejectedChange(`object type ${type.name} has no objectClasses configured for adds`);
      mods.push({ name: 'objectClass', op: 'replace', values: type.objectClasses.map((c) => Buffer.from(c)), schema: { name: 'objectClass', type: 'string' } });
    }
    if (!serverAssigned && change.anchor !== undefined && !has(type.anchorAttribute)) {
      mods.push({ name: type.anchorAttribute, op: 'replace', values: [Buffer.from(change.anchor)], schema: { name: type.anchorAttribute, type: 'string' } });
    }
    // The RDN's values must be in the entry; fill them in unless the change sets that attribute.
    for (const ava of parseDn(dn)[0] as Rdn) {
      if (!ava.hexEncoded && !has(ava.type)) mods.push({ name: ava.type, op: 'replace', values: [Buffer.from(ava.value)], schema: { name: ava.type, type: 'string' } });
    }
    const attributes = mods.filter((m) => m.values.length > 0).map((m) => new Attribute({ type: m.name, values: m.values }));
    const postRead = serverAssigned && (await this.rootDse()).supportedControl.includes(PostReadControl.type) ? new PostReadControl([type.anchorAttribute]) : undefined;
    try {
      await this.session.run((client) => client.add(dn, attributes, postRead));
    } catch (error) {
      if (ldapResultCode(error) !== LDAP_RESULT.entryAlreadyExists) throw error;
      return this.reconcileAdd(change, dn, mods, type);
    }
    if (!serverAssigned) return applied(change.id, change.anchor);
    const raw = postRead?.values(type.anchorAttribute)[0];
    const anchor = raw ? anchorCodec(type).decode(raw) : undefined;
    if (anchor !== undefined) return applied(change.id, anchor);
    const result = applied(change.id);
    batch.pendingAnchors.push({ change, dn, type, result });
    return result;
  }

  /**
   * The server-assigned anchors of applied adds that did not come back with
   * the add: per parent DN, one-level searches for the new RDNs, matched
   * back by DN; a DN not matched that way is read alone. A read that fails
   * fails its add (a retry finds the entry and reports it already applied,
   * with its anchor).
   */
  private async readNewAnchors(pending: PendingAnchor[], results: ExportResult[]): Promise<void> {
    const anchors = new Map<PendingAnchor, string>();
    const byParent = new Map<string, { type: LdapObjectTypeConfig; parent: string; items: Array<{ item: PendingAnchor; rdn: Rdn; key: string }> }>();
    for (const item of pending) {
      const rdns = parseDn(item.dn);
      const key = dnKeyOrUndefined(rdns);
      // A #hex RDN value has no equality filter short of decoding its BER: read alone.
      if (key === undefined || rdns.length < 2 || rdns[0].some((ava) => ava.hexEncoded)) continue;
      const parent = formatDn(rdns.slice(1));
      const groupKey = `${item.type.name}\u0000${dnKey(rdns.slice(1))}`;
      const group = byParent.get(groupKey) ?? { type: item.type, parent, items: [] };
      group.items.push({ item, rdn: rdns[0], key });
      byParent.set(groupKey, group);
    }
    let connectionLost = false;
    for (const { type, parent, items } of byParent.values()) {
      const codec = anchorCodec(type);
      for (const chunk of chunked(items, ANCHORS_PER_SEARCH)) {
        if (connectionLost) break;
        const filters: Filter[] = chunk.map(({ rdn }) => {
          const equalities = rdn.map((ava) => new EqualityFilter({ attribute: ava.type, value: ava.value }));
          return equalities.length === 1 ? equalities[0] : new AndFilter({ filters: equalities });
        });
        try {
          const entries = await this.session.search(parent, { scope: 'one', filter: filters.length === 1 ? filters[0] : new OrFilter({ filters }), attributes: [type.anchorAttribute] });
          const byKey = new Map(chunk.map(({ item, key }) => [key, item]));
          for (const entry of entries) {
            const item = byKey.get(dnKeyOrUndefined(entry.dn) ?? '');
            const raw = entryBytes(entry, type.anchorAttribute)[0];
            const anchor = raw ? codec.decode(raw) : undefined;
            if (item && anchor !== undefined) anchors.set(item, anchor);
          }
        } catch (error) {
          // Reading the anchors after the adds only saves round trips: what this search did not give is read alone below.
          this.logger.debug('ldap read of new anchors failed; reading them one by one', { parent, reason: describeLdapError(error) });
          connectionLost = ldapResultCode(error) === undefined;
        }
      }
    }
    let unreachable: ObjectFailure | undefined;
    for (const item of pending) {
      let anchor = anchors.get(item);
      try {
        if (unreachable) throw new RejectedChange(`not attempted: ${unreachable.message}`, unreachable.code, unreachable.retryable);
        anchor ??= await this.readAnchor(item.dn, item.type);
      } catch (error) {
        const failure = this.failure(item.change, error);
        if (failure.code === 'CONNECTOR_UNREACHABLE' && failure.retryable) unreachable ??= failure;
        results[results.indexOf(item.result)] = { id: item.change.id, outcome: 'failed', error: failure };
        continue;
      }
      if (anchor !== undefined) item.result.anchor = anchor;
    }
  }

  /** An add met an existing entry: success when that entry already holds what the add would write. */
  private async reconcileAdd(change: ExportChange, dn: string, mods: Modification[], type: LdapObjectTypeConfig): Promise<ExportResult> {
    const entry = await this.session.read(dn, [...new Set([...mods.map((m) => m.name), type.anchorAttribute])]);
    if (!entry) throw new RejectedChange(`an entry at ${dn} existed a moment ago and is gone now`, 'SYSTEM_BUSY', true);
    const differing: string[] = [];
    for (const mod of mods) {
      if (!(await this.holdsExactly(entry, dn, mod))) differing.push(mod.name);
    }
    const raw = entryBytes(entry, type.anchorAttribute)[0];
    const anchor = raw ? anchorCodec(type).decode(raw) : undefined;
    if (change.anchor !== undefined && anchor !== undefined && anchor !== change.anchor) differing.push(type.anchorAttribute);
    if (differing.length === 0) return alreadyApplied(change.id, anchor);
    throw new RejectedChange(`an entry already exists at ${dn} with other values of ${differing.join(', ')}`, 'OBJECT_ALREADY_EXISTS');
  }

  /**
   * Whether the entry holds exactly the desired values. Byte-equal values
   * match at once; the rest are asked of the server (a compare applies the
   * attribute's matching rule: case, spaces, DN forms), objectClass as a
   * subset (the server adds superclasses such as top).
   */
  private async holdsExactly(entry: Entry, dn: string, mod: Modification): Promise<boolean> {
    const actual = entryBytes(entry, mod.name);
    const isObjectClass = mod.name.toLowerCase() === 'objectclass';
    if (isObjectClass) {
      const present = new Set(actual.map((b) => b.toString('utf8').toLowerCase()));
      return mod.values.every((v) => present.has(v.toString('utf8').toLowerCase()));
    }
    if (actual.length !== mod.values.length) return false;
    const key = (b: Buffer) => {
      if (mod.schema.type !== 'reference') return b.toString('base64');
      try {
        return dnKey(b.toString('utf8'));
      } catch (error) {
        if (error instanceof DnSyntaxError) return b.toString('base64');
        throw error;
      }
    };
    const have = new Set(actual.map(key));
    const unmatched = mod.values.filter((v) => !have.has(key(v)));
    if (mod.schema.type === 'binary') return unmatched.length === 0;
    for (const value of unmatched) {
      const same = await this.session.run((client) => client.compare(dn, mod.name, value.toString('utf8')));
      if (!same) return false;
    }
    return true;
  }

  private async update(change: ExportChange, type: LdapObjectTypeConfig, schema: ObjectTypeSchema, batch: Batch, fresh = false): Promise<ExportResult> {
    const mods = this.modifications(change, type, schema);
    const { dn, fromBatch } = await this.locate(change, type, batch, fresh);
    if (dn === undefined) throw new RejectedChange(`no entry has ${type.anchorAttribute} ${change.anchor}`, 'OBJECT_NOT_FOUND');
    if (mods.length === 0) return alreadyApplied(change.id);
    const toChange = (m: Modification, values = m.values) =>
      new Change({ operation: m.op === 'remove' ? 'delete' : m.op, modification: new Attribute({ type: m.name, values }) });
    try {
      await this.session.run((client) => client.modify(dn, mods.map((m) => toChange(m))));
      return applied(change.id);
    } catch (error) {
      const code = ldapResultCode(error);
      // Moved or deleted out of band since the batch's lookup: look again, as a change of its own would.
      if (code === LDAP_RESULT.noSuchObject && fromBatch) return this.update(change, type, schema, batch, true);
      if (code !== LDAP_RESULT.attributeOrValueExists && code !== LDAP_RESULT.noSuchAttribute) throw error;
    }
    // One value already there (20) or already gone (16) fails the whole modify: apply it piece by piece, taking those as done.
    let changed = false;
    for (const mod of mods) {
      const pieces = mod.op === 'replace' || mod.values.length <= 1 ? [mod.values] : mod.values.map((v) => [v]);
      for (const values of pieces) {
        try {
          await this.session.run((client) => client.modify(dn, toChange(mod, values)));
          changed = true;
        } catch (error) {
          const code = ldapResultCode(error);
          if (code !== LDAP_RESULT.attributeOrValueExists && code !== LDAP_RESULT.noSuchAttribute) throw error;
          this.logger.debug('ldap modify piece already applied', { attribute: mod.name, op: mod.op, result: describeLdapError(error) });
        }
      }
    }
    return changed ? applied(change.id) : alreadyApplied(change.id);
  }

  private async delete(change: ExportChange, type: LdapObjectTypeConfig, batch: Batch, fresh = false): Promise<ExportResult> {
    const { dn, fromBatch } = await this.locate(change, type, batch, fresh);
    if (dn === undefined) return alreadyApplied(change.id);
    try {
      await this.session.run((client) => client.del(dn));
      batch.located.gone(dn);
      return applied(change.id);
    } catch (error) {
      const code = ldapResultCode(error);
      // Gone from where the batch's lookup found it: it may have moved, so only a fresh search may call it deleted.
      if (code === LDAP_RESULT.noSuchObject && fromBatch) return this.delete(change, type, batch, true);
      if (code === LDAP_RESULT.noSuchObject) {
        batch.located.gone(dn);
        return alreadyApplied(change.id);
      }
      if (code === LDAP_RESULT.notAllowedOnNonLeaf) throw new RejectedChange(`${dn} has entries below it; the directory deletes leaves only`);
      throw error;
    }
  }

  private async rename(change: ExportChange, type: LdapObjectTypeConfig, batch: Batch, fresh = false): Promise<ExportResult> {
    const newDn = checkedDn(change.newDn, 'a newDn');
    const { dn, byAnchor, fromBatch } = await this.locate(change, type, batch, fresh);
    if (dn === undefined) throw new RejectedChange(`no entry has ${type.anchorAttribute} ${change.anchor}`, 'OBJECT_NOT_FOUND');
    if (dnKey(dn) === dnKey(newDn)) return alreadyApplied(change.id);
    try {
      // Hex escapes keep ldapts' split of the new DN into RDN and superior at the right comma.
      await this.session.run((client) => client.modifyDN(dn, formatDn(parseDn(newDn), { hex: true })));
      // Later changes of the batch that the lookup placed at or below the old DN are now below the new one.
      batch.located.moved(dn, newDn);
      return applied(change.id);
    } catch (error) {
      const code = ldapResultCode(error);
      if (code === LDAP_RESULT.noSuchObject && fromBatch) return this.rename(change, type, batch, true);
      if (code === LDAP_RESULT.noSuchObject && !byAnchor && (await this.session.read(newDn, ['1.1']))) {
        batch.located.moved(dn, newDn);
        return alreadyApplied(change.id);
      }
      if (code === LDAP_RESULT.entryAlreadyExists) throw new RejectedChange(`another entry already exists at ${newDn}`, 'OBJECT_ALREADY_EXISTS');
      throw error;
    }
  }
}
