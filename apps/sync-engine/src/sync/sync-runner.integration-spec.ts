import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import type { ConnectorSchema } from '@identitymesh/connector-sdk';
import { AuditEventEntity, connectDatabase, ConnectorDefinition, ExportQueueItemEntity, migrateDatabase } from '@identitymesh/persistence';
import { SyncHarness } from '../testing/sync-harness';
import { SyncBatch } from './sync-batch';

jest.setTimeout(180_000);

const HR_SCHEMA: ConnectorSchema = {
  objectTypes: [
    {
      name: 'person',
      anchorAttribute: 'employeeId',
      attributes: [
        { name: 'employeeId', type: 'string' },
        { name: 'givenName', type: 'string' },
        { name: 'sn', type: 'string' },
        { name: 'title', type: 'string' },
        { name: 'status', type: 'string' },
        { name: 'managerId', type: 'reference', referenceBy: 'anchor' },
      ],
    },
  ],
};

const PHONEBOOK_SCHEMA: ConnectorSchema = {
  objectTypes: [
    {
      name: 'entry',
      anchorAttribute: 'id',
      attributes: [
        { name: 'id', type: 'string' },
        { name: 'employeeId', type: 'string' },
        { name: 'title', type: 'string' },
        { name: 'phone', type: 'string' },
        { name: 'mail', type: 'string' },
      ],
    },
  ],
};

const GROUPS_SCHEMA: ConnectorSchema = {
  objectTypes: [
    {
      name: 'group',
      anchorAttribute: 'groupId',
      attributes: [
        { name: 'groupId', type: 'string' },
        { name: 'members', type: 'string', multiValued: true },
      ],
    },
  ],
};

const LDAP_SCHEMA: ConnectorSchema = {
  objectTypes: [
    {
      name: 'user',
      anchorAttribute: 'entryUUID',
      attributes: [
        { name: 'uid', type: 'string' },
        { name: 'cn', type: 'string' },
        { name: 'displayName', type: 'string' },
        { name: 'title', type: 'string' },
        { name: 'employeeNumber', type: 'string' },
        { name: 'manager', type: 'reference', referenceBy: 'dn' },
        { name: 'description', type: 'string' },
        { name: 'userAccountControl', type: 'integer' },
        { name: 'userPassword', type: 'string' },
      ],
    },
  ],
};

const PEOPLE = 'ou=People,dc=example,dc=com';

describe.each(['sqlite', 'postgres'] as const)('sync runs on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let h: SyncHarness;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  // Rules apply to every connector's objects, so each test gets a database of its own.
  beforeEach(async () => {
    db = await createThrowawayDatabase(dialect);
    const counter = SyncHarness.counter();
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: counter.onQuery });
    await migrateDatabase(dataSource);
    h = new SyncHarness(dataSource);
    counter.attach(h);
  });
  afterEach(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** An HR feed projecting persons, with a composed display name and unique account name. */
  async function hrFeed(options: { batchSize?: number; errorThreshold?: number | null } = {}) {
    const hr = await h.connector('hr', HR_SCHEMA, options);
    await h.rule('scoping', hr.id, 'person', { condition: 'status != "terminated"' });
    await h.rule('projection', hr.id, 'person', { meshObjectType: 'person' });
    await h.rule('join', hr.id, 'person', { meshObjectType: 'person', mappings: [{ source: 'employeeId', meshAttribute: 'employeeId' }] });
    for (const [ordinal, target] of ['employeeId', 'givenName', 'sn', 'title'].entries()) await h.rule('import-flow', hr.id, 'person', { target, source: target }, ordinal + 1);
    await h.rule('import-flow', hr.id, 'person', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor' } }, 10);
    await h.rule('composer', null, 'person', { target: 'displayName', candidates: ['concat(givenName, " ", sn)'] }, 1);
    await h.rule('composer', null, 'person', { target: 'accountName', candidates: ['lower(left(givenName, 1) + sn)'], unique: { scope: 'accountName', maxLength: 20 } }, 2);
    return hr;
  }

  /** A directory every person is provisioned into, its DN from the account name. */
  async function directory(name = 'ldap') {
    const ldap = await h.connector(name, LDAP_SCHEMA);
    await h.rule('provisioning', ldap.id, 'person', { targetConnectorId: ldap.id, targetObjectType: 'user', dnTemplate: `uid={{accountName}},${PEOPLE}` });
    await h.rule('join', ldap.id, 'user', { meshObjectType: 'person', mappings: [{ source: 'employeeNumber', meshAttribute: 'employeeId' }] });
    const flows: Array<[string, string]> = [
      ['uid', 'accountName'],
      ['cn', 'displayName'],
      ['displayName', 'displayName'],
      ['title', 'title'],
      ['employeeNumber', 'employeeId'],
    ];
    for (const [ordinal, [target, source]] of flows.entries()) await h.rule('export-flow', ldap.id, 'user', { target, source }, ordinal + 1);
    await h.rule('export-flow', ldap.id, 'user', { target: 'manager', reference: { attribute: 'manager', by: 'dn' } }, 10);
    await h.rule('export-flow', ldap.id, 'user', { target: 'userPassword', source: '"Initial-" + employeeId', initialOnly: true }, 11);
    return ldap;
  }

  function hire(connector: ConnectorDefinition, id: string, givenName: string, sn: string, extra: Record<string, string[]> = {}) {
    h.system(connector.id).upsert('person', id, { employeeId: [id], givenName: [givenName], sn: [sn], title: ['Engineer'], status: ['active'], managerId: [], ...extra });
  }

  const queued = (connectorId: string) => dataSource.getRepository(ExportQueueItemEntity).find({ where: { connectorId, status: 'pending' }, order: { createdAt: 'ASC', seq: 'ASC' } });
  const auditOf = (runId: string) => dataSource.getRepository(AuditEventEntity).find({ where: { runId }, order: { at: 'ASC' } });

  it('projects persons, composes unique account names, resolves managers, provisions directory users with pending adds, and audits each mesh object', async () => {
    const hr = await hrFeed();
    const ldap = await directory();
    hire(hr, 'E3', 'Ann', 'Lee', { managerId: ['E1'] });
    hire(hr, 'E1', 'John', 'Doe');
    hire(hr, 'E2', 'Jane', 'Doe', { managerId: ['E1'] });
    await h.run(hr, 'full-import');

    const { outcome, run } = await h.run(hr, 'full-sync');
    expect(outcome).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(run).toMatchObject({ projected: 3, joined: 0, updated: 0, deleted: 0, added: 3, exported: 3, errors: 0 });

    const people = await h.mesh.list('person');
    expect(people).toHaveLength(3);
    const byEmployee = new Map(people.map((p) => [p.attributes['employeeId']?.value as string, p]));
    const e1 = byEmployee.get('E1');
    const e2 = byEmployee.get('E2');
    const e3 = byEmployee.get('E3');
    expect(new Set([e1?.attributes['accountName']?.value, e2?.attributes['accountName']?.value])).toEqual(new Set(['jdoe', 'jdoe2']));
    expect(e3?.attributes).toMatchObject({ accountName: { value: 'alee', connectorId: null }, displayName: { value: 'Ann Lee' }, manager: { value: e1?.id, reference: true, connectorId: hr.id } });
    expect(await h.mesh.referencesOf(e3?.id as string)).toEqual({ manager: [e1?.id] });
    expect((await h.uniqueValues.heldBy(e3?.id as string)).map((v) => v.value)).toEqual(['alee']);

    // Every HR object is joined and taken in.
    for (const cso of await h.space.list(hr.id)) expect(cso).toMatchObject({ pendingImport: 'none', meshObjectId: byEmployee.get(cso.anchor)?.id, isDisconnector: false });

    const users = await h.space.list(ldap.id);
    expect(users).toHaveLength(3);
    const e1Dn = `uid=${e1?.attributes['accountName']?.value},${PEOPLE}`;
    const e3User = users.find((u) => u.meshObjectId === e3?.id);
    expect(e3User).toMatchObject({ distinguishedName: `uid=alee,${PEOPLE}`, pendingExport: 'add', anchor: expect.stringMatching(/^provisional:/) });
    const items = await queued(ldap.id);
    expect(items).toHaveLength(3);
    const e3Add = items.find((item) => item.csObjectId === e3User?.id);
    expect(e3Add).toMatchObject({ operation: 'add', runId: run.id });
    expect(e3Add?.changes).toEqual({
      kind: 'add',
      objectType: 'user',
      dn: `uid=alee,${PEOPLE}`,
      attributes: {
        uid: { op: 'replace', values: ['alee'] },
        cn: { op: 'replace', values: ['Ann Lee'] },
        displayName: { op: 'replace', values: ['Ann Lee'] },
        title: { op: 'replace', values: ['Engineer'] },
        employeeNumber: { op: 'replace', values: ['E3'] },
        manager: { op: 'replace', values: [e1Dn] },
        userPassword: { op: 'replace', values: ['Initial-E3'] },
      },
    });

    const audit = await auditOf(run.id);
    expect(audit).toHaveLength(3);
    const e3Audit = audit.find((event) => event.targetId === e3?.id);
    expect(e3Audit).toMatchObject({ actorType: 'engine', action: 'mesh.create', targetType: 'mesh-object', before: null });
    expect((e3Audit?.after as { attributes: Record<string, unknown> }).attributes).toMatchObject({ employeeId: 'E3', displayName: 'Ann Lee', accountName: 'alee', manager: e1?.id });

    // Nothing changed: a delta sync has nothing to do, a full sync recomputes and writes nothing.
    expect((await h.run(hr, 'delta-sync')).run).toMatchObject({ status: 'succeeded', projected: 0, updated: 0, exported: 0 });
    const again = await h.run(hr, 'full-sync');
    expect(again.run).toMatchObject({ status: 'succeeded', projected: 0, updated: 0, added: 0, exported: 0 });
    expect(await auditOf(again.run.id)).toHaveLength(0);
    expect(await queued(ldap.id)).toHaveLength(3);
  });

  it('flows values from two connectors under precedence and recomputes a mesh object changed by both once per run', async () => {
    const hr = await hrFeed();
    const ldap = await directory();
    const phonebook = await h.connector('phonebook', PHONEBOOK_SCHEMA);
    await h.rule('join', phonebook.id, 'entry', { meshObjectType: 'person', mappings: [{ source: 'employeeId', meshAttribute: 'employeeId' }] });
    for (const [ordinal, [target, source]] of ([['title', 'title'], ['phone', 'phone'], ['mail', 'mail']] as const).entries()) {
      await h.rule('import-flow', phonebook.id, 'entry', { target, source }, ordinal + 1);
    }
    await h.precedence([
      { objectType: 'person', attributeName: 'title', connectorId: hr.id, rank: 20 },
      { objectType: 'person', attributeName: 'title', connectorId: phonebook.id, rank: 10 },
    ]);
    hire(hr, 'E1', 'Mia', 'Wong');
    h.system(phonebook.id).upsert('entry', 'P1', { id: ['P1'], employeeId: ['E1'], title: ['Eng.'], phone: ['+41 1'], mail: ['mia@example.com'] });
    await h.run(hr, 'full-import');
    await h.run(phonebook, 'full-import');
    await h.run(hr, 'full-sync');
    const joined = await h.run(phonebook, 'full-sync');
    expect(joined.run).toMatchObject({ status: 'succeeded', joined: 1, updated: 1 });

    const [mia] = (await h.mesh.list('person')).filter((p) => p.attributes['employeeId']?.value === 'E1');
    // The higher source keeps the title; the lower one fills what nobody else holds.
    expect(mia.attributes).toMatchObject({ title: { value: 'Engineer', connectorId: hr.id }, phone: { value: '+41 1', connectorId: phonebook.id }, mail: { value: 'mia@example.com', connectorId: phonebook.id } });

    // Both sources change the person; the HR sync recomputes it once, with both, and takes the phonebook's change in.
    hire(hr, 'E1', 'Mia', 'Wong', { title: ['Staff Engineer'] });
    h.system(phonebook.id).upsert('entry', 'P1', { id: ['P1'], employeeId: ['E1'], title: ['Senior Eng.'], phone: ['+41 2'], mail: ['mia@example.com'] });
    await h.run(hr, 'delta-import');
    await h.run(phonebook, 'delta-import');
    const { run } = await h.run(hr, 'delta-sync');
    expect(run).toMatchObject({ status: 'succeeded', updated: 1 });
    const audit = await auditOf(run.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'mesh.update', targetId: mia.id, before: { attributes: { title: 'Engineer', phone: '+41 1' } }, after: { attributes: { title: 'Staff Engineer', phone: '+41 2' } } });
    expect((await h.space.findByAnchor(phonebook.id, 'entry', 'P1'))?.pendingImport).toBe('none');
    const phonebookSync = await h.run(phonebook, 'delta-sync');
    expect(phonebookSync.run).toMatchObject({ status: 'succeeded', updated: 0, message: expect.stringMatching(/^delta sync succeeded: 0 objects in 0 batch\(es\)/) });

    // The directory account was never exported: its add goes out again, with the new title.
    const items = await queued(ldap.id);
    expect(items).toHaveLength(1);
    expect(items[0].changes).toMatchObject({ kind: 'add', attributes: { title: { op: 'replace', values: ['Staff Engineer'] } } });

    // A source that only joins can leave without ending the identity; what it held is released.
    h.system(phonebook.id).remove('entry', 'P1');
    await h.run(phonebook, 'delta-import');
    const left = await h.run(phonebook, 'delta-sync');
    expect(left.run).toMatchObject({ status: 'succeeded', deleted: 0, updated: 1 });
    const after = await h.mesh.findById(mia.id);
    expect(after?.attributes['phone']).toBeUndefined();
    expect(after?.attributes['title']).toMatchObject({ value: 'Staff Engineer', connectorId: hr.id });
    expect(await h.space.findByAnchor(phonebook.id, 'entry', 'P1')).toBeNull();
  });

  it('reports a join ambiguity as a per-object error, leaves that object pending and unjoined, and syncs the rest', async () => {
    const hr = await hrFeed();
    const badges = await h.connector('badges', { objectTypes: [{ name: 'badge', anchorAttribute: 'id', attributes: [{ name: 'id', type: 'string' }, { name: 'lastName', type: 'string' }] }] });
    await h.rule('join', badges.id, 'badge', { meshObjectType: 'person', mappings: [{ source: 'lastName', meshAttribute: 'sn' }] });
    hire(hr, 'E1', 'John', 'Stone');
    hire(hr, 'E2', 'Jane', 'Stone');
    hire(hr, 'E3', 'Ann', 'Quist');
    h.system(badges.id).upsert('badge', 'B1', { id: ['B1'], lastName: ['stone '] });
    h.system(badges.id).upsert('badge', 'B2', { id: ['B2'], lastName: ['QUIST'] });
    await h.run(hr, 'full-import');
    await h.run(hr, 'full-sync');
    await h.run(badges, 'full-import');
    const { outcome, run } = await h.run(badges, 'full-sync');

    expect(outcome).toMatchObject({ kind: 'finished', status: 'completed-with-errors', message: expect.stringContaining('completed with 1 failed objects') });
    expect(run).toMatchObject({ joined: 1, errors: 1 });
    const [error] = await h.runs.listObjectErrors(run.id);
    expect(error).toMatchObject({ code: 'JOIN_AMBIGUOUS', anchor: 'B1', message: expect.stringContaining('matched 2 mesh objects') });
    expect(await h.space.findByAnchor(badges.id, 'badge', 'B1')).toMatchObject({ pendingImport: 'add', meshObjectId: null });
    const quist = (await h.mesh.list('person')).find((p) => p.attributes['sn']?.value === 'Quist');
    expect(await h.space.findByAnchor(badges.id, 'badge', 'B2')).toMatchObject({ pendingImport: 'none', meshObjectId: quist?.id });
  });

  it('resolves references to objects later in the run in a second pass, and reports those that cannot resolve', async () => {
    const hr = await hrFeed({ batchSize: 2 });
    // In anchor order every manager comes after the person: the first pass cannot resolve one of them.
    hire(hr, 'E1', 'Amy', 'Ash', { managerId: ['E5'] });
    hire(hr, 'E2', 'Bob', 'Birch', { managerId: ['E5'] });
    hire(hr, 'E3', 'Cid', 'Cedar', { managerId: ['E4'] });
    hire(hr, 'E4', 'Dan', 'Dogwood', { managerId: ['E5'] });
    hire(hr, 'E5', 'Eve', 'Elm');
    hire(hr, 'E6', 'Fay', 'Fir', { managerId: ['E99'] });
    await h.run(hr, 'full-import');
    const { outcome, run } = await h.run(hr, 'full-sync');

    expect(outcome).toMatchObject({ status: 'completed-with-errors', message: expect.stringContaining('(3 evaluated again for references)') });
    expect(run).toMatchObject({ projected: 6, errors: 1 });
    const [error] = await h.runs.listObjectErrors(run.id);
    expect(error).toMatchObject({ code: 'REFERENCE_UNRESOLVED', anchor: 'E6', message: expect.stringContaining('manager=E99') });
    const people = new Map((await h.mesh.list('person')).map((p) => [p.attributes['employeeId']?.value as string, p]));
    const idOf = (id: string) => people.get(id)?.id;
    for (const [person, manager] of [['E1', 'E5'], ['E2', 'E5'], ['E3', 'E4'], ['E4', 'E5']]) expect(people.get(person)?.attributes['manager']?.value).toBe(idOf(manager));
    expect(people.get('E6')?.attributes['manager']).toBeUndefined();
    for (const cso of await h.space.list(hr.id)) expect(cso.pendingImport).toBe('none');
  });

  it('links group members named by another connector: a groups feed whose members are employee ids of the HR feed', async () => {
    const hr = await hrFeed();
    const groups = await h.connector('groups', GROUPS_SCHEMA, { batchSize: 2 });
    await h.rule('projection', groups.id, 'group', { meshObjectType: 'group' });
    await h.rule('join', groups.id, 'group', { meshObjectType: 'group', mappings: [{ source: 'groupId', meshAttribute: 'groupId' }] });
    await h.rule('import-flow', groups.id, 'group', { target: 'groupId', source: 'groupId' }, 1);
    await h.rule('import-flow', groups.id, 'group', { target: 'members', reference: { attribute: 'members', by: 'anchor', connectorId: hr.id, objectType: 'person' } }, 2);
    hire(hr, 'E1', 'John', 'Doe');
    hire(hr, 'E2', 'Jane', 'Doe', { managerId: ['E1'] });
    hire(hr, 'E3', 'Ann', 'Lee', { managerId: ['E1'] });
    // G1's E9 is nobody; G2's members are all there; G3 names a group anchor of its own connector, which the flow does not look at.
    h.system(groups.id).upsert('group', 'G1', { groupId: ['G1'], members: ['E1', 'E2', 'E9'] });
    h.system(groups.id).upsert('group', 'G2', { groupId: ['G2'], members: ['E2', 'E3'] });
    h.system(groups.id).upsert('group', 'G3', { groupId: ['G3'], members: ['G1'] });
    await h.run(hr, 'full-import');
    await h.run(hr, 'full-sync');
    await h.run(groups, 'full-import');

    const { outcome, run } = await h.run(groups, 'full-sync');
    expect(outcome).toMatchObject({ status: 'completed-with-errors' });
    expect(run).toMatchObject({ projected: 3, errors: 2 });
    const errors = await h.runs.listObjectErrors(run.id);
    expect(errors.map((e) => [e.code, e.anchor, e.message.match(/members=[^;,\s]+/g)])).toEqual([
      ['REFERENCE_UNRESOLVED', 'G1', ['members=E9']],
      ['REFERENCE_UNRESOLVED', 'G3', ['members=G1']],
    ]);
    const people = new Map((await h.mesh.list('person')).map((p) => [p.attributes['employeeId']?.value as string, p.id]));
    const meshGroups = new Map((await h.mesh.list('group')).map((g) => [g.attributes['groupId']?.value as string, g]));
    const membersOf = (id: string) => [...((meshGroups.get(id)?.attributes['members']?.value as string[] | undefined) ?? [])].sort();
    expect(membersOf('G1')).toEqual([people.get('E1'), people.get('E2')].sort());
    expect(membersOf('G2')).toEqual([people.get('E2'), people.get('E3')].sort());
    expect(membersOf('G3')).toEqual([]);
    expect(await h.mesh.referencesOf(meshGroups.get('G2')?.id as string)).toEqual({ members: [people.get('E2'), people.get('E3')].sort() });

    // A person who leaves the HR feed is a member no more once the groups feed says so.
    h.system(hr.id).remove('person', 'E3');
    h.system(groups.id).upsert('group', 'G2', { groupId: ['G2'], members: ['E2'] });
    await h.run(hr, 'full-import');
    expect((await h.run(hr, 'delta-sync')).run).toMatchObject({ status: 'succeeded', deleted: 1 });
    await h.run(groups, 'full-import');
    const groupDelta = (await h.run(groups, 'delta-sync')).run;
    const after = (await h.mesh.list('group')).find((g) => g.attributes['groupId']?.value === 'G2');
    expect(after?.attributes['members']?.value).toEqual([people.get('E2')]);
    expect(groupDelta).toMatchObject({ status: 'succeeded', errors: 0 });
  });

  it('deletes a mesh object when its last authoritative source goes, and deprovisions its objects by delete, disconnect and disable', async () => {
    const hr = await hrFeed();
    const deleting = await directory('deleting');
    await h.rule('deprovisioning', deleting.id, 'user', { action: 'delete' });
    const disconnecting = await directory('disconnecting');
    const disabling = await directory('disabling');
    await h.rule('deprovisioning', disabling.id, 'user', { action: 'disable', attributes: { userAccountControl: 'bitOr(int(userAccountControl), 2)', description: '"Disabled by IdentityMesh"' } });
    // Each directory already has John's account: provisioning finds it by its DN and joins it instead of creating a second one.
    for (const target of [deleting, disconnecting, disabling]) {
      h.system(target.id).upsert('user', `guid-${target.id}`, { uid: ['jdoe'], cn: ['John Doe'], displayName: ['John Doe'], title: ['Engineer'], employeeNumber: ['E1'], manager: [], userAccountControl: [512] }, `uid=jdoe,${PEOPLE}`);
      await h.run(target, 'full-import');
    }
    hire(hr, 'E1', 'John', 'Doe');
    hire(hr, 'E2', 'Jane', 'Roe');
    await h.run(hr, 'full-import');
    const first = await h.run(hr, 'full-sync');
    expect(first.run).toMatchObject({ status: 'succeeded', projected: 2, added: 3, exported: 3 });
    const john = (await h.mesh.list('person')).find((p) => p.attributes['employeeId']?.value === 'E1');
    const accounts = new Map<string, string>();
    for (const target of [deleting, disconnecting, disabling]) {
      const account = await h.space.findByAnchor(target.id, 'user', `guid-${target.id}`);
      expect(account).toMatchObject({ meshObjectId: john?.id, pendingExport: null });
      accounts.set(target.id, account?.id as string);
      // The existing account already holds the desired values: nothing to export for it.
      expect((await queued(target.id)).filter((item) => item.csObjectId === account?.id)).toEqual([]);
    }

    h.system(hr.id).remove('person', 'E1');
    await h.run(hr, 'delta-import');
    const { outcome, run } = await h.run(hr, 'delta-sync');
    expect(outcome).toMatchObject({ status: 'succeeded' });
    expect(run).toMatchObject({ deleted: 1, exported: 2 });
    expect(await h.mesh.findById(john?.id as string)).toBeNull();
    expect(await h.space.findByAnchor(hr.id, 'person', 'E1')).toBeNull();
    const [deleteItem] = (await queued(deleting.id)).filter((item) => item.csObjectId === accounts.get(deleting.id));
    expect(deleteItem).toMatchObject({ operation: 'delete', changes: { kind: 'delete', objectType: 'user', anchor: `guid-${deleting.id}`, dn: `uid=jdoe,${PEOPLE}` } });
    expect(await queued(disconnecting.id).then((items) => items.filter((item) => item.csObjectId === accounts.get(disconnecting.id)))).toEqual([]);
    const [disableItem] = (await queued(disabling.id)).filter((item) => item.csObjectId === accounts.get(disabling.id));
    expect(disableItem).toMatchObject({
      operation: 'update',
      changes: { kind: 'update', attributes: { userAccountControl: { op: 'replace', values: [514] }, description: { op: 'replace', values: ['Disabled by IdentityMesh'] } } },
    });
    for (const target of [deleting, disconnecting, disabling]) expect((await h.space.findByAnchor(target.id, 'user', `guid-${target.id}`))?.meshObjectId).toBeNull();
    const [deleted] = await auditOf(run.id);
    expect(deleted).toMatchObject({ action: 'mesh.delete', targetId: john?.id, after: { reason: 'last-authoritative-source-gone' } });

    // Leaving scope ends an identity too; an account whose add never went out is deleted whatever the rule says.
    hire(hr, 'E2', 'Jane', 'Roe', { status: ['terminated'] });
    await h.run(hr, 'delta-import');
    const left = await h.run(hr, 'delta-sync');
    expect(left.run).toMatchObject({ status: 'succeeded', deleted: 1 });
    expect(await h.space.findByAnchor(hr.id, 'person', 'E2')).toMatchObject({ isDisconnector: true, meshObjectId: null, pendingImport: 'none' });
    const janes = (await queued(disconnecting.id)).filter((item) => item.csObjectId !== accounts.get(disconnecting.id));
    expect(janes.map((item) => item.operation)).toEqual(['delete']);
  });

  it('previews a sync: the full change report, and nothing written to the mesh, the connector spaces or the export queue', async () => {
    const hr = await hrFeed();
    const ldap = await directory();
    hire(hr, 'E1', 'Lea', 'Park');
    hire(hr, 'E2', 'Max', 'Park', { managerId: ['E1'] });
    await h.run(hr, 'full-import');
    const meshBefore = await h.mesh.count('person');
    const { outcome, run } = await h.run(hr, 'full-sync', { preview: true });

    expect(outcome).toMatchObject({ status: 'succeeded', message: expect.stringMatching(/^full sync preview succeeded: .*2 mesh objects would be projected.*nothing was written but the change report$/) });
    expect(run).toMatchObject({ projected: 2, added: 2, exported: 2 });
    expect(await h.mesh.count('person')).toBe(meshBefore);
    for (const cso of await h.space.list(hr.id)) expect(cso).toMatchObject({ pendingImport: 'add', meshObjectId: null });
    expect(await h.space.list(ldap.id)).toEqual([]);
    expect(await queued(ldap.id)).toEqual([]);
    expect(await auditOf(run.id)).toEqual([]);

    const report = await h.runChanges.list(run.id);
    expect(report.map((line) => `${line.targetKind}:${line.changeType}`).sort()).toEqual(
      ['connector-space:project', 'connector-space:project', 'mesh:create', 'mesh:create', 'connector-space:provision', 'connector-space:provision', 'export:add', 'export:add'].sort(),
    );
    const create = report.find((line) => line.changeType === 'create' && (line.attributes['employeeId']?.after as string) === 'E2');
    expect(create?.attributes).toMatchObject({ displayName: { before: null, after: 'Max Park' }, accountName: { before: null, after: 'mpark' } });
    const add = report.find((line) => line.targetKind === 'export' && line.objectRef === `uid=mpark,${PEOPLE}`);
    expect(add?.attributes).toMatchObject({ uid: { before: null, after: 'mpark' }, manager: { before: null, after: `uid=lpark,${PEOPLE}` }, userPassword: { before: null, after: '[redacted]' } });
    expect(JSON.stringify(report)).not.toContain('Initial-');
  });

  it('resumes an interrupted full sync after its last committed batch, counting nothing twice', async () => {
    const hr = await hrFeed({ batchSize: 2 });
    for (let i = 1; i <= 6; i++) hire(hr, `E${i}`, `P${i}`, `Person${i}`);
    await h.run(hr, 'full-import');
    const controller = new AbortController();
    // Stop after the first batch committed: the next one is not started.
    const realRun = SyncBatch.prototype.run;
    const stopAfterFirst = jest.spyOn(SyncBatch.prototype, 'run').mockImplementationOnce(async function (this: SyncBatch, page) {
      const result = await realRun.call(this, page);
      controller.abort({ kind: 'shutdown' });
      return result;
    });
    const interrupted = await h.run(hr, 'full-sync', { signal: controller.signal });
    stopAfterFirst.mockRestore();
    expect(interrupted.outcome).toMatchObject({ kind: 'interrupted', message: expect.stringMatching(/^interrupted: the engine is shutting down; 2 objects in 1 batch\(es\)/) });
    expect(interrupted.run).toMatchObject({ status: 'queued', projected: 2 });

    const resumed = await h.run(hr, 'full-sync', { queue: false });
    expect(resumed.run.id).toBe(interrupted.run.id);
    expect(resumed.outcome).toMatchObject({ status: 'succeeded', message: expect.stringMatching(/^full sync succeeded: 4 objects in 2 batch\(es\)/) });
    expect(resumed.run).toMatchObject({ projected: 6, errors: 0 });
    expect(await h.mesh.count('person')).toBe(6);
    expect(await auditOf(resumed.run.id)).toHaveLength(6);
  });

  it('lets two connectors’ syncs run at once on the same mesh objects: a batch that lost the race is computed again', async () => {
    const hr = await hrFeed();
    const phonebook = await h.connector('phonebook', PHONEBOOK_SCHEMA);
    await h.rule('join', phonebook.id, 'entry', { meshObjectType: 'person', mappings: [{ source: 'employeeId', meshAttribute: 'employeeId' }] });
    await h.rule('import-flow', phonebook.id, 'entry', { target: 'phone', source: 'phone' });
    for (let i = 1; i <= 40; i++) {
      hire(hr, `E${i}`, `Given${i}`, `Family${i}`);
      h.system(phonebook.id).upsert('entry', `P${i}`, { id: [`P${i}`], employeeId: [`E${i}`], phone: [`+1 ${i}`] });
    }
    await h.run(hr, 'full-import');
    await h.run(phonebook, 'full-import');
    await h.run(hr, 'full-sync');
    await h.run(phonebook, 'full-sync');
    for (let i = 1; i <= 40; i++) {
      hire(hr, `E${i}`, `Given${i}`, `Family${i}`, { title: ['Lead'] });
      h.system(phonebook.id).upsert('entry', `P${i}`, { id: [`P${i}`], employeeId: [`E${i}`], phone: [`+2 ${i}`] });
    }
    await h.run(hr, 'delta-import');
    await h.run(phonebook, 'delta-import');
    const [a, b] = await Promise.all([h.run(hr, 'delta-sync'), h.run(phonebook, 'delta-sync')]);
    expect(a.run.status).toBe('succeeded');
    expect(b.run.status).toBe('succeeded');
    for (const person of await h.mesh.list('person')) {
      const n = String(person.attributes['employeeId']?.value).slice(1);
      expect(person.attributes).toMatchObject({ title: { value: 'Lead' }, phone: { value: `+2 ${n}` } });
    }
    expect((await h.space.countByPendingImport(hr.id)).none).toBe(40);
    expect((await h.space.countByPendingImport(phonebook.id)).none).toBe(40);
  });

  it('brings join keys in line with a join rule added later when the authoritative source is synced in full', async () => {
    const hr = await hrFeed();
    hire(hr, 'E1', 'Ida', 'Vale');
    await h.run(hr, 'full-import');
    await h.run(hr, 'full-sync');
    const badges = await h.connector('badges', { objectTypes: [{ name: 'badge', anchorAttribute: 'id', attributes: [{ name: 'id', type: 'string' }, { name: 'lastName', type: 'string' }] }] });
    await h.rule('join', badges.id, 'badge', { meshObjectType: 'person', mappings: [{ source: 'lastName', meshAttribute: 'sn' }] });
    h.system(badges.id).upsert('badge', 'B1', { id: ['B1'], lastName: ['Vale'] });
    await h.run(badges, 'full-import');
    expect((await h.run(badges, 'full-sync')).run).toMatchObject({ status: 'succeeded', joined: 0 });

    // Nothing of Ida changed, but the full sync writes the join keys the new rule needs.
    const resync = await h.run(hr, 'full-sync');
    expect(resync.run).toMatchObject({ status: 'succeeded', updated: 0 });
    const [ida] = await h.mesh.list('person');
    expect(await h.mesh.joinKeysOf(ida.id)).toEqual({ employeeId: ['e1'], sn: ['vale'] });
    expect((await h.run(badges, 'full-sync')).run).toMatchObject({ status: 'succeeded', joined: 1 });
  });
});
