/*
 * Exports against the real slapd: group membership by value, idempotent
 * retries, per-object failures with their codes, values that must never
 * widen a search or split a DN, and connections the server drops.
 */
import type { Connector, ExportChange, ExportResult } from '../connector';
import type { LdapConnectorRawConfig } from './ldap-config';
import { ldapConnectorFactory } from './ldap-connector';
import { dnKey, escapeDnValue } from './ldap-dn';
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

