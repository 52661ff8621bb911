import type { ConnectorType, ScheduleDefinition, SyncRuleKind } from '@identitymesh/domain';
import type { JsonObject } from '@identitymesh/persistence';
import type { DemoPaths } from '../demo-paths';
import { DIRECTORY_VALUE_SEPARATOR } from '../targets/directory-database';
import { PHONE_LIST_COLUMNS } from '../targets/phone-list';

/*
 * The demo configuration as data: four connectors, their schedules and the
 * sync rules between them. docs/demo.md shows the same rules in full; keep
 * the two in step.
 */

export const DEMO_CONNECTORS = ['people', 'groups', 'directory', 'phoneList'] as const;
export type DemoConnectorKey = (typeof DEMO_CONNECTORS)[number];

/** Connectors are found again by these names, so the configuration is written once. */
export const DEMO_CONNECTOR_NAMES: Record<DemoConnectorKey, string> = {
  people: 'HR people',
  groups: 'HR groups',
  directory: 'Directory',
  phoneList: 'Phone list',
};

/** The domain the composed mail addresses are in. */
export const DEMO_MAIL_DOMAIN = 'corp.example';

export interface DemoConnectorSpec {
  key: DemoConnectorKey;
  name: string;
  type: ConnectorType;
  description: string;
  config: JsonObject;
  schedule: ScheduleDefinition;
  /**
   * Where in each cycle the schedule fires, as a share of the interval. A
   * chain runs the profiles of one connector only, so the order between
   * connectors (people before groups, both before the exports) comes from
   * staggered fires instead: at 3,000 people the first cycle's people chain
   * takes about 20 s of a 60 s cycle, the groups about 5 s, the exports 10 s.
   */
  phase: number;
}

export interface DemoConnectorInputs {
  paths: DemoPaths;
  /** The generator's `people.connector.json` and `groups.connector.json`. */
  peopleConfig: JsonObject;
  groupsConfig: JsonObject;
  intervalSeconds: number;
}

export function demoConnectors(inputs: DemoConnectorInputs): DemoConnectorSpec[] {
  const every = (profiles: ScheduleDefinition['profiles']): ScheduleDefinition => ({ intervalSeconds: inputs.intervalSeconds, profiles });
  return [
    {
      key: 'people',
      name: DEMO_CONNECTOR_NAMES.people,
      type: 'csv',
      description: 'The generated HR feed: one row per person (npm start demo)',
      config: inputs.peopleConfig,
      schedule: every(['delta-import', 'delta-sync']),
      phase: 0,
    },
    {
      key: 'groups',
      name: DEMO_CONNECTOR_NAMES.groups,
      type: 'csv',
      description: 'The generated HR feed: groups and their members (npm start demo)',
      config: inputs.groupsConfig,
      // A full sync, not a delta: a group whose members were not joined yet when it was synced
      // (a cycle whose people chain overran its slot) is put right by the next cycle.
      schedule: every(['delta-import', 'full-sync']),
      phase: 0.4,
    },
    {
      key: 'directory',
      name: DEMO_CONNECTOR_NAMES.directory,
      type: 'sql',
      description: 'A SQLite directory of accounts and groups the demo provisions into (npm start demo)',
      config: directoryConfig(inputs.paths.directory),
      schedule: every(['export']),
      phase: 0.7,
    },
    {
      key: 'phoneList',
      name: DEMO_CONNECTOR_NAMES.phoneList,
      type: 'csv',
      description: 'A CSV phone list of the people at work (npm start demo)',
      config: phoneListConfig(inputs.paths.phoneList),
      schedule: every(['export']),
      phase: 0.7,
    },
  ];
}

export function directoryConfig(file: string): JsonObject {
  return {
    dialect: 'sqlite',
    connection: { file },
    objectTypes: [
      {
        name: 'person',
        table: 'people',
        anchor: { column: 'account_name', attribute: 'accountName' },
        attributes: [
          { column: 'employee_id', attribute: 'employeeId' },
          { column: 'display_name', attribute: 'displayName' },
          { column: 'given_name', attribute: 'givenName' },
          { column: 'surname', attribute: 'sn' },
          { column: 'mail', attribute: 'mail' },
          { column: 'department', attribute: 'department' },
          { column: 'title', attribute: 'title' },
          { column: 'manager', attribute: 'manager', type: 'reference' },
          { column: 'enabled', attribute: 'enabled', type: 'boolean' },
        ],
      },
      {
        name: 'group',
        table: 'groups',
        anchor: { column: 'group_id', attribute: 'groupId' },
        attributes: [
          { column: 'name', attribute: 'name' },
          { column: 'kind', attribute: 'kind' },
          { column: 'members', attribute: 'members', type: 'reference', multiValued: true, separator: DIRECTORY_VALUE_SEPARATOR },
          { column: 'member_groups', attribute: 'memberGroups', type: 'reference', multiValued: true, separator: DIRECTORY_VALUE_SEPARATOR },
        ],
      },
    ],
  };
}

export function phoneListConfig(file: string): JsonObject {
  return {
    path: file,
    objectType: 'person',
    anchorColumn: 'Employee ID',
    columns: PHONE_LIST_COLUMNS.map(({ column, attribute }) => ({ column, attribute })),
    export: { enabled: true },
  };
}

export interface DemoRuleSpec {
  /** Unique within the demo: how a restarted demo finds the rule it wrote before. */
  name: string;
  kind: SyncRuleKind;
  /** The connector the rule belongs to (see docs/rules.md); null for composer rules. */
  connector: DemoConnectorKey | null;
  objectType: string;
  ordinal: number;
  definition: JsonObject;
}

/** Every rule of the demo, with the connectors' ids filled in. */
export function demoRules(ids: Record<DemoConnectorKey, string>): DemoRuleSpec[] {
  const rules: DemoRuleSpec[] = [];
  const add = (name: string, kind: SyncRuleKind, connector: DemoConnectorKey | null, objectType: string, definition: JsonObject) => {
    const ordinal = rules.filter((r) => r.kind === kind && r.connector === connector && r.objectType === objectType).length + 1;
    rules.push({ name, kind, connector, objectType, ordinal, definition });
  };

  // HR people → mesh person
  add('HR people: in scope while employed', 'scoping', 'people', 'person', { condition: 'employmentStatus in ["active", "on-leave", "pending"]' });
  add('HR people: join by employee id', 'join', 'people', 'person', { meshObjectType: 'person', mappings: [{ source: 'employeeId', meshAttribute: 'employeeId' }] });
  add('HR people: project a person', 'projection', 'people', 'person', { meshObjectType: 'person' });
  for (const attribute of ['employeeId', 'givenName', 'sn', 'preferredName', 'department', 'title', 'location', 'hireDate', 'employmentStatus', 'mobile']) {
    add(`HR people: ${attribute}`, 'import-flow', 'people', 'person', { target: attribute, source: attribute });
  }
  add('HR people: manager', 'import-flow', 'people', 'person', { target: 'manager', reference: { attribute: 'manager', by: 'anchor' } });

  // Composed person values
  add('Person: display name', 'composer', null, 'person', { target: 'displayName', candidates: ['concat(coalesce(preferredName, givenName), " ", sn)'] });
  add('Person: account name', 'composer', null, 'person', {
    target: 'accountName',
    // jdoe; the next John Doe gets jdoe2.
    candidates: ['lower(alphanumeric(normalize(concat(left(givenName, 1), sn))))'],
    unique: { scope: 'accountName', maxLength: 20 },
  });
  add('Person: mail', 'composer', null, 'person', { target: 'mail', candidates: [`accountName + "@${DEMO_MAIL_DOMAIN}"`] });

  // HR groups → mesh group
  add('HR groups: join by group id', 'join', 'groups', 'group', { meshObjectType: 'group', mappings: [{ source: 'groupId', meshAttribute: 'groupId' }] });
  add('HR groups: project a group', 'projection', 'groups', 'group', { meshObjectType: 'group' });
  for (const attribute of ['groupId', 'name', 'kind']) add(`HR groups: ${attribute}`, 'import-flow', 'groups', 'group', { target: attribute, source: attribute });
  // The Members column holds employee ids: anchors of the other connector's objects.
  add('HR groups: members', 'import-flow', 'groups', 'group', { target: 'members', reference: { attribute: 'members', by: 'anchor', connectorId: ids.people, objectType: 'person' } });
  add('HR groups: member groups', 'import-flow', 'groups', 'group', { target: 'memberGroups', reference: { attribute: 'memberGroups', by: 'anchor' } });

  // Mesh → Directory
  add('Directory: an account for every person', 'provisioning', 'directory', 'person', { targetConnectorId: ids.directory, targetObjectType: 'person', anchorTemplate: '{{accountName}}' });
  for (const [target, source] of [
    ['employeeId', 'employeeId'],
    ['displayName', 'displayName'],
    ['givenName', 'givenName'],
    ['sn', 'sn'],
    ['mail', 'mail'],
    ['department', 'department'],
    ['title', 'title'],
    ['enabled', 'employmentStatus == "active"'],
  ] as const) {
    add(`Directory: person ${target}`, 'export-flow', 'directory', 'person', { target, source });
  }
  add('Directory: person manager', 'export-flow', 'directory', 'person', { target: 'manager', reference: { attribute: 'manager', by: 'anchor' } });
  add('Directory: delete leavers', 'deprovisioning', 'directory', 'person', { action: 'delete' });
  add('Directory: every group', 'provisioning', 'directory', 'group', { targetConnectorId: ids.directory, targetObjectType: 'group', anchorTemplate: '{{groupId}}' });
  add('Directory: group name', 'export-flow', 'directory', 'group', { target: 'name', source: 'name' });
  add('Directory: group kind', 'export-flow', 'directory', 'group', { target: 'kind', source: 'kind' });
  add('Directory: group members', 'export-flow', 'directory', 'group', { target: 'members', reference: { attribute: 'members', by: 'anchor' } });
  add('Directory: group member groups', 'export-flow', 'directory', 'group', { target: 'memberGroups', reference: { attribute: 'memberGroups', by: 'anchor' } });
  add('Directory: delete removed groups', 'deprovisioning', 'directory', 'group', { action: 'delete' });

  // Mesh → Phone list
  add('Phone list: people at work', 'provisioning', 'phoneList', 'person', {
    targetConnectorId: ids.phoneList,
    targetObjectType: 'person',
    condition: 'employmentStatus == "active"',
    anchorTemplate: '{{employeeId}}',
  });
  for (const attribute of ['accountName', 'displayName', 'department', 'title', 'location', 'mobile', 'mail']) {
    add(`Phone list: ${attribute}`, 'export-flow', 'phoneList', 'person', { target: attribute, source: attribute });
  }
  add('Phone list: remove who is no longer at work', 'deprovisioning', 'phoneList', 'person', { action: 'delete' });
  return rules;
}
