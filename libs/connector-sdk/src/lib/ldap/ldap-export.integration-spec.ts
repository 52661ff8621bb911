/*
 * Exports against the real slapd: group membership by value, idempotent
 * retries, per-object failures with their codes, values that must never
 * widen a search or split a DN, and connections the server drops.
 */
import { Client } from 'ldapts';
import type { Connector, ExportChange, ExportResult } from '../connector';
import type { LdapConnectorRawConfig } from './ldap-config';
import { ldapConnectorFactory } from './ldap-connector';
import { dnKey, escapeDnValue } from './ldap-dn';
import { PostReadControl } from './ldap-post-read';
import { LdapSession } from './ldap-session';
import { ADMIN_SECRET_REF, DroppingProxy, TEST_LDAP, testContext, TestOu } from './support/test-directory';

let ou: TestOu;
let connector: Connector;
let sequence = 0;

function connectorFor(overrides: Partial<LdapConnectorRawConfig> = {}): Connector {
  const config = ldapConnectorFactory.validate({
    url: TEST_LDAP.url,
    bindDn: TEST_LDAP.adminDn,
    bindPasswordSecret: ADMIN_SECRET_REF,
    objectTypes: [
      { name: 'person', baseDns: [ou.dn], objectClasses: ['inetOrgPerson'], attributes: ['uid', 'cn', 'sn', 'mail', 'description'], referenceAttributes: ['manager'] },
      { name: 'group', baseDns: [ou.groups], objectClasses: ['groupOfNames'], attributes: ['cn', 'description'], referenceAttributes: ['member'] },
    ],
    ...overrides,
  });
  return ldapConnectorFactory.create(config, testContext({ [ADMIN_SECRET_REF]: TEST_LDAP.adminPassword }));
}

const change = (fields: Omit<ExportChange, 'id'>): ExportChange => ({ id: `change-${++sequence}`, ...fields });
const replace = (attributes: Record<string, string[]>) => Object.fromEntries(Object.entries(attributes).map(([k, values]) => [k, { op: 'replace' as const, values }]));
const exportOne = async (c: ExportChange, via = connector): Promise<ExportResult> => (await via.export([c]))[0];

async function values(dn: string, attribute: string): Promise<string[]> {
  const { searchEntries } = await ou.admin.search(dn, { scope: 'base', attributes: [attribute] });
  const raw = searchEntries[0]?.[attribute] ?? [];
  return (Array.isArray(raw) ? raw : [raw]).map(String).sort();
}

async function addPerson(uid: string, extra: Record<string, string | string[]> = {}): Promise<{ dn: string; anchor: string }> {
  const dn = `uid=${uid},${ou.people}`;
  await ou.admin.add(dn, { objectClass: 'inetOrgPerson', uid, cn: `Person ${uid}`, sn: 'Example', ...extra });
  return { dn, anchor: await ou.uuidOf(dn) };
}

/** The modifications slapd logged for the latest modify of `dn` (reqMod: `member:+ uid=…`). */
async function lastLoggedModify(dn: string): Promise<string[]> {
  const { searchEntries } = await ou.admin.search('cn=accesslog', { scope: 'one', filter: `(&(reqType=modify)(reqDN=${dn}))`, attributes: ['reqStart', 'reqMod'] });
  const latest = searchEntries.sort((a, b) => String(b['reqStart']).localeCompare(String(a['reqStart'])))[0];
  const mods = latest?.['reqMod'] ?? [];
  return (Array.isArray(mods) ? mods : [mods]).map(String);
}

const OPERATIONS = ['add', 'modify', 'del', 'modifyDN', 'search', 'compare'] as const;
type Operation = (typeof OPERATIONS)[number];

/** Counts the requests every ldapts client sends from now on (the connector's and the test's own: keep the test's out of the window). */
function countRequests(): { counts(): Record<Operation, number>; total(): number } {
  const spies = OPERATIONS.map((name) => [name, jest.spyOn(Client.prototype, name)] as const);
  const counts = () => Object.fromEntries(spies.map(([name, spy]) => [name, spy.mock.calls.length])) as Record<Operation, number>;
  return { counts, total: () => Object.values(counts()).reduce((a, b) => a + b, 0) };
}

/** Makes the connector's sessions see a root DSE without the post-read control, as on a server that lacks it. */
function withoutPostRead(): void {
  const rootDse = LdapSession.prototype.rootDse;
  jest.spyOn(LdapSession.prototype, 'rootDse').mockImplementation(async function (this: LdapSession) {
    const root = await rootDse.call(this);
    return { ...root, supportedControl: root.supportedControl.filter((oid) => oid !== PostReadControl.type) };
  });
}

/** The writes slapd logged below `base`, oldest first, as `type dn`. */
async function loggedWrites(base: string): Promise<string[]> {
  const { searchEntries } = await ou.admin.search('cn=accesslog', {
    scope: 'one',
    filter: `(&(reqDN:dnSubtreeMatch:=${base})(|(reqType=add)(reqType=modify)(reqType=delete)(reqType=modrdn)))`,
    attributes: ['reqStart', 'reqType', 'reqDN'],
  });
  return searchEntries.sort((a, b) => String(a['reqStart']).localeCompare(String(b['reqStart']))).map((e) => `${String(e['reqType'])} ${dnKey(String(e['reqDN']))}`);
}

beforeEach(async () => {
  ou = await TestOu.create('export');
  connector = connectorFor();
});

afterEach(async () => {
  await connector.close();
  await ou.remove();
});

describe('group membership', () => {
  let group: string;
  let groupAnchor: string;
  let people: Record<string, { dn: string; anchor: string }>;

  beforeEach(async () => {
    people = { ann: await addPerson('ann'), bob: await addPerson('bob'), cy: await addPerson('cy') };
    group = `cn=staff,${ou.groups}`;
    await ou.admin.add(group, { objectClass: 'groupOfNames', cn: 'staff', member: [people.ann.dn, people.bob.dn] });
    groupAnchor = await ou.uuidOf(group);
  });

  it('adds and removes single members without rewriting the member list', async () => {
    expect(await exportOne(change({ kind: 'update', objectType: 'group', anchor: groupAnchor, dn: group, attributes: { member: { op: 'add', values: [people.cy.dn] } } }))).toMatchObject({
      outcome: 'applied',
    });
    expect((await lastLoggedModify(group)).filter((m) => m.startsWith('member:'))).toEqual([`member:+ ${people.cy.dn}`]);
    expect(await exportOne(change({ kind: 'update', objectType: 'group', anchor: groupAnchor, dn: group, attributes: { member: { op: 'remove', values: [people.ann.dn] } } }))).toMatchObject({
      outcome: 'applied',
    });
    expect((await lastLoggedModify(group)).filter((m) => m.startsWith('member:'))).toEqual([`member:- ${people.ann.dn}`]);
    expect(await values(group, 'member')).toEqual([people.bob.dn, people.cy.dn].sort());
  });

  it('takes a member already there (20) or already gone (16) as done', async () => {
    const again = change({ kind: 'update', objectType: 'group', anchor: groupAnchor, attributes: { member: { op: 'add', values: [people.ann.dn] } } });
    expect((await exportOne(again)).outcome).toBe('already-applied');
    const absent = change({ kind: 'update', objectType: 'group', anchor: groupAnchor, attributes: { member: { op: 'remove', values: [people.cy.dn] } } });
    expect((await exportOne(absent)).outcome).toBe('already-applied');
    const mixed = change({ kind: 'update', objectType: 'group', anchor: groupAnchor, attributes: { member: { op: 'add', values: [people.bob.dn, people.cy.dn] }, description: { op: 'replace', values: ['Staff'] } } });
    expect((await exportOne(mixed)).outcome).toBe('applied');
    expect(await values(group, 'member')).toEqual([people.ann.dn, people.bob.dn, people.cy.dn].sort());
    expect(await values(group, 'description')).toEqual(['Staff']);
  });

  it('refuses to remove the last member of a groupOfNames as a constraint violation', async () => {
    const result = await exportOne(change({ kind: 'update', objectType: 'group', anchor: groupAnchor, attributes: { member: { op: 'replace', values: [] } } }));
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: false });
    expect(result.error?.message).toContain('member');
  });

  it('refuses a member that is not a DN before sending anything', async () => {
    const result = await exportOne(change({ kind: 'update', objectType: 'group', anchor: groupAnchor, attributes: { member: { op: 'add', values: ['bob)(cn=*'] } } }));
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'OBJECT_REJECTED', retryable: false } });
    expect(result.error?.message).toContain('must be a distinguished name');
  });
});

describe('adds', () => {
  it('adds with the configured object classes, the RDN value filled in, and returns the new entryUUID', async () => {
    const dn = `uid=dora,${ou.people}`;
    const result = await exportOne(change({ kind: 'add', objectType: 'person', dn, attributes: replace({ cn: ['Dora'], sn: ['Example'], mail: ['dora@corp.example'] }) }));
    expect(result.outcome).toBe('applied');
    expect(result.anchor).toBe(await ou.uuidOf(dn));
    expect(await values(dn, 'uid')).toEqual(['dora']);
    expect(await values(dn, 'objectClass')).toContain('inetOrgPerson');
  });

  it('reports an existing entry with other values as OBJECT_ALREADY_EXISTS, changing nothing', async () => {
    const { dn } = await addPerson('eve', { mail: 'eve@corp.example' });
    const result = await exportOne(change({ kind: 'add', objectType: 'person', dn, attributes: replace({ cn: ['Person eve'], sn: ['Example'], mail: ['other@corp.example'] }) }));
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'OBJECT_ALREADY_EXISTS', retryable: false } });
    expect(result.error?.message).toContain('mail');
    expect(await values(dn, 'mail')).toEqual(['eve@corp.example']);
  });

  it('recognises an existing entry whose values differ only as the matching rules allow', async () => {
    const { dn, anchor } = await addPerson('fay', { mail: 'Fay@Corp.Example', manager: `uid=ann,${ou.people}` });
    const result = await exportOne(
      change({ kind: 'add', objectType: 'person', dn, attributes: replace({ cn: ['PERSON FAY'], sn: ['example'], mail: ['fay@corp.example'], manager: [`UID=Ann, OU=People,${ou.dn}`] }) }),
    );
    expect(result).toEqual({ id: expect.any(String), outcome: 'already-applied', anchor });
  });

  it('fails one add that breaks the schema alone, with a clear message; the others are applied', async () => {
    const results = await connector.export([
      change({ kind: 'add', objectType: 'person', dn: `uid=g1,${ou.people}`, attributes: replace({ cn: ['G1'], sn: ['X'] }) }),
      change({ kind: 'add', objectType: 'person', dn: `uid=g2,${ou.people}`, attributes: replace({ cn: ['G2'] }) }),
      change({ kind: 'add', objectType: 'person', dn: `uid=g3,${ou.people}`, attributes: replace({ cn: ['G3'], sn: ['X'], description: ['ok'] }) }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'failed', 'applied']);
    expect(results[1].error).toMatchObject({ code: 'OBJECT_CONSTRAINT_VIOLATION', retryable: false });
    expect(results[1].error?.message).toMatch(/objectClassViolation \(65\).*sn/);
    expect((await ou.admin.search(ou.people, { scope: 'one', filter: '(uid=g*)', attributes: ['1.1'] })).searchEntries).toHaveLength(2);
  });

  it('refuses a read-only attribute and a DN that does not parse, sending nothing', async () => {
    const readOnly = await exportOne(change({ kind: 'add', objectType: 'person', dn: `uid=h,${ou.people}`, attributes: replace({ cn: ['H'], sn: ['X'], entryUUID: ['x'] }) }));
    expect(readOnly.error).toMatchObject({ code: 'OBJECT_REJECTED', message: expect.stringContaining('entryUUID is read-only') });
    const badDn = await exportOne(change({ kind: 'add', objectType: 'person', dn: `uid=h,ou=people,${ou.dn},`, attributes: replace({ cn: ['H'], sn: ['X'] }) }));
    expect(badDn.error).toMatchObject({ code: 'OBJECT_REJECTED', message: expect.stringContaining('not a distinguished name') });
    expect(await ou.dnOf('x')).toBeUndefined();
  });

  it('reports a missing parent as OBJECT_NOT_FOUND', async () => {
    const result = await exportOne(change({ kind: 'add', objectType: 'person', dn: `uid=i,ou=nowhere,${ou.dn}`, attributes: replace({ cn: ['I'], sn: ['X'] }) }));
    expect(result.error).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
  });
});

describe('updates, deletes and renames', () => {
  it('finds the entry by anchor when its DN changed behind the engine\'s back', async () => {
    const { dn, anchor } = await addPerson('jo');
    await ou.admin.modifyDN(dn, `uid=jo,${ou.alumni}`);
    expect((await exportOne(change({ kind: 'update', objectType: 'person', anchor, dn, attributes: replace({ mail: ['jo@corp.example'] }) }))).outcome).toBe('applied');
    expect(await values(`uid=jo,${ou.alumni}`, 'mail')).toEqual(['jo@corp.example']);
  });

  it('never lets an anchor widen the search: a wildcard anchor finds nothing and changes nothing', async () => {
    await addPerson('kim');
    for (const anchor of ['*', '*)(objectClass=*', `${await ou.uuidOf(`uid=kim,${ou.people}`)})(uid=*`]) {
      const result = await exportOne(change({ kind: 'update', objectType: 'person', anchor, attributes: replace({ description: ['pwned'] }) }));
      expect(result.error).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      expect((await exportOne(change({ kind: 'delete', objectType: 'person', anchor }))).outcome).toBe('already-applied');
    }
    expect(await values(`uid=kim,${ou.people}`, 'description')).toEqual([]);
  });

  it('deletes, and takes a delete of an absent entry as done', async () => {
    const { dn, anchor } = await addPerson('lee');
    expect((await exportOne(change({ kind: 'delete', objectType: 'person', anchor, dn }))).outcome).toBe('applied');
    expect((await exportOne(change({ kind: 'delete', objectType: 'person', anchor, dn }))).outcome).toBe('already-applied');
    expect((await exportOne(change({ kind: 'delete', objectType: 'person', dn }))).outcome).toBe('already-applied');
  });

  it('refuses to delete an entry with entries below it', async () => {
    await addPerson('child');
    const result = await exportOne(change({ kind: 'delete', objectType: 'person', dn: ou.people }));
    expect(result.error).toMatchObject({ code: 'OBJECT_REJECTED', message: expect.stringContaining('has entries below it') });
  });

  it('renames and moves to DNs full of special characters, keeping entryUUID', async () => {
    const { dn, anchor } = await addPerson('mo');
    const newDn = `cn=${escapeDnValue('O\'Brien, Zoë #1 + "x" <y>; a=b\\')},${ou.alumni}`;
    expect((await exportOne(change({ kind: 'rename', objectType: 'person', anchor, dn, newDn }))).outcome).toBe('applied');
    const moved = await ou.dnOf(anchor);
    expect(dnKey(moved as string)).toBe(dnKey(newDn));
    expect(await values(moved as string, 'cn')).toContain('O\'Brien, Zoë #1 + "x" <y>; a=b\\');
    expect((await exportOne(change({ kind: 'rename', objectType: 'person', anchor, dn, newDn }))).outcome).toBe('already-applied');
  });

  it('reports a rename onto an existing entry as OBJECT_ALREADY_EXISTS', async () => {
    const { dn, anchor } = await addPerson('ned');
    const other = await addPerson('oli');
    const result = await exportOne(change({ kind: 'rename', objectType: 'person', anchor, dn, newDn: other.dn }));
    expect(result.error).toMatchObject({ code: 'OBJECT_ALREADY_EXISTS' });
  });
});

describe('round trips', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('resolves a batch of updates, deletes and renames by anchor in the given order, one anchor missing and one duplicated', async () => {
    // employeeNumber as anchor: unlike entryUUID, two entries can carry the same one.
    const workers = connectorFor({
      delta: { mode: 'modifyTimestamp' },
      objectTypes: [
        { name: 'person', baseDns: [ou.dn], objectClasses: ['inetOrgPerson'], attributes: ['uid', 'cn', 'sn', 'description'] },
        { name: 'worker', baseDns: [ou.dn], objectClasses: ['inetOrgPerson'], anchorAttribute: 'employeeNumber', attributes: ['uid', 'cn', 'sn', 'employeeNumber', 'description'] },
      ],
    });
    try {
      const w = Object.fromEntries(await Promise.all(['w1', 'w2', 'w3', 'w4'].map(async (uid, i) => [uid, await addPerson(uid, { employeeNumber: `E${i + 1}` })] as const)));
      await addPerson('dup-a', { employeeNumber: 'E-dup' });
      await addPerson('dup-b', { employeeNumber: 'E-dup' });
      await ou.admin.modifyDN(w.w4.dn, `uid=w4,${ou.alumni}`);
      const before = (await loggedWrites(ou.dn)).length;
      const renamed = `uid=w2b,${ou.alumni}`;
      const worker = (kind: ExportChange['kind'], anchor: string, fields: Partial<ExportChange> = {}) => change({ kind, objectType: 'worker', anchor, ...fields });
      const batch = [
        worker('update', 'E1', { attributes: replace({ description: ['first'] }) }),
        worker('rename', 'E2', { dn: w.w2.dn, newDn: renamed }),
        worker('update', 'E2', { dn: w.w2.dn, attributes: replace({ description: ['after the rename'] }) }),
        worker('update', 'E-missing', { attributes: replace({ description: ['x'] }) }),
        worker('delete', 'E-dup'),
        worker('delete', 'E3'),
        worker('update', 'E3', { attributes: replace({ description: ['too late'] }) }),
        worker('delete', 'E-missing'),
        worker('rename', 'E-missing', { newDn: `uid=nobody,${ou.alumni}` }),
        change({ kind: 'update', objectType: 'person', anchor: w.w4.anchor, dn: w.w4.dn, attributes: replace({ description: ['moved out of band'] }) }),
        worker('update', 'E1', { attributes: replace({ description: ['second'] }) }),
      ];
      await workers.schema();
      const requests = countRequests();
      const results = await workers.export(batch);
      const counts = requests.counts();
      jest.restoreAllMocks();
      expect(results.map((r) => r.id)).toEqual(batch.map((c) => c.id));
      // The root DSE and one lookup per object type; the rename's new DN is carried to the later update of the same entry.
      expect(counts).toMatchObject({ search: 3, modify: 4, modifyDN: 1, del: 1 });
      expect(results.map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied', 'failed', 'failed', 'applied', 'failed', 'already-applied', 'failed', 'applied', 'applied']);
      expect(results[3].error).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      expect(results[4].error).toMatchObject({ code: 'OBJECT_DUPLICATE_ANCHOR', message: expect.stringContaining('2 entries carry employeeNumber E-dup') });
      expect(results[6].error).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      expect(results[8].error).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      expect(await values(w.w1.dn, 'description')).toEqual(['second']);
      expect(await values(renamed, 'description')).toEqual(['after the rename']);
      expect(await values(`uid=w4,${ou.alumni}`, 'description')).toEqual(['moved out of band']);
      expect(await ou.dnOf(w.w3.anchor)).toBeUndefined();
      expect((await ou.admin.search(ou.people, { scope: 'one', filter: '(employeeNumber=E-dup)', attributes: ['1.1'] })).searchEntries).toHaveLength(2);
      expect((await loggedWrites(ou.dn)).slice(before)).toEqual(
        [`modify ${w.w1.dn}`, `modrdn ${w.w2.dn}`, `modify ${renamed}`, `delete ${w.w3.dn}`, `modify uid=w4,${ou.alumni}`, `modify ${w.w1.dn}`].map((entry) => {
          const [type, dn] = entry.split(/ (.*)/);
          return `${type} ${dnKey(dn)}`;
        }),
      );
    } finally {
      await workers.close();
    }
  });

  it.each([
    ['with the add (post-read control)', false],
    ['by one search per parent after the adds', true],
  ])('gives each add of a batch its own entryUUID, read %s', async (_how, lackingPostRead) => {
    if (lackingPostRead) withoutPostRead();
    const dns = [
      `uid=n1,${ou.people}`,
      `uid=n2,${ou.people}`,
      `cn=Multi+uid=n3,${ou.people}`,
      `uid=n4,${ou.alumni}`,
      `cn=${escapeDnValue('Smith, Ann + "Co" #2 <x>; a=b\\')},${ou.alumni}`,
      `uid=${escapeDnValue(' n6 ')},${ou.alumni}`,
    ];
    await connector.schema();
    const requests = countRequests();
    const results = await connector.export(dns.map((dn, i) => change({ kind: 'add', objectType: 'person', dn, attributes: replace({ cn: [i === 2 ? 'Multi' : `N ${i}`], sn: ['Example'] }) })));
    const counts = requests.counts();
    jest.restoreAllMocks();
    expect(results.map((r) => r.outcome)).toEqual(dns.map(() => 'applied'));
    for (const [i, dn] of dns.entries()) expect(results[i].anchor).toBe(await ou.uuidOf(dn));
    expect(new Set(results.map((r) => r.anchor)).size).toBe(dns.length);
    expect(counts.add).toBe(dns.length);
    // The root DSE, then nothing (post-read) or one search per parent DN.
    expect(counts.search).toBeLessThanOrEqual(lackingPostRead ? 3 : 1);
  });

  it('sends one request per object plus a few searches for 100 adds and 100 updates', async () => {
    await connector.schema();
    const dns = Array.from({ length: 100 }, (_, i) => `uid=r${i},${i % 2 ? ou.people : ou.alumni}`);
    const requests = countRequests();
    const added = await connector.export(dns.map((dn, i) => change({ kind: 'add', objectType: 'person', dn, attributes: replace({ cn: [`R ${i}`], sn: ['Example'] }) })));
    const afterAdds = requests.counts();
    const updated = await connector.export(
      added.map((r, i) => change({ kind: 'update', objectType: 'person', anchor: r.anchor, dn: dns[i], attributes: replace({ description: [`updated ${i}`] }) })),
    );
    const counts = requests.counts();
    jest.restoreAllMocks();
    expect(added.every((r) => r.outcome === 'applied' && r.anchor)).toBe(true);
    expect(updated.every((r) => r.outcome === 'applied')).toBe(true);
    expect(afterAdds).toMatchObject({ add: 100, modify: 0 });
    expect(afterAdds.search).toBeLessThanOrEqual(1);
    expect(counts).toMatchObject({ add: 100, modify: 100, del: 0, modifyDN: 0, compare: 0 });
    expect(counts.search - afterAdds.search).toBeLessThanOrEqual(2);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(200 + 3);
    expect(await values(dns[99], 'description')).toEqual(['updated 99']);
  });

  it('looks an anchor up again when its entry moved between the batch\'s lookup and the write', async () => {
    const { dn, anchor } = await addPerson('sly');
    const other = await addPerson('tom');
    const modify = Client.prototype.modify;
    jest.spyOn(Client.prototype, 'modify').mockImplementationOnce(async function (this: Client, ...args: Parameters<Client['modify']>) {
      await ou.admin.modifyDN(dn, `uid=sly,${ou.alumni}`);
      return modify.apply(this, args);
    });
    const results = await connector.export([
      change({ kind: 'update', objectType: 'person', anchor: other.anchor, attributes: replace({ description: ['first'] }) }),
      change({ kind: 'delete', objectType: 'person', anchor, dn }),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'applied']);
    expect(await ou.dnOf(anchor)).toBeUndefined();
  });
});

describe('connections the server drops', () => {
  it('reconnects between export batches', async () => {
    const proxy = await DroppingProxy.start();
    const viaProxy = connectorFor({ url: proxy.url });
    try {
      const { anchor } = await addPerson('pat');
      expect((await exportOne(change({ kind: 'update', objectType: 'person', anchor, attributes: replace({ mail: ['1@x'] }) }), viaProxy)).outcome).toBe('applied');
      proxy.dropAll();
      expect((await exportOne(change({ kind: 'update', objectType: 'person', anchor, attributes: replace({ mail: ['2@x'] }) }), viaProxy)).outcome).toBe('applied');
      expect(proxy.accepted).toBe(2);
      expect(await values(`uid=pat,${ou.people}`, 'mail')).toEqual(['2@x']);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('fails what it could not apply as retryable when the server goes away mid-batch', async () => {
    const proxy = await DroppingProxy.start();
    const viaProxy = connectorFor({ url: proxy.url });
    try {
      const people = [await addPerson('q1'), await addPerson('q2'), await addPerson('q3')];
      await viaProxy.schema();
      // Bound and schema read: the first delete gets through, then the server is gone.
      proxy.failAfter(1);
      const results = await viaProxy.export(people.map((p) => change({ kind: 'delete', objectType: 'person', dn: p.dn })));
      expect(results.map((r) => r.outcome)).toEqual(['applied', 'failed', 'failed']);
      for (const failed of results.slice(1)) expect(failed.error).toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true });
      expect(await ou.dnOf(people[0].anchor)).toBeUndefined();
      expect(await ou.dnOf(people[1].anchor)).toBeDefined();
      expect(await ou.dnOf(people[2].anchor)).toBeDefined();
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('fails the whole call as retryable when the directory cannot be reached at all', async () => {
    const unreachable = connectorFor({ url: 'ldap://127.0.0.1:1' });
    try {
      await expect(unreachable.export([change({ kind: 'delete', objectType: 'person', dn: `uid=x,${ou.people}` })])).rejects.toMatchObject({ code: 'CONNECTOR_UNREACHABLE', retryable: true });
    } finally {
      await unreachable.close();
    }
  });
});

