import { randomBytes } from 'node:crypto';
import { Client, Entry } from 'ldapts';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;

/** The throwaway slapd of tools/dev-services/services.sh, read through the same IM_TEST_LDAP_* settings the script reads. */
export const TEST_SLAPD = {
  url: `ldap://127.0.0.1:${env('IM_TEST_LDAP_PORT', '3890')}`,
  suffix: env('IM_TEST_LDAP_SUFFIX', 'dc=identitymesh,dc=test'),
  adminPassword: env('IM_TEST_LDAP_ADMIN_PASSWORD', 'admin'),
  accesslogBase: 'cn=accesslog',
  get adminDn(): string {
    return `cn=admin,${this.suffix}`;
  },
};

// --- distinguished names ---

/** One attribute-value assertion of an RDN: the type in lower case, the value unescaped. */
export type Ava = readonly [type: string, value: string];

/**
 * Parses an RFC 4514 DN into its RDNs (each a list of AVAs, sorted), with
 * every escape undone: `\,`, `\2C` and the UTF-8 bytes of `\C3\A9` all become
 * the characters they stand for. Written here rather than taken from the
 * engine, so a DN the engine got wrong cannot be "fixed" by the same code
 * when the test compares it.
 */
export function parseDn(dn: string): Ava[][] {
  const rdns: Ava[][] = [];
  let avas: Ava[] = [];
  let type = '';
  let bytes: number[] = [];
  let readingType = true;
  const text = (chunk: string) => bytes.push(...Buffer.from(chunk, 'utf8'));
  const endAva = () => {
    if (readingType) throw new Error(`DN ${JSON.stringify(dn)}: an RDN without "="`);
    avas.push([type.trim().toLowerCase(), Buffer.from(bytes).toString('utf8')]);
    type = '';
    bytes = [];
    readingType = true;
  };
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (readingType) {
      if (c === '=') readingType = false;
      else type += c;
      continue;
    }
    if (c === '\\') {
      const pair = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(pair)) {
        bytes.push(parseInt(pair, 16));
        i += 2;
      } else {
        text(dn[i + 1] ?? '');
        i += 1;
      }
    } else if (c === '+') {
      endAva();
    } else if (c === ',' || c === ';') {
      endAva();
      rdns.push(avas.sort(compareAva));
      avas = [];
    } else {
      text(c);
    }
  }
  if (dn.trim() !== '') {
    endAva();
    rdns.push(avas.sort(compareAva));
  }
  return rdns;
}

function compareAva(a: Ava, b: Ava): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** One canonical, readable spelling of parsed RDNs: lower-case types, AVAs sorted, only the separators escaped. */
function formatKey(rdns: readonly (readonly Ava[])[]): string {
  const escape = (value: string) => value.replace(/[\\,+=;"<>]/g, (c) => `\\${c}`);
  return rdns.map((avas) => avas.map(([type, value]) => `${type}=${escape(value)}`).join('+')).join(',');
}

/**
 * The key two DNs are compared by: types case-insensitive, values exactly as
 * the engine rendered them, every escape undone and spelt one way again.
 */
export function dnKey(dn: string): string {
  return formatKey(parseDn(dn));
}

/** The same key for an entry named by one [type, value] under a parent DN, built without escaping anything by hand. */
export function dnKeyOf(rdn: Ava, parent: string): string {
  return formatKey([[[rdn[0].toLowerCase(), rdn[1]]], ...parseDn(parent)]);
}

/** Whether a DN lies at or below `base`. */
export function dnWithin(dn: string, base: string): boolean {
  const inner = parseDn(dn);
  const outer = parseDn(base);
  if (inner.length < outer.length) return false;
  return formatKey(inner.slice(inner.length - outer.length)) === formatKey(outer);
}

// --- reading slapd ---

/** An entry as the test compares it: attribute names in lower case, values as text. */
export interface DirectoryEntry {
  dn: string;
  attributes: Record<string, string[]>;
}

/** One write slapd logged in cn=accesslog. */
export interface LoggedOperation {
  reqStart: string;
  reqType: 'add' | 'delete' | 'modify' | 'modrdn';
  reqDN: string;
  /** `attribute:op value` lines (`sn:= Doe`, `member:+ cn=…`, `member:- cn=…`); empty unless asked for. */
  reqMod: string[];
  reqNewRDN?: string;
  reqNewSuperior?: string;
}

function valuesOf(entry: Entry, name: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) return [];
  const raw = entry[key];
  return (Array.isArray(raw) ? raw : [raw]).map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value)));
}

async function bound(): Promise<Client> {
  const client = new Client({ url: TEST_SLAPD.url, timeout: 120_000, connectTimeout: 5_000 });
  try {
    await client.bind(TEST_SLAPD.adminDn, TEST_SLAPD.adminPassword);
  } catch (error) {
    await client.unbind();
    throw error;
  }
  return client;
}

/**
 * A subtree of the test's own under the slapd suffix —
 * `ou=<prefix>-<random>` with `ou=People` and `ou=Groups` below it — created
 * and removed by the test with an admin connection of its own (never the
 * engine's code), so parallel tests and reruns never see each other's
 * entries. It also reads what slapd holds and what it logged.
 */
export class LdapSubtree {
  private constructor(
    readonly dn: string,
    private readonly admin: Client,
  ) {}

  static async create(prefix: string): Promise<LdapSubtree> {
    const admin = await bound();
    const name = `${prefix}-${randomBytes(5).toString('hex')}`;
    const subtree = new LdapSubtree(`ou=${name},${TEST_SLAPD.suffix}`, admin);
    try {
      await admin.add(subtree.dn, { objectClass: 'organizationalUnit', ou: name });
      await admin.add(subtree.people, { objectClass: 'organizationalUnit', ou: 'People' });
      await admin.add(subtree.groups, { objectClass: 'organizationalUnit', ou: 'Groups' });
    } catch (error) {
      await admin.unbind();
      throw error;
    }
    return subtree;
  }

  get people(): string {
    return `ou=People,${this.dn}`;
  }

  get groups(): string {
    return `ou=Groups,${this.dn}`;
  }

  /** Every entry below a base (one level), all user attributes, read in pages. */
  async entriesBelow(base: string): Promise<DirectoryEntry[]> {
    const { searchEntries } = await this.admin.search(base, { scope: 'one', filter: '(objectClass=*)', attributes: ['*'], paged: { pageSize: 1000 } });
    return searchEntries.map((entry) => {
      const attributes: Record<string, string[]> = {};
      for (const key of Object.keys(entry)) if (key !== 'dn') attributes[key.toLowerCase()] = valuesOf(entry, key);
      return { dn: entry.dn, attributes };
    });
  }

  /**
   * slapd's own clock (cn=Monitor), whole seconds: accesslog records are
   * stamped with it, so a window taken from it needs no agreement between
   * this host's clock and the server's.
   */
  async serverTime(): Promise<string> {
    const { searchEntries } = await this.admin.search('cn=Current,cn=Time,cn=Monitor', { scope: 'base', attributes: ['monitorTimestamp'] });
    const time = searchEntries[0] ? valuesOf(searchEntries[0], 'monitorTimestamp')[0] : undefined;
    if (!time) throw new Error('slapd did not tell its time (cn=Current,cn=Time,cn=Monitor)');
    return time;
  }

  /**
   * The writes slapd logged at or after `since` (a server time) whose DN —
   * or, for a rename, whose new superior — lies in this subtree, oldest
   * first. The accesslog is shared by every test on this slapd, so the
   * subtree filter is applied here (reqDN has no substring matching).
   */
  async operationsSince(since: string, options: { withMods?: boolean } = {}): Promise<LoggedOperation[]> {
    const attributes = ['reqStart', 'reqType', 'reqDN', 'reqNewRDN', 'reqNewSuperior', ...(options.withMods ? ['reqMod'] : [])];
    const filter = `(&(objectClass=auditWriteObject)(reqStart>=${since})(|(reqType=add)(reqType=delete)(reqType=modify)(reqType=modrdn)))`;
    const { searchEntries } = await this.admin.search(TEST_SLAPD.accesslogBase, { scope: 'one', filter, attributes, paged: { pageSize: 1000 } });
    const operations: LoggedOperation[] = [];
    for (const entry of searchEntries) {
      const reqDN = valuesOf(entry, 'reqDN')[0] ?? '';
      const reqNewSuperior = valuesOf(entry, 'reqNewSuperior')[0];
      if (!dnWithin(reqDN, this.dn) && !(reqNewSuperior !== undefined && dnWithin(reqNewSuperior, this.dn))) continue;
      operations.push({
        reqStart: valuesOf(entry, 'reqStart')[0] ?? '',
        reqType: valuesOf(entry, 'reqType')[0] as LoggedOperation['reqType'],
        reqDN,
        reqMod: valuesOf(entry, 'reqMod'),
        ...(valuesOf(entry, 'reqNewRDN')[0] !== undefined ? { reqNewRDN: valuesOf(entry, 'reqNewRDN')[0] } : {}),
        ...(reqNewSuperior !== undefined ? { reqNewSuperior } : {}),
      });
    }
    return operations.sort((a, b) => (a.reqStart < b.reqStart ? -1 : a.reqStart > b.reqStart ? 1 : 0));
  }

  /** Deletes the subtree, deepest entries first (16 requests in flight), and closes the admin connection. */
  async remove(): Promise<void> {
    try {
      const { searchEntries } = await this.admin.search(this.dn, { scope: 'sub', attributes: ['1.1'], paged: { pageSize: 1000 } });
      const depth = (dn: string) => parseDn(dn).length;
      const levels = [...new Set(searchEntries.map((entry) => depth(entry.dn)))].sort((a, b) => b - a);
      for (const level of levels) {
        const dns = searchEntries.filter((entry) => depth(entry.dn) === level).map((entry) => entry.dn);
        let next = 0;
        const worker = async () => {
          while (next < dns.length) await this.admin.del(dns[next++]);
        };
        await Promise.all(Array.from({ length: 16 }, worker));
      }
    } finally {
      await this.admin.unbind();
    }
  }
}
