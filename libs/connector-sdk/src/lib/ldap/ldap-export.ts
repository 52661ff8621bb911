/**
 * Exports: add, modify, delete and modDN, one result per change, each safe
 * to repeat. A retried change whose first attempt reached the directory is
 * recognised (the entry exists with the desired values, the value is already
 * there, the entry is already gone or already at its new DN) and reported as
 * success instead of failing or being applied twice.
 */
import { Attribute, Change, EqualityFilter, Entry } from 'ldapts';
import type { AttributeChange, AttributeSchema, ConnectorLogger, ExportChange, ExportResult, ObjectTypeSchema } from '../connector';
import type { LdapConnectorConfig, LdapObjectTypeConfig } from './ldap-config';
import { DnSyntaxError, dnKey, dnWithin, formatDn, parseDn, Rdn } from './ldap-dn';
import { anchorCodec } from './ldap-entry';
import { describeLdapError, LDAP_RESULT, ldapResultCode, objectFailure, ObjectFailure } from './ldap-errors';
import { entryBytes, LdapSession } from './ldap-session';
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
  private namingContexts?: string[];

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
    let unreachable: ObjectFailure | undefined;
    for (const change of changes) {
      if (unreachable) {
        results.push({ id: change.id, outcome: 'failed', error: { ...unreachable, message: `not attempted: ${unreachable.message}` } });
        continue;
      }
      try {
        results.push(await this.applyOne(change, schemas));
      } catch (error) {
        const failure =
          error instanceof RejectedChange
            ? { code: error.code, message: `${change.kind} of ${change.objectType} ${change.dn ?? change.anchor ?? ''}: ${error.message}`, retryable: error.retryable }
            : objectFailure(error, `${change.kind} of ${change.dn ?? change.anchor ?? change.objectType}`);
        if (failure.code === 'CONNECTOR_UNREACHABLE' && failure.retryable) unreachable = failure;
        this.logger.debug('ldap export change failed', { id: change.id, kind: change.kind, code: failure.code });
        results.push({ id: change.id, outcome: 'failed', error: failure });
      }
    }
    return results;
  }

  private async applyOne(change: ExportChange, schemas: Map<string, ObjectTypeSchema>): Promise<ExportResult> {
    const type = this.config.objectTypes.find((t) => t.name === change.objectType);
    const schema = schemas.get(change.objectType);
    if (!type || !schema) throw new RejectedChange(`object type ${change.objectType} is not configured`);
    switch (change.kind) {
      case 'add':
        return this.add(change, type, schema);
      case 'update':
        return this.update(change, type, schema);
      case 'delete':
        return this.delete(change, type);
      case 'rename':
        return this.rename(change, type);
    }
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

  /** The naming context holding a type's entries: anchors are looked up there, so an entry moved out of the type's base is still found. */
  private async namingContextOf(type: LdapObjectTypeConfig): Promise<string> {
    this.namingContexts ??= (await this.session.rootDse()).namingContexts;
    const base = type.baseDns[0];
    const holding = this.namingContexts.filter((nc) => {
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
   * stale after an out-of-band rename), else by the DN it names.
   */
  private async locate(change: ExportChange, type: LdapObjectTypeConfig): Promise<{ dn: string | undefined; byAnchor: boolean }> {
    if (change.anchor === undefined) return { dn: checkedDn(change.dn, 'a dn or an anchor'), byAnchor: false };
    const codec = anchorCodec(type);
    const entries = await this.session.search(await this.namingContextOf(type), {
      scope: 'sub',
      filter: new EqualityFilter({ attribute: type.anchorAttribute, value: codec.encode(change.anchor) }),
      attributes: ['1.1'],
      sizeLimit: 2,
    });
    if (entries.length > 1) throw new RejectedChange(`${entries.length} entries carry ${type.anchorAttribute} ${change.anchor}`, 'OBJECT_DUPLICATE_ANCHOR');
    return { dn: entries[0]?.dn, byAnchor: true };
  }

  private async readAnchor(dn: string, type: LdapObjectTypeConfig): Promise<string | undefined> {
    const entry = await this.session.read(dn, [type.anchorAttribute]);
    const raw = entry ? entryBytes(entry, type.anchorAttribute)[0] : undefined;
    return raw ? anchorCodec(type).decode(raw) : undefined;
  }

  private async add(change: ExportChange, type: LdapObjectTypeConfig, schema: ObjectTypeSchema): Promise<ExportResult> {
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
    try {
      await this.session.run((client) => client.add(dn, attributes));
    } catch (error) {
      if (ldapResultCode(error) !== LDAP_RESULT.entryAlreadyExists) throw error;
      return this.reconcileAdd(change, dn, mods, type);
    }
    const anchor = serverAssigned ? await this.readAnchor(dn, type) : change.anchor;
    return applied(change.id, anchor);
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

  private async update(change: ExportChange, type: LdapObjectTypeConfig, schema: ObjectTypeSchema): Promise<ExportResult> {
    const mods = this.modifications(change, type, schema);
    const { dn } = await this.locate(change, type);
    if (dn === undefined) throw new RejectedChange(`no entry has ${type.anchorAttribute} ${change.anchor}`, 'OBJECT_NOT_FOUND');
    if (mods.length === 0) return alreadyApplied(change.id);
    const toChange = (m: Modification, values = m.values) =>
      new Change({ operation: m.op === 'remove' ? 'delete' : m.op, modification: new Attribute({ type: m.name, values }) });
    try {
      await this.session.run((client) => client.modify(dn, mods.map((m) => toChange(m))));
      return applied(change.id);
    } catch (error) {
      const code = ldapResultCode(error);
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

  private async delete(change: ExportChange, type: LdapObjectTypeConfig): Promise<ExportResult> {
    const { dn } = await this.locate(change, type);
    if (dn === undefined) return alreadyApplied(change.id);
    try {
      await this.session.run((client) => client.del(dn));
      return applied(change.id);
    } catch (error) {
      const code = ldapResultCode(error);
      if (code === LDAP_RESULT.noSuchObject) return alreadyApplied(change.id);
      if (code === LDAP_RESULT.notAllowedOnNonLeaf) throw new RejectedChange(`${dn} has entries below it; the directory deletes leaves only`);
      throw error;
    }
  }

  private async rename(change: ExportChange, type: LdapObjectTypeConfig): Promise<ExportResult> {
    const newDn = checkedDn(change.newDn, 'a newDn');
    const { dn, byAnchor } = await this.locate(change, type);
    if (dn === undefined) throw new RejectedChange(`no entry has ${type.anchorAttribute} ${change.anchor}`, 'OBJECT_NOT_FOUND');
    if (dnKey(dn) === dnKey(newDn)) return alreadyApplied(change.id);
    try {
      // Hex escapes keep ldapts' split of the new DN into RDN and superior at the right comma.
      await this.session.run((client) => client.modifyDN(dn, formatDn(parseDn(newDn), { hex: true })));
      return applied(change.id);
    } catch (error) {
      const code = ldapResultCode(error);
      if (code === LDAP_RESULT.noSuchObject && !byAnchor && (await this.session.read(newDn, ['1.1']))) return alreadyApplied(change.id);
      if (code === LDAP_RESULT.entryAlreadyExists) throw new RejectedChange(`another entry already exists at ${newDn}`, 'OBJECT_ALREADY_EXISTS');
      throw error;
    }
  }
}
