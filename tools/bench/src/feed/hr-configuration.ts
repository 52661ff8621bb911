import type { ConnectorDefinition, JsonObject } from '@identitymesh/persistence';
import type { BenchSettings } from '../bench-settings';
import type { EngineSession } from '../harness/engine-session';

/** The secret reference of the benchmark directory's bind password. */
export const LDAP_BIND_SECRET = 'bench/ldap/admin-password';

/** The target directory's object types as the connector reports them (stored with the connector, as the Admin API does). */
export const DIRECTORY_SCHEMA: JsonObject[] = [
  {
    name: 'user',
    anchorAttribute: 'entryUUID',
    attributes: [
      { name: 'entryUUID', type: 'string', readOnly: true },
      { name: 'uid', type: 'string' },
      { name: 'cn', type: 'string', required: true },
      { name: 'sn', type: 'string', required: true },
      { name: 'givenName', type: 'string' },
      { name: 'mail', type: 'string' },
      { name: 'title', type: 'string' },
      { name: 'ou', type: 'string' },
      { name: 'employeeNumber', type: 'string' },
      { name: 'manager', type: 'reference', referenceBy: 'dn' },
    ],
  },
  {
    name: 'group',
    anchorAttribute: 'entryUUID',
    attributes: [
      { name: 'entryUUID', type: 'string', readOnly: true },
      { name: 'cn', type: 'string', required: true },
      { name: 'member', type: 'reference', multiValued: true, referenceBy: 'dn', required: true },
    ],
  },
];

/** Where one benchmark's directory objects go: an OU subtree of its own under the test suffix. */
export function directoryBase(settings: BenchSettings, ou: string): { base: string; people: string; groups: string } {
  const base = `ou=${ou},${settings.ldap.suffix}`;
  return { base, people: `ou=people,${base}`, groups: `ou=groups,${base}` };
}

/** The `ldap` connector config of the benchmark directory (docs/connectors/ldap.md). */
export function directoryConfig(settings: BenchSettings, ou: string): JsonObject {
  const { people, groups } = directoryBase(settings, ou);
  return {
    flavor: 'openldap',
    url: settings.ldap.url,
    bindDn: settings.ldap.adminDn,
    bindPasswordSecret: LDAP_BIND_SECRET,
    objectTypes: [
      {
        name: 'user',
        baseDns: [people],
        scope: 'one',
        objectClasses: ['inetOrgPerson'],
        attributes: ['uid', 'cn', 'sn', 'givenName', 'mail', 'title', 'ou', 'employeeNumber'],
        referenceAttributes: ['manager'],
      },
      { name: 'group', baseDns: [groups], scope: 'one', objectClasses: ['groupOfNames'], attributes: ['cn'], referenceAttributes: ['member'] },
    ],
  };
}

export interface HrConnectors {
  people: ConnectorDefinition;
  groups: ConnectorDefinition;
  directory?: ConnectorDefinition;
}

/**
 * The rules of a typical deployment of the HR feed (docs/rules.md): people
 * and groups projected into the mesh, their attributes flowing in, managers
 * and memberships as links (members naming people of the people feed),
 * a display name, a unique account name and a mail address composed, and —
 * with a directory — every person and group provisioned there with its
 * values, manager and members flowing out.
 */
export async function configureHrRules(session: EngineSession, connectors: HrConnectors, options: { directory?: { people: string; groups: string } } = {}): Promise<void> {
  const { people, groups, directory } = connectors;
  await session.rule('projection', people.id, 'person', { meshObjectType: 'person' });
  const personFlows: Array<[string, string]> = [
    ['employeeId', 'employeeId'],
    ['givenName', 'coalesce(preferredName, givenName)'],
    ['sn', 'sn'],
    ['department', 'department'],
    ['title', 'title'],
    ['location', 'location'],
    ['employmentStatus', 'employmentStatus'],
    ['mobile', 'mobile'],
  ];
  for (const [ordinal, [target, source]] of personFlows.entries()) await session.rule('import-flow', people.id, 'person', { target, source }, ordinal + 1);
  await session.rule('import-flow', people.id, 'person', { target: 'manager', reference: { attribute: 'manager', by: 'anchor' } }, 20);
  await session.rule('composer', null, 'person', { target: 'displayName', candidates: ['concat(givenName, " ", sn)'] }, 1);
  await session.rule(
    'composer',
    null,
    'person',
    {
      target: 'accountName',
      candidates: ['lower(left(normalize(givenName), 1) + alphanumeric(normalize(sn)))', 'lower(alphanumeric(normalize(givenName)) + "." + alphanumeric(normalize(sn)))'],
      unique: { scope: 'accountName', maxLength: 20 },
    },
    2,
  );
  await session.rule('composer', null, 'person', { target: 'mail', candidates: ['accountName + "@identitymesh.test"'] }, 3);

  await session.rule('projection', groups.id, 'group', { meshObjectType: 'group' });
  await session.rule('import-flow', groups.id, 'group', { target: 'groupId', source: 'groupId' }, 1);
  await session.rule('import-flow', groups.id, 'group', { target: 'name', source: 'name' }, 2);
  await session.rule('import-flow', groups.id, 'group', { target: 'kind', source: 'kind' }, 3);
  await session.rule('import-flow', groups.id, 'group', { target: 'members', reference: { attribute: 'members', by: 'anchor', connectorId: people.id, objectType: 'person' } }, 4);
  await session.rule('import-flow', groups.id, 'group', { target: 'memberGroups', reference: { attribute: 'memberGroups', by: 'anchor' } }, 5);

  if (!directory || !options.directory) return;
  const { people: peopleBase, groups: groupsBase } = options.directory;
  await session.rule('provisioning', directory.id, 'person', { targetConnectorId: directory.id, targetObjectType: 'user', dnTemplate: `uid={{accountName}},${peopleBase}` });
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
  for (const [ordinal, [target, source]] of userFlows.entries()) await session.rule('export-flow', directory.id, 'user', { target, source }, ordinal + 1);
  await session.rule('export-flow', directory.id, 'user', { target: 'manager', reference: { attribute: 'manager', by: 'dn' } }, 20);
  await session.rule('provisioning', directory.id, 'group', { targetConnectorId: directory.id, targetObjectType: 'group', dnTemplate: `cn={{name}},${groupsBase}` });
  await session.rule('export-flow', directory.id, 'group', { target: 'cn', source: 'name' }, 1);
  await session.rule('export-flow', directory.id, 'group', { target: 'member', reference: { attribute: 'members', by: 'dn' } }, 2);
}
