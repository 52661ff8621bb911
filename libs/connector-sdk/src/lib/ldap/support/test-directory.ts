/**
 * The throwaway OpenLDAP of tools/dev-services/services.sh, as integration
 * tests use it: an admin client of its own (never the connector's code), and
 * one OU subtree per test suite, created and removed by the suite, so suites
 * never see each other's entries.
 *
 * Test-only: reads the IM_TEST_LDAP_* settings services.sh reads.
 */
import { randomBytes } from 'node:crypto';
import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';
import { Attribute, Change, Client, Entry } from 'ldapts';
import type { Attributes, ConnectorContext, ConnectorLogger, ImportBatch, ImportedObject } from '../../connector';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const SLAPD_DIR = env('IM_TEST_LDAP_DIR', '/tmp/identitymesh-slapd');

export const TEST_LDAP = {
  url: `ldap://127.0.0.1:${env('IM_TEST_LDAP_PORT', '3890')}`,
  ldapsUrl: `ldaps://127.0.0.1:${env('IM_TEST_LDAPS_PORT', '6360')}`,
  suffix: env('IM_TEST_LDAP_SUFFIX', 'dc=identitymesh,dc=test'),
  adminPassword: env('IM_TEST_LDAP_ADMIN_PASSWORD', 'admin'),
  /** The CA services.sh made for slapd's certificate. */
  caFile: `${SLAPD_DIR}/tls/ca.pem`,
  get adminDn(): string {
    return `cn=admin,${this.suffix}`;
  },
};

/** A bound admin client; the caller unbinds it. */
export async function adminClient(): Promise<Client> {
  const client = new Client({ url: TEST_LDAP.url, timeout: 30_000, connectTimeout: 5_000 });
  try {
    await client.bind(TEST_LDAP.adminDn, TEST_LDAP.adminPassword);
  } catch (error) {
    await client.unbind();
    throw error;
  }
  return client;
}

/** Log lines a connector wrote, to check that no secret ever appears in them. */
export class RecordingLogger implements ConnectorLogger {
  readonly lines: string[] = [];
  debug(message: string, fields?: Record<string, unknown>): void {
    this.lines.push(`debug ${message} ${JSON.stringify(fields ?? {})}`);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push(`info ${message} ${JSON.stringify(fields ?? {})}`);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push(`warn ${message} ${JSON.stringify(fields ?? {})}`);
  }
}

/** A connector context whose secret store holds the given references. */
export function testContext(secrets: Record<string, string>, logger: ConnectorLogger = new RecordingLogger()): ConnectorContext {
  return {
    connectorId: 'ldap-test',
    logger,
    secrets: {
      resolve: async (reference) => {
        const value = secrets[reference];
        if (value === undefined) throw new Error(`no secret ${reference}`);
        return value;
      },
    },
  };
}

export const ADMIN_SECRET_REF = 'ldap/test/admin-password';

/** One suite's subtree `ou=t-<random>,<suffix>` with `ou=people`, `ou=groups` and `ou=alumni` below it. */
export class TestOu {
  private constructor(
    readonly dn: string,
    readonly admin: Client,
  ) {}

  static async create(prefix = 't'): Promise<TestOu> {
    const admin = await adminClient();
    const dn = `ou=${prefix}-${randomBytes(5).toString('hex')},${TEST_LDAP.suffix}`;
    const ou = new TestOu(dn, admin);
    try {
      await admin.add(dn, { objectClass: 'organizationalUnit', ou: dn.slice(3, dn.indexOf(',')) });
      for (const child of ['people', 'groups', 'alumni']) await admin.add(`ou=${child},${dn}`, { objectClass: 'organizationalUnit', ou: child });
    } catch (error) {
      await admin.unbind();
      throw error;
    }
    return ou;
  }

  get people(): string {
    return `ou=people,${this.dn}`;
  }

  get groups(): string {
    return `ou=groups,${this.dn}`;
  }

  get alumni(): string {
    return `ou=alumni,${this.dn}`;
  }

  /** The entryUUID of an entry. */
  async uuidOf(dn: string): Promise<string> {
    const { searchEntries } = await this.admin.search(dn, { scope: 'base', attributes: ['entryUUID'] });
    return String(searchEntries[0]?.['entryUUID']);
  }

  /** The DN of the entry with this entryUUID, anywhere in the subtree. */
  async dnOf(uuid: string): Promise<string | undefined> {
    const { searchEntries } = await this.admin.search(this.dn, { scope: 'sub', filter: `(entryUUID=${uuid})`, attributes: ['1.1'] });
    return searchEntries[0]?.dn;
  }

  /** Deletes the subtree, deepest entries first (16 at a time), and closes the admin client. */
  async remove(): Promise<void> {
    try {
      const { searchEntries } = await this.admin.search(this.dn, { scope: 'sub', attributes: ['1.1'], sizeLimit: 0 });
      const depth = (dn: string) => dn.split(/(?<!\\),/).length;
      const levels = [...new Set(searchEntries.map((e) => depth(e.dn)))].sort((a, b) => b - a);
      for (const level of levels) await this.inParallel(searchEntries.filter((e) => depth(e.dn) === level).map((e) => e.dn), (dn) => this.admin.del(dn));
    } finally {
      await this.admin.unbind();
    }
  }

  /** Adds many entries, 16 requests in flight, as a bulk load would. */
  async addAll(entries: Array<{ dn: string; attributes: Record<string, string | string[]> }>): Promise<void> {
    await this.inParallel(entries, (e) => this.admin.add(e.dn, e.attributes));
  }

  private async inParallel<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await work(items[next++]);
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  }
}

const values = (entry: Entry, name: string): string[] => {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const raw = key ? entry[key] : [];
  return (Array.isArray(raw) ? raw : [raw]).map((v) => v.toString());
};

/**
 * Reads and changes inetOrgPerson entries below a TestOu the way an
 * administrator with ldapmodify would, for the conformance kit's
 * SystemDriver.
 */
export class PersonDirectory {
  constructor(
    private readonly ou: TestOu,
    private readonly attributeNames: string[],
  ) {}

  async add(dn: string, attributes: Attributes): Promise<string> {
    const entry: Record<string, string[]> = { objectClass: ['inetOrgPerson'] };
    for (const [name, vals] of Object.entries(attributes)) if (vals.length > 0) entry[name] = vals.map(String);
    await this.ou.admin.add(dn, entry);
    return this.ou.uuidOf(dn);
  }

  async replace(uuid: string, attributes: Attributes): Promise<void> {
    const dn = await this.requireDn(uuid);
    await this.ou.admin.modify(
      dn,
      Object.entries(attributes).map(([type, vals]) => new Change({ operation: 'replace', modification: new Attribute({ type, values: vals.map(String) }) })),
    );
  }

  async remove(uuid: string): Promise<void> {
    await this.ou.admin.del(await this.requireDn(uuid));
  }

  async rename(uuid: string, newDn: string): Promise<void> {
    await this.ou.admin.modifyDN(await this.requireDn(uuid), newDn);
  }

  async read(ref: { anchor?: string; dn?: string }): Promise<ImportedObject | undefined> {
    const attributes = ['entryUUID', ...this.attributeNames];
    let entry: Entry | undefined;
    if (ref.anchor !== undefined) {
      entry = (await this.ou.admin.search(this.ou.dn, { scope: 'sub', filter: `(&(objectClass=inetOrgPerson)(entryUUID=${ref.anchor}))`, attributes })).searchEntries[0];
    } else if (ref.dn !== undefined) {
      try {
        entry = (await this.ou.admin.search(ref.dn, { scope: 'base', attributes })).searchEntries[0];
      } catch (error) {
        if ((error as { code?: unknown }).code !== 32) throw error;
      }
    }
    return entry ? this.toObject(entry) : undefined;
  }

  async list(): Promise<ImportedObject[]> {
    const { searchEntries } = await this.ou.admin.search(this.ou.dn, { scope: 'sub', filter: '(objectClass=inetOrgPerson)', attributes: ['entryUUID', ...this.attributeNames] });
    return searchEntries.map((entry) => this.toObject(entry));
  }

  private toObject(entry: Entry): ImportedObject {
    const attributes: Attributes = {};
    for (const name of this.attributeNames) attributes[name] = values(entry, name);
    return { objectType: 'person', anchor: values(entry, 'entryUUID')[0], dn: entry.dn, attributes };
  }

  private async requireDn(uuid: string): Promise<string> {
    const dn = await this.ou.dnOf(uuid);
    if (!dn) throw new Error(`no entry with entryUUID ${uuid}`);
    return dn;
  }
}

/** Every batch of an import, read to the end. */
export async function readAll(batches: AsyncIterable<ImportBatch>): Promise<ImportBatch[]> {
  const all: ImportBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

/** The last watermark of a run, as the engine would have stored it. */
export const lastWatermark = (batches: ImportBatch[]): string | undefined => batches.reduce<string | undefined>((w, b) => b.watermark ?? w, undefined);

/**
 * A TCP relay to slapd on loopback that a test can cut, as a server restart
 * or an idle-timeout would: every open connection is destroyed at once.
 */
export class DroppingProxy {
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  private requestsLeft = Infinity;

  private readonly server: Server;

  private constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(targetPort = Number(new URL(TEST_LDAP.url).port)): Promise<DroppingProxy> {
    const proxy = new DroppingProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    this.connections++;
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (this.requestsLeft-- <= 0) {
        this.server.close();
        this.dropAll();
        return;
      }
      upstream.write(chunk);
    });
  }

  get url(): string {
    return `ldap://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.connections;
  }

  /** Lets `count` more requests through, then the server goes away: connections cut, new ones refused. */
  failAfter(count: number): void {
    this.requestsLeft = count;
  }

  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
