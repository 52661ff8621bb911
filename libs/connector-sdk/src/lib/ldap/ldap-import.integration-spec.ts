/*
 * Imports against the real slapd: paged full imports, groups with DN
 * references, deltas through slapo-accesslog and modifyTimestamp, hostile
 * entries (R10) and a connection the server drops between batches.
 */
import { Attribute, Change } from 'ldapts';
import type { Connector, ImportBatch, ImportChange } from '../connector';
import type { LdapConnectorRawConfig } from './ldap-config';
import { ldapConnectorFactory } from './ldap-connector';
import { dnKey, escapeDnValue } from './ldap-dn';
import { ADMIN_SECRET_REF, DroppingProxy, lastWatermark, readAll, TEST_LDAP, testContext, TestOu } from './support/test-directory';

const person = (ou: TestOu, uid: string, extra: Record<string, string | string[]> = {}) => ({
  dn: `uid=${uid},${ou.people}`,
  attributes: { objectClass: 'inetOrgPerson', uid, cn: `Person ${uid}`, sn: 'Example', ...extra },
});

function connectorFor(ou: TestOu, overrides: Partial<LdapConnectorRawConfig> = {}): Connector {
  const config = ldapConnectorFactory.validate({
    url: TEST_LDAP.url,
    bindDn: TEST_LDAP.adminDn,
    bindPasswordSecret: ADMIN_SECRET_REF,
    objectTypes: [
      { name: 'person', baseDns: [ou.people], objectClasses: ['inetOrgPerson'], attributes: ['uid', 'cn', 'sn', 'mail'], referenceAttributes: ['manager'] },
      { name: 'group', baseDns: [ou.groups], objectClasses: ['groupOfNames'], attributes: ['cn', 'description'], referenceAttributes: ['member'] },
    ],
    ...overrides,
  });
  return ldapConnectorFactory.create(config, testContext({ [ADMIN_SECRET_REF]: TEST_LDAP.adminPassword }));
}

const changes = (batches: ImportBatch[]) => batches.flatMap((b) => b.changes);
const upsertOf = (all: ImportChange[], anchor: string) => all.find((c): c is Extract<ImportChange, { kind: 'upsert' }> => c.kind === 'upsert' && c.anchor === anchor);

describe('a paged full import of a few thousand entries', () => {
  const COUNT = 3000;
  let ou: TestOu;

  beforeAll(async () => {
    ou = await TestOu.create('paged');
    await ou.addAll(Array.from({ length: COUNT }, (_, i) => person(ou, `p${String(i).padStart(4, '0')}`)));
  }, 60_000);

  afterAll(async () => {
    await ou.remove();
  }, 60_000);

  it('delivers every entry once, in batches of batchSize, the watermark on the last batch only', async () => {
    const connector = connectorFor(ou, { pageSize: 250 });
    try {
      const batches = await readAll(connector.import({ mode: 'full', objectTypes: ['person'], batchSize: 400 }));
      expect(batches.map((b) => b.changes.length)).toEqual([400, 400, 400, 400, 400, 400, 400, 200]);
      expect(batches.slice(0, -1).every((b) => b.watermark === undefined)).toBe(true);
      expect(batches[batches.length - 1].watermark).toBeDefined();
      const anchors = changes(batches).map((c) => c.anchor);
      expect(new Set(anchors).size).toBe(COUNT);
      expect(batches.flatMap((b) => b.errors)).toEqual([]);
    } finally {
      await connector.close();
    }
  }, 60_000);

  it('pulls: a page is read only when the next batch is asked for', async () => {
    const connector = connectorFor(ou, { pageSize: 100 });
    const deleted: string[] = [];
    try {
      const stream = connector.import({ mode: 'full', objectTypes: ['person'], batchSize: 100 })[Symbol.asyncIterator]();
      const first = await stream.next();
      expect(first.done).toBe(false);
      // Entries the stream has not reached yet: if it had read the directory whole, they would still come.
      const { searchEntries } = await ou.admin.search(ou.people, { scope: 'one', filter: '(uid=p2*)', attributes: ['1.1'] });
      for (const entry of searchEntries) deleted.push(entry.dn);
      await Promise.all(deleted.map((dn) => ou.admin.del(dn)));
      let total = (first.value as ImportBatch).changes.length;
      for (let next = await stream.next(); !next.done; next = await stream.next()) total += next.value.changes.length;
      expect(deleted).toHaveLength(1000);
      expect(total).toBe(COUNT - 1000);
    } finally {
      await connector.close();
      await ou.addAll(deleted.map((dn) => person(ou, dn.slice(4, dn.indexOf(',')))));
    }
  }, 60_000);

  it('starts the search over and skips what it already delivered when the server drops the connection between batches', async () => {
    const proxy = await DroppingProxy.start();
    const connector = connectorFor(ou, { url: proxy.url, pageSize: 200 });
    try {
      const anchors: string[] = [];
      let batches = 0;
      for await (const batch of connector.import({ mode: 'full', objectTypes: ['person'], batchSize: 300 })) {
        anchors.push(...batch.changes.map((c) => c.anchor));
        if (++batches === 2) proxy.dropAll();
      }
      expect(proxy.accepted).toBeGreaterThanOrEqual(2);
      expect(anchors).toHaveLength(COUNT);
      expect(new Set(anchors).size).toBe(COUNT);
    } finally {
      await connector.close();
      await proxy.close();
    }
  }, 60_000);

  it('ends early, without a watermark, when the run is aborted', async () => {
    const connector = connectorFor(ou);
    const abort = new AbortController();
    try {
      const batches: ImportBatch[] = [];
      for await (const batch of connector.import({ mode: 'full', objectTypes: ['person'], batchSize: 500, signal: abort.signal })) {
        batches.push(batch);
        abort.abort();
      }
      expect(batches).toHaveLength(1);
      expect(lastWatermark(batches)).toBeUndefined();
    } finally {
      await connector.close();
    }
  });
});

describe('groups and references', () => {
  let ou: TestOu;
  let connector: Connector;

  beforeAll(async () => {
    ou = await TestOu.create('groups');
    connector = connectorFor(ou);
    await ou.addAll([person(ou, 'ann'), person(ou, 'bob')]);
    await ou.admin.add(`uid=cy,${ou.people}`, { ...person(ou, 'cy').attributes, manager: `uid=ann,${ou.people}` });
    await ou.admin.add(`cn=staff,${ou.groups}`, { objectClass: 'groupOfNames', cn: 'staff', member: [`uid=ann,${ou.people}`, `uid=bob,${ou.people}`, `uid=cy,${ou.people}`] });
  });

  afterAll(async () => {
    await connector.close();
    await ou.remove();
  });

  it('describes member and manager as references by dn, with types from the server schema', async () => {
    const schema = await connector.schema();
    const group = schema.objectTypes.find((t) => t.name === 'group');
    expect(group?.attributes.find((a) => a.name === 'member')).toEqual({ name: 'member', type: 'reference', referenceBy: 'dn', multiValued: true, required: true, readOnly: false });
    const personType = schema.objectTypes.find((t) => t.name === 'person');
    expect(personType?.attributes.find((a) => a.name === 'manager')).toEqual(expect.objectContaining({ type: 'reference', referenceBy: 'dn' }));
    expect(personType?.attributes.find((a) => a.name === 'entryUUID')).toEqual(expect.objectContaining({ readOnly: true }));
    expect(personType?.attributes.find((a) => a.name === 'sn')).toEqual(expect.objectContaining({ required: true }));
  });

  it('imports a group with its members as the DNs of the imported people', async () => {
    const all = changes(await readAll(connector.import({ mode: 'full', objectTypes: [] })));
    const people = all.filter((c) => c.objectType === 'person');
    const staff = all.find((c) => c.objectType === 'group');
    expect(people).toHaveLength(3);
    expect(staff?.kind === 'upsert' && staff.attributes['member'].map((dn) => dnKey(String(dn))).sort()).toEqual(people.map((p) => dnKey(String(p.dn))).sort());
    const cy = people.find((p) => p.dn?.startsWith('uid=cy'));
    expect(cy?.kind === 'upsert' && cy.attributes['manager']).toEqual([`uid=ann,${ou.people}`]);
  });
});

describe('delta import through slapo-accesslog', () => {
  let ou: TestOu;
  let connector: Connector;

  beforeEach(async () => {
    ou = await TestOu.create('delta');
    connector = connectorFor(ou);
    await ou.addAll(['kept', 'modified', 'renamed', 'moved-out', 'deleted', 'member'].map((uid) => person(ou, uid)));
    await ou.admin.add(`cn=team,${ou.groups}`, { objectClass: 'groupOfNames', cn: 'team', member: `uid=kept,${ou.people}` });
  });

  afterEach(async () => {
    await connector.close();
    await ou.remove();
  });

  it('sees adds, modifies, deletes, renames, moves out of scope and member changes; then nothing', async () => {
    const full = await readAll(connector.import({ mode: 'full', objectTypes: [] }));
    const uuid = async (uid: string) => ou.uuidOf(`uid=${uid},${ou.people}`);
    const ids = { modified: await uuid('modified'), renamed: await uuid('renamed'), movedOut: await uuid('moved-out'), deleted: await uuid('deleted'), team: await ou.uuidOf(`cn=team,${ou.groups}`) };

    await ou.admin.add(`uid=added,${ou.people}`, person(ou, 'added').attributes);
    await ou.admin.modifyDN(`uid=renamed,${ou.people}`, `uid=renamed-now`);
    await ou.admin.modifyDN(`uid=moved-out,${ou.people}`, `uid=moved-out,${ou.alumni}`);
    await ou.admin.del(`uid=deleted,${ou.people}`);
    await ou.admin.modify(`cn=team,${ou.groups}`, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [`uid=member,${ou.people}`] }) }));
    await ou.admin.modify(`uid=modified,${ou.people}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['new@corp.example'] }) }));
    const added = await uuid('added');

    const delta = await readAll(connector.import({ mode: 'delta', objectTypes: [], watermark: lastWatermark(full) }));
    const all = changes(delta);
    expect(delta.flatMap((b) => b.errors)).toEqual([]);
    const summary = all.map((c) => `${c.kind} ${c.objectType} ${c.anchor}`).sort();
    expect(summary).toEqual(
      [
        `upsert person ${added}`,
        `upsert person ${ids.modified}`,
        `upsert person ${ids.renamed}`,
        `delete person ${ids.movedOut}`,
        `delete person ${ids.deleted}`,
        `upsert group ${ids.team}`,
      ].sort(),
    );
    expect(upsertOf(all, ids.modified)?.attributes['mail']).toEqual(['new@corp.example']);
    expect(upsertOf(all, ids.renamed)?.dn).toBe(`uid=renamed-now,${ou.people}`);
    expect(upsertOf(all, ids.team)?.attributes['member']).toHaveLength(2);

    const again = await readAll(connector.import({ mode: 'delta', objectTypes: [], watermark: lastWatermark(delta) }));
    expect(changes(again)).toEqual([]);
  });

  it('puts a resume point on each batch of a long delta; resuming from any of them misses nothing', async () => {
    const full = await readAll(connector.import({ mode: 'full', objectTypes: ['person'] }));
    for (const uid of ['kept', 'modified', 'renamed', 'moved-out', 'deleted', 'member']) {
      await ou.admin.modify(`uid=${uid},${ou.people}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: [`${uid}@new.example`] }) }));
    }
    const delta = await readAll(connector.import({ mode: 'delta', objectTypes: ['person'], watermark: lastWatermark(full), batchSize: 2 }));
    expect(delta.map((b) => b.changes.length)).toEqual([2, 2, 2, 0]);
    expect(delta.every((b) => b.watermark !== undefined)).toBe(true);
    for (let i = 0; i < delta.length; i++) {
      const later = new Set(changes(delta.slice(i + 1)).map((c) => c.anchor));
      const resumed = new Set(changes(await readAll(connector.import({ mode: 'delta', objectTypes: ['person'], watermark: delta[i].watermark }))).map((c) => c.anchor));
      for (const anchor of later) expect(resumed.has(anchor)).toBe(true);
    }
  });
});

describe('delta import by modifyTimestamp', () => {
  let ou: TestOu;
  let connector: Connector;

  beforeAll(async () => {
    ou = await TestOu.create('mts');
    connector = connectorFor(ou, { delta: { mode: 'modifyTimestamp', overlapSeconds: 0 } });
    await ou.addAll([person(ou, 'a'), person(ou, 'b')]);
  });

  afterAll(async () => {
    await connector.close();
    await ou.remove();
  });

  it('sees changed entries; a delete is not seen (that needs a full import)', async () => {
    const full = await readAll(connector.import({ mode: 'full', objectTypes: ['person'] }));
    await ou.admin.modify(`uid=a,${ou.people}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['a@new.example'] }) }));
    const b = await ou.uuidOf(`uid=b,${ou.people}`);
    await ou.admin.del(`uid=b,${ou.people}`);
    const delta = changes(await readAll(connector.import({ mode: 'delta', objectTypes: ['person'], watermark: lastWatermark(full) })));
    expect(upsertOf(delta, await ou.uuidOf(`uid=a,${ou.people}`))?.attributes['mail']).toEqual(['a@new.example']);
    expect(delta.some((c) => c.anchor === b)).toBe(false);
    expect(delta.every((c) => c.kind === 'upsert')).toBe(true);
  });

  it('refuses a watermark of another delta mode, pointing to a full import', async () => {
    const accesslog = connectorFor(ou);
    try {
      const full = await readAll(accesslog.import({ mode: 'full', objectTypes: ['person'] }));
      await expect(readAll(connector.import({ mode: 'delta', objectTypes: ['person'], watermark: lastWatermark(full) }))).rejects.toMatchObject({
        code: 'CONNECTOR_CONFIG_INVALID',
        message: expect.stringContaining('run a full import'),
      });
    } finally {
      await accesslog.close();
    }
  });
});

describe('hostile directory data (R10)', () => {
  let ou: TestOu;

  beforeAll(async () => {
    ou = await TestOu.create('hostile');
    const add = (dn: string, attributes: Record<string, string | Buffer[]>) =>
      ou.admin.add(
        dn,
        Object.entries({ objectClass: 'inetOrgPerson', sn: 'Example', ...attributes }).map(([type, v]) => new Attribute({ type, values: typeof v === 'string' ? [v] : v })),
      );
    // Names that need every DN escape, and non-ASCII text.
    await add(`cn=${escapeDnValue('Smith, John')}+uid=js,${ou.people}`, { cn: 'Smith, John', uid: 'js', employeeNumber: '1' });
    await add(`cn=${escapeDnValue('#1 "quoted" <x>;=\\ ')},${ou.people}`, { cn: '#1 "quoted" <x>;=\\ ', employeeNumber: '2' });
    await add(`cn=Zoë Ångström,${ou.people}`, { cn: 'Zoë Ångström', employeeNumber: '3' });
    // audio has octet-string syntax: slapd keeps any bytes, here ones that are not UTF-8.
    await add(`cn=latin1,${ou.people}`, { cn: 'latin1', employeeNumber: '4', audio: [Buffer.from([0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e])] });
    await add(`cn=huge,${ou.people}`, { cn: 'huge', employeeNumber: '5', description: 'x'.repeat(300_000) });
    await add(`cn=injected,${ou.people}`, { cn: 'injected', employeeNumber: '6', seeAlso: `cn=x,${ou.people}`, description: '*)(uid=*))(|(uid=*' });
    await add(`cn=no-anchor,${ou.people}`, { cn: 'no-anchor' });
    await add(`cn=fine,${ou.people}`, { cn: 'fine', employeeNumber: '8' });
  });

  afterAll(async () => {
    await ou.remove();
  });

  it('fails each bad entry alone with a clear error; every other entry arrives, DNs intact', async () => {
    const connector = connectorFor(ou, {
      maxValueBytes: 100_000,
      delta: { mode: 'modifyTimestamp' },
      objectTypes: [
        {
          name: 'person',
          baseDns: [ou.people],
          objectClasses: ['inetOrgPerson'],
          anchorAttribute: 'employeeNumber',
          // audio read as text and description as a DN: what a misdeclared or tampered directory hands over.
          attributes: ['cn', { name: 'audio', type: 'string' }, 'seeAlso'],
          referenceAttributes: ['description'],
        },
      ],
    });
    try {
      const batches = await readAll(connector.import({ mode: 'full', objectTypes: ['person'], batchSize: 3 }));
      const errors = batches.flatMap((b) => b.errors);
      const imported = changes(batches);
      expect(errors.map((e) => [e.position.split(',')[0], e.code, e.anchor]).sort()).toEqual(
        [
          ['cn=huge', 'OBJECT_MALFORMED', '5'],
          ['cn=injected', 'OBJECT_MALFORMED', '6'],
          ['cn=latin1', 'OBJECT_MALFORMED', '4'],
          ['cn=no-anchor', 'OBJECT_MALFORMED', undefined],
        ].sort(),
      );
      const message = (cn: string) => errors.find((e) => e.position.startsWith(`cn=${cn},`))?.message;
      expect(message('latin1')).toContain('audio is not valid UTF-8');
      expect(message('huge')).toContain('description has 300000 bytes, over the limit of 100000');
      expect(message('injected')).toContain('description is not a distinguished name');
      expect(message('injected')).not.toContain('uid=*');
      expect(message('no-anchor')).toContain('has no employeeNumber');

      expect(imported.map((c) => c.anchor).sort()).toEqual(['1', '2', '3', '8']);
      expect(upsertOf(imported, '1')?.attributes['cn']).toEqual(['Smith, John']);
      expect(dnKey(String(upsertOf(imported, '1')?.dn))).toBe(dnKey(`uid=js+cn=Smith\\, John,${ou.people}`));
      expect(upsertOf(imported, '2')?.attributes['cn']).toEqual(['#1 "quoted" <x>;=\\ ']);
      expect(dnKey(String(upsertOf(imported, '2')?.dn))).toBe(dnKey(`cn=${escapeDnValue('#1 "quoted" <x>;=\\ ')},${ou.people}`));
      expect(upsertOf(imported, '3')?.attributes['cn']).toEqual(['Zoë Ångström']);
    } finally {
      await connector.close();
    }
  });
});
