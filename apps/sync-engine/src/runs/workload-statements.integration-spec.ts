import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ConnectorSchema } from '@identitymesh/connector-sdk';
import { generateDelta, generatePopulation, type Group, type Person } from '@identitymesh/identity-generator';
import { connectDatabase, migrateDatabase, type ConnectorDefinition, type JsonObject } from '@identitymesh/persistence';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { SyncHarness } from '../testing/sync-harness';

jest.setTimeout(300_000);

/**
 * The statement budgets of the benchmark's workloads (docs/benchmarks.md) on
 * a 2,000-person feed of the identity generator: W1 (full import of people
 * and groups), W3 (their first full sync with composers, cross-connector
 * memberships and provisioning into a directory), and the delta import and
 * delta sync of W2/W3d. Statements are counted, not timed: the count is the
 * same on every machine, and a query per object in a loop shows up here long
 * before it shows up in a timing. `npm run bench` measures the times.
 */

const HR_PEOPLE: ConnectorSchema = {
  objectTypes: [
    {
      name: 'person',
      anchorAttribute: 'employeeId',
      attributes: [
        ...['employeeId', 'givenName', 'sn', 'preferredName', 'department', 'title', 'location', 'hireDate', 'employmentStatus', 'mobile'].map((name) => ({ name, type: 'string' as const })),
        { name: 'manager', type: 'reference', referenceBy: 'anchor' },
      ],
    },
  ],
};

const HR_GROUPS: ConnectorSchema = {
  objectTypes: [
    {
      name: 'group',
      anchorAttribute: 'groupId',
      attributes: [
        { name: 'groupId', type: 'string' },
        { name: 'name', type: 'string' },
        { name: 'kind', type: 'string' },
        { name: 'members', type: 'string', multiValued: true },
        { name: 'memberGroups', type: 'reference', multiValued: true, referenceBy: 'anchor' },
      ],
    },
  ],
};

const DIRECTORY: ConnectorSchema = {
  objectTypes: [
    {
      name: 'user',
      anchorAttribute: 'entryUUID',
      attributes: [
        ...['uid', 'cn', 'sn', 'givenName', 'mail', 'title', 'ou', 'employeeNumber'].map((name) => ({ name, type: 'string' as const })),
        { name: 'manager', type: 'reference', referenceBy: 'dn' },
      ],
    },
    {
      name: 'group',
      anchorAttribute: 'entryUUID',
      attributes: [
        { name: 'cn', type: 'string' },
        { name: 'member', type: 'reference', multiValued: true, referenceBy: 'dn' },
      ],
    },
  ],
};

/** The person as the HR feed's csv connector stages it (docs/identity-generator.md, Files). */
function personAttributes(person: Person): Record<string, string[]> {
  const one = (value: string | undefined) => (value ? [value] : []);
  return {
    employeeId: [person.employeeId],
    givenName: [person.givenName],
    sn: [person.surname],
    preferredName: one(person.preferredName),
    department: [person.department],
    title: [person.title],
    manager: one(person.manager),
    location: [person.location],
    hireDate: [person.hireDate],
    employmentStatus: [person.employmentStatus],
    mobile: [person.mobile],
  };
}

function groupAttributes(group: Group): Record<string, string[]> {
  return { groupId: [group.groupId], name: [group.name], kind: [group.kind], members: [...group.members], memberGroups: [...group.memberGroups] };
}

describe.each(['sqlite', 'postgres'] as const)('statements of the benchmark workloads on a 2,000-person feed, %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let h: SyncHarness;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createThrowawayDatabase(dialect);
    const counter = SyncHarness.counter();
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: counter.onQuery });
    await migrateDatabase(dataSource);
    h = new SyncHarness(dataSource);
    counter.attach(h);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
  });

  /** The rules of tools/bench's HR configuration: projection, flows, composers, cross-connector members, provisioning. */
  async function configure(people: ConnectorDefinition, groups: ConnectorDefinition, directory: ConnectorDefinition): Promise<void> {
    const rule = (kind: Parameters<SyncHarness['rule']>[0], connectorId: string | null, objectType: string, definition: JsonObject, ordinal = 1) => h.rule(kind, connectorId, objectType, definition, ordinal);
    await rule('projection', people.id, 'person', { meshObjectType: 'person' });
    const flows: Array<[string, string]> = [
      ['employeeId', 'employeeId'],
      ['givenName', 'coalesce(preferredName, givenName)'],
      ['sn', 'sn'],
      ['department', 'department'],
      ['title', 'title'],
      ['location', 'location'],
      ['employmentStatus', 'employmentStatus'],
      ['mobile', 'mobile'],
    ];
    for (const [ordinal, [target, source]] of flows.entries()) await rule('import-flow', people.id, 'person', { target, source }, ordinal + 1);
    await rule('import-flow', people.id, 'person', { target: 'manager', reference: { attribute: 'manager', by: 'anchor' } }, 20);
    await rule('composer', null, 'person', { target: 'displayName', candidates: ['concat(givenName, " ", sn)'] }, 1);
    await rule(
      'composer',
      null,
      'person',
      { target: 'accountName', candidates: ['lower(left(normalize(givenName), 1) + alphanumeric(normalize(sn)))', 'lower(alphanumeric(normalize(givenName)) + "." + alphanumeric(normalize(sn)))'], unique: { scope: 'accountName', maxLength: 20 } },
      2,
    );
    await rule('composer', null, 'person', { target: 'mail', candidates: ['accountName + "@identitymesh.test"'] }, 3);
    await rule('projection', groups.id, 'group', { meshObjectType: 'group' });
    await rule('import-flow', groups.id, 'group', { target: 'groupId', source: 'groupId' }, 1);
    await rule('import-flow', groups.id, 'group', { target: 'name', source: 'name' }, 2);
    await rule('import-flow', groups.id, 'group', { target: 'kind', source: 'kind' }, 3);
    await rule('import-flow', groups.id, 'group', { target: 'members', reference: { attribute: 'members', by: 'anchor', connectorId: people.id, objectType: 'person' } }, 4);
    await rule('import-flow', groups.id, 'group', { target: 'memberGroups', reference: { attribute: 'memberGroups', by: 'anchor' } }, 5);
    await rule('provisioning', directory.id, 'person', { targetConnectorId: directory.id, targetObjectType: 'user', dnTemplate: 'uid={{accountName}},ou=people,dc=example,dc=com' });
    const userFlows: Array<[string, string]> = [
      ['uid', 'accountName'],
      ['cn', 'displayName'],
      ['sn', 'sn'],
      ['givenName', 'givenName'],
      ['mail', 'mail'],
      ['title', 'title'],
      ['ou', 'department'],
      ['employeeNumber', 'employeeId'],
    ];
    for (const [ordinal, [target, source]] of userFlows.entries()) await rule('export-flow', directory.id, 'user', { target, source }, ordinal + 1);
    await rule('export-flow', directory.id, 'user', { target: 'manager', reference: { attribute: 'manager', by: 'dn' } }, 20);
    await rule('provisioning', directory.id, 'group', { targetConnectorId: directory.id, targetObjectType: 'group', dnTemplate: 'cn={{name}},ou=groups,dc=example,dc=com' });
    await rule('export-flow', directory.id, 'group', { target: 'cn', source: 'name' }, 1);
    await rule('export-flow', directory.id, 'group', { target: 'member', reference: { attribute: 'members', by: 'dn' } }, 2);
  }

  it('imports, syncs and applies a delta of the HR feed within the statement budgets', async () => {
    let population = generatePopulation({ seed: 7, people: 2_000 });
    const people = await h.connector('hr people', HR_PEOPLE);
    const groups = await h.connector('hr groups', HR_GROUPS);
    const directory = await h.connector('directory', DIRECTORY);
    await configure(people, groups, directory);
    for (const person of population.people) h.system(people.id).upsert('person', person.employeeId, personAttributes(person));
    for (const group of population.groups) h.system(groups.id).upsert('group', group.groupId, groupAttributes(group));
    const objects = population.people.length + population.groups.length;

    // W1: everything each run sends, lease, claim and end included.
    const imported = await h.countStatements(async () => [await h.run(people, 'full-import'), await h.run(groups, 'full-import')]);
    expect(imported.result.map((r) => r.run.status)).toEqual(['succeeded', 'succeeded']);
    expect(imported.result.reduce((n, r) => n + r.run.added, 0)).toBe(objects);
    process.stdout.write(`${dialect}: W1 full import of ${objects} objects: ${imported.statements} statements (${(imported.statements / objects).toFixed(4)} per object)\n`);
    expect(imported.statements / objects).toBeLessThanOrEqual(0.05);

    // W3: the first full sync, people first (the groups' members name them).
    const synced = await h.countStatements(async () => [await h.run(people, 'full-sync'), await h.run(groups, 'full-sync')]);
    expect(synced.result.map((r) => r.run.status)).toEqual(['succeeded', 'succeeded']);
    expect(synced.result.map((r) => r.run.projected)).toEqual([population.people.length, population.groups.length]);
    process.stdout.write(`${dialect}: W3 full sync of ${objects} objects: ${synced.statements} statements (${(synced.statements / objects).toFixed(4)} per object)\n`);
    expect(synced.statements / objects).toBeLessThanOrEqual(0.1);

    // W2 and W3d: a delta of the standard churn (1 % hires, 1 % leavers, 5 % modifies, memberships).
    const delta = generateDelta(population, { seed: 8 });
    population = delta.population;
    for (const change of delta.changes.people) {
      if (change.kind === 'leave') h.system(people.id).remove('person', change.employeeId);
      else h.system(people.id).upsert('person', change.employeeId, personAttributes(change.after));
    }
    const byId = new Map(population.groups.map((g) => [g.groupId, g]));
    for (const change of delta.changes.groups) h.system(groups.id).upsert('group', change.groupId, groupAttributes(byId.get(change.groupId) as Group));
    const changed = delta.changes.people.length + delta.changes.groups.length;

    const deltaImported = await h.countStatements(async () => [await h.run(people, 'delta-import'), await h.run(groups, 'delta-import')]);
    expect(deltaImported.result.reduce((n, r) => n + r.run.added + r.run.updated + r.run.deleted, 0)).toBe(changed);
    process.stdout.write(`${dialect}: W2 delta import of ${changed} changed objects: ${deltaImported.statements} statements\n`);
    expect(deltaImported.statements / changed).toBeLessThanOrEqual(0.35);

    const deltaSynced = await h.countStatements(async () => [await h.run(people, 'delta-sync'), await h.run(groups, 'delta-sync')]);
    expect(deltaSynced.result.map((r) => r.run.status)).toEqual(['succeeded', 'succeeded']);
    process.stdout.write(`${dialect}: W3d delta sync of ${changed} changed objects: ${deltaSynced.statements} statements\n`);
    expect(deltaSynced.statements / changed).toBeLessThanOrEqual(0.6);
  });
});
