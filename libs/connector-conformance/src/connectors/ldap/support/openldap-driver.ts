import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client, Entry } from 'ldapts';
import type { Attributes, ImportedObject } from '@identitymesh/connector-sdk';
import type { ConformanceObject, SeededObject, SystemDriver } from '../../../lib/conformance-harness';

/*
 * The throwaway OpenLDAP of tools/dev-services/services.sh, changed the way
 * an administrator with ldapmodify would: an ldapts admin client of its own,
 * never the connector's code. Test-only: reads the IM_TEST_LDAP_* settings
 * services.sh reads.
 */

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const suffix = env('IM_TEST_LDAP_SUFFIX', 'dc=identitymesh,dc=test');

export const OPENLDAP = {
  url: `ldap://127.0.0.1:${env('IM_TEST_LDAP_PORT', '3890')}`,
  suffix,
  adminDn: `cn=admin,${suffix}`,
  adminPassword: env('IM_TEST_LDAP_ADMIN_PASSWORD', 'admin'),
};

const valuesOf = (entry: Entry, name: string): string[] => {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const raw = key ? entry[key] : [];
  return (Array.isArray(raw) ? raw : [raw]).map((v) => v.toString());
};

/**
 * One conformance case's subtree `ou=conformance-<random>,<suffix>` with
 * `ou=people` and `ou=alumni` below it, holding inetOrgPerson entries.
 */
export class OpenLdapDriver implements SystemDriver {
  private constructor(
    readonly base: string,
    private readonly admin: Client,
    private readonly attributeNames: string[],
  ) {}

  static async create(attributeNames: string[]): Promise<OpenLdapDriver> {
    const admin = new Client({ url: OPENLDAP.url, timeout: 30_000, connectTimeout: 5_000 });
    const name = `conformance-${randomBytes(5).toString('hex')}`;
    const base = `ou=${name},${OPENLDAP.suffix}`;
    try {
      await admin.bind(OPENLDAP.adminDn, OPENLDAP.adminPassword);
      await admin.add(base, { objectClass: 'organizationalUnit', ou: name });
      for (const child of ['people', 'alumni']) await admin.add(`ou=${child},${base}`, { objectClass: 'organizationalUnit', ou: child });
    } catch (error) {
      await admin.unbind();
      throw error;
    }
    return new OpenLdapDriver(base, admin, attributeNames);
  }

  get people(): string {
    return `ou=people,${this.base}`;
  }

  get alumni(): string {
    return `ou=alumni,${this.base}`;
  }

  async seed(objects: ConformanceObject[]): Promise<SeededObject[]> {
    const seeded: SeededObject[] = [];
    for (const object of objects) {
      const dn = object.dn as string;
      seeded.push({ anchor: await this.add(dn, object.attributes), dn });
    }
    return seeded;
  }

  /** Adds an inetOrgPerson as given, whatever the connector would think of it; returns its entryUUID. */
  async add(dn: string, attributes: Attributes): Promise<string> {
    const entry: Record<string, string[]> = { objectClass: ['inetOrgPerson'] };
    for (const [name, values] of Object.entries(attributes)) if (values.length > 0) entry[name] = values.map(String);
    await this.admin.add(dn, entry);
    const { searchEntries } = await this.admin.search(dn, { scope: 'base', attributes: ['entryUUID'] });
    return valuesOf(searchEntries[0], 'entryUUID')[0];
  }

  async modify(anchor: string, attributes: Attributes): Promise<void> {
    const changes = Object.entries(attributes).map(
      ([type, values]) => new Change({ operation: 'replace', modification: new Attribute({ type, values: values.map(String) }) }),
    );
    await this.admin.modify(await this.dnOf(anchor), changes);
  }

  async remove(anchor: string): Promise<void> {
    await this.admin.del(await this.dnOf(anchor));
  }

  async rename(anchor: string, newDn: string): Promise<void> {
    await this.admin.modifyDN(await this.dnOf(anchor), newDn);
  }

  async read(ref: { anchor?: string; dn?: string }): Promise<ImportedObject | undefined> {
    const attributes = ['entryUUID', ...this.attributeNames];
    if (ref.anchor !== undefined) {
      const { searchEntries } = await this.admin.search(this.base, { scope: 'sub', filter: `(&(objectClass=inetOrgPerson)(entryUUID=${ref.anchor}))`, attributes });
      return searchEntries[0] ? this.toObject(searchEntries[0]) : undefined;
    }
    try {
      const { searchEntries } = await this.admin.search(ref.dn as string, { scope: 'base', filter: '(objectClass=inetOrgPerson)', attributes });
      return searchEntries[0] ? this.toObject(searchEntries[0]) : undefined;
    } catch (error) {
      if ((error as { code?: unknown }).code === 32) return undefined; // noSuchObject
      throw error;
    }
  }

  async list(): Promise<ImportedObject[]> {
    const { searchEntries } = await this.admin.search(this.base, { scope: 'sub', filter: '(objectClass=inetOrgPerson)', attributes: ['entryUUID', ...this.attributeNames] });
    return searchEntries.map((entry) => this.toObject(entry));
  }

  /** Removes the subtree, leaves first, and closes the admin client. */
  async drop(): Promise<void> {
    try {
      const { searchEntries } = await this.admin.search(this.base, { scope: 'sub', attributes: ['1.1'] });
      const depth = (dn: string) => dn.split(/(?<!\\),/).length;
      for (const entry of searchEntries.sort((a, b) => depth(b.dn) - depth(a.dn))) await this.admin.del(entry.dn);
    } finally {
      await this.admin.unbind();
    }
  }

  private toObject(entry: Entry): ImportedObject {
    const attributes: Attributes = {};
    for (const name of this.attributeNames) attributes[name] = valuesOf(entry, name);
    return { objectType: 'person', anchor: valuesOf(entry, 'entryUUID')[0], dn: entry.dn, attributes };
  }

  private async dnOf(anchor: string): Promise<string> {
    const { searchEntries } = await this.admin.search(this.base, { scope: 'sub', filter: `(entryUUID=${anchor})`, attributes: ['1.1'] });
    if (!searchEntries[0]) throw new Error(`no entry with entryUUID ${anchor}`);
    return searchEntries[0].dn;
  }
}
