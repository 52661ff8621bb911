import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import type { ConnectorSchema } from '@identitymesh/connector-sdk';
import { connectDatabase, ExportQueueItemEntity, migrateDatabase } from '@identitymesh/persistence';
import { SyncHarness } from '../testing/sync-harness';

jest.setTimeout(300_000);

/** A source directory: people and groups whose members name people by employee id. */
const SOURCE_SCHEMA: ConnectorSchema = {
  objectTypes: [
    { name: 'person', anchorAttribute: 'employeeId', attributes: [{ name: 'employeeId', type: 'string' }] },
    {
      name: 'group',
      anchorAttribute: 'cn',
      attributes: [
        { name: 'cn', type: 'string' },
        { name: 'member', type: 'reference', multiValued: true, referenceBy: 'anchor' },
      ],
    },
  ],
};

/** A target directory: users and groups whose members are DNs. */
const TARGET_SCHEMA: ConnectorSchema = {
  objectTypes: [
    {
      name: 'user',
      anchorAttribute: 'uid',
      attributes: [
        { name: 'uid', type: 'string' },
        { name: 'employeeNumber', type: 'string' },
      ],
    },
    {
      name: 'group',
      anchorAttribute: 'cn',
      attributes: [
        { name: 'cn', type: 'string' },
        { name: 'member', type: 'reference', multiValued: true, referenceBy: 'dn' },
      ],
    },
  ],
};

const HR_SCHEMA: ConnectorSchema = {
  objectTypes: [
    {
      name: 'person',
      anchorAttribute: 'employeeId',
      attributes: [
        { name: 'employeeId', type: 'string' },
        { name: 'givenName', type: 'string' },
        { name: 'sn', type: 'string' },
        { name: 'department', type: 'string' },
        { name: 'managerId', type: 'reference', referenceBy: 'anchor' },
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
        { name: 'ou', type: 'string' },
        { name: 'employeeNumber', type: 'string' },
        { name: 'manager', type: 'reference', referenceBy: 'dn' },
      ],
    },
  ],
};

describe.each(['sqlite', 'postgres'] as const)('sync statements on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let h: SyncHarness;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
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

  const pending = (connectorId: string) => dataSource.getRepository(ExportQueueItemEntity).find({ where: { connectorId, status: 'pending' }, order: { seq: 'ASC' } });

  /**
   * A group of `size` members in a source directory, mirrored in a target
   * directory that already holds it. Then one member leaves and another
   * joins: returns the statements of the source's delta sync and what it
   * queued for the target.
   */
  async function oneMemberChange(size: number) {
    const prefix = `S${size}-`;
    const source = await h.connector(`source ${size}`, SOURCE_SCHEMA);
    const target = await h.connector(`target ${size}`, TARGET_SCHEMA);
    await h.rule('projection', source.id, 'person', { meshObjectType: 'person' });
    await h.rule('projection', source.id, 'group', { meshObjectType: 'group' });
    await h.rule('import-flow', source.id, 'person', { target: 'employeeId', source: 'employeeId' });
    await h.rule('import-flow', source.id, 'group', { target: 'cn', source: 'cn' });
    await h.rule('import-flow', source.id, 'group', { target: 'members', reference: { attribute: 'member', by: 'anchor' } }, 2);
    await h.rule('join', target.id, 'user', { meshObjectType: 'person', mappings: [{ source: 'employeeNumber', meshAttribute: 'employeeId' }] });
    await h.rule('join', target.id, 'group', { meshObjectType: 'group', mappings: [{ source: 'cn', meshAttribute: 'cn' }] });
    await h.rule('export-flow', target.id, 'group', { target: 'member', reference: { attribute: 'members', by: 'dn' } });

    const id = (i: number) => `${prefix}${String(i).padStart(5, '0')}`;
    const dn = (i: number) => `uid=${id(i)},ou=People,dc=example,dc=com`;
    const members = Array.from({ length: size }, (_, i) => i);
    for (let i = 0; i <= size; i++) {
      h.system(source.id).upsert('person', id(i), { employeeId: [id(i)] });
      h.system(target.id).upsert('user', id(i), { uid: [id(i)], employeeNumber: [id(i)] }, dn(i));
    }
    h.system(source.id).upsert('group', `${prefix}staff`, { cn: [`${prefix}staff`], member: members.map(id) });
    h.system(target.id).upsert('group', `${prefix}staff`, { cn: [`${prefix}staff`], member: members.map(dn) }, `cn=${prefix}staff,ou=Groups,dc=example,dc=com`);
    await h.run(source, 'full-import');
    expect((await h.run(source, 'full-sync')).run).toMatchObject({ status: 'succeeded', projected: size + 2 });
    await h.run(target, 'full-import');
    expect((await h.run(target, 'full-sync')).run).toMatchObject({ status: 'succeeded', joined: size + 2, exported: 0 });

    // Member 0 leaves the group, member `size` joins it.
    h.system(source.id).upsert('group', `${prefix}staff`, { cn: [`${prefix}staff`], member: [...members.slice(1), size].map(id) });
    await h.run(source, 'delta-import');
    const { result, statements } = await h.countStatements(() => h.run(source, 'delta-sync'));
    expect(result.run).toMatchObject({ status: 'succeeded', updated: 1, exported: 2 });
    return { statements, items: await pending(target.id), dn };
  }

  it('turns one member change of a large group into one remove and one add of one value each, with a statement count that does not grow with the group', async () => {
    const small = await oneMemberChange(100);
    const large = await oneMemberChange(1_000);
    for (const { items, dn } of [small, large]) {
      expect(items.map((item) => item.changes)).toEqual([
        { kind: 'update', objectType: 'group', anchor: expect.any(String), dn: expect.any(String), attributes: { member: { op: 'remove', values: [dn(0)] } } },
        { kind: 'update', objectType: 'group', anchor: expect.any(String), dn: expect.any(String), attributes: { member: { op: 'add', values: [dn(items === small.items ? 100 : 1_000)] } } },
      ]);
    }
    expect(large.statements).toBe(small.statements);
    process.stdout.write(`${dialect}: delta sync of one member change: ${small.statements} statements for a 100-member group, ${large.statements} for a 1,000-member group\n`);
  });

  it('runs a full sync of 2,000 people (projection, composers, managers, provisioning, export flows) within its statement budget', async () => {
    const hr = await h.connector('hr', HR_SCHEMA);
    const ldap = await h.connector('ldap', LDAP_SCHEMA);
    await h.rule('projection', hr.id, 'person', { meshObjectType: 'person' });
    for (const [ordinal, target] of ['employeeId', 'givenName', 'sn', 'department'].entries()) await h.rule('import-flow', hr.id, 'person', { target, source: target }, ordinal + 1);
    await h.rule('import-flow', hr.id, 'person', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor' } }, 10);
    await h.rule('composer', null, 'person', { target: 'displayName', candidates: ['concat(givenName, " ", sn)'] }, 1);
    await h.rule('composer', null, 'person', { target: 'accountName', candidates: ['lower(left(givenName, 1) + sn)'], unique: { scope: 'accountName' } }, 2);
    await h.rule('provisioning', ldap.id, 'person', { targetConnectorId: ldap.id, targetObjectType: 'user', dnTemplate: 'uid={{accountName}},ou={{department}},dc=example,dc=com' });
    for (const [ordinal, [target, source]] of ([['uid', 'accountName'], ['cn', 'displayName'], ['ou', 'department'], ['employeeNumber', 'employeeId']] as const).entries()) {
      await h.rule('export-flow', ldap.id, 'user', { target, source }, ordinal + 1);
    }
    await h.rule('export-flow', ldap.id, 'user', { target: 'manager', reference: { attribute: 'manager', by: 'dn' } }, 10);

    const people = 2_000;
    const givenNames = ['John', 'Jane', 'Alex', 'Maria', 'Li', 'Omar', 'Anna', 'Paul', 'Sara', 'Ivan'];
    const surnames = ['Smith', 'Jones', 'Brown', 'Taylor', 'Wilson', 'Moore', 'Clark', 'Lewis', 'Walker', 'Young', 'King', 'Wright', 'Green', 'Baker', 'Adams', 'Nelson', 'Hill', 'Scott', 'Evans', 'Turner'];
    for (let i = 0; i < people; i++) {
      const id = `E${String(i).padStart(5, '0')}`;
      // Managers are people with lower numbers, so some come after their reports in a page and some before; duplicate names force counters (jsmith2, …).
      const manager = i === 0 ? [] : [`E${String(Math.floor(i / 10)).padStart(5, '0')}`];
      h.system(hr.id).upsert('person', id, { employeeId: [id], givenName: [givenNames[i % givenNames.length]], sn: [surnames[Math.floor(i / givenNames.length) % surnames.length]], department: [`Dept${i % 7}`], managerId: manager });
    }
    await h.run(hr, 'full-import');
    const { result, statements } = await h.countStatements(() => h.run(hr, 'full-sync'));
    expect(await h.runs.listObjectErrors(result.run.id)).toEqual([]);
    expect(result.outcome).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(result.run).toMatchObject({ projected: people, added: people, exported: people, errors: 0 });
    const accountNames = (await h.mesh.list('person', { limit: people })).map((p) => p.attributes['accountName']?.value);
    expect(new Set(accountNames).size).toBe(people);
    // Everything the run sends: queue, lease, claim, rules, batches, the second pass, the end. A count, not a time.
    expect(statements / people).toBeLessThanOrEqual(0.075);
    process.stdout.write(`${dialect}: full sync of 2,000 people: ${statements} statements (${(statements / people).toFixed(3)} per object)\n`);

    const { statements: unchanged } = await h.countStatements(() => h.run(hr, 'full-sync'));
    expect(unchanged / people).toBeLessThanOrEqual(0.04);
    process.stdout.write(`${dialect}: unchanged full sync of 2,000 people: ${unchanged} statements\n`);
  });
});
