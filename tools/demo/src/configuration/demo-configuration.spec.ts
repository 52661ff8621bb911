import { parseSchedule, SYNC_RULE_KINDS } from '@identitymesh/domain';
import { csvConnectorFactory, sqlConnectorFactory } from '@identitymesh/connector-sdk';
import type { ConnectorContext, ConnectorFactory, ObjectTypeSchema } from '@identitymesh/connector-sdk';
import { groupsCsvConnectorConfig, peopleCsvConnectorConfig } from '@identitymesh/identity-generator';
import type { JsonObject } from '@identitymesh/persistence';
import { demoPaths } from '../demo-paths';
import { DEMO_CONNECTORS, demoConnectors, demoRules } from './demo-configuration';
import type { DemoConnectorKey } from './demo-configuration';
import { DemoRuleInvalidError, validateDemoRules } from './rule-validation';

const paths = demoPaths('/srv/identitymesh/demo');
const specs = demoConnectors({
  paths,
  peopleConfig: peopleCsvConnectorConfig({ path: paths.peopleCsv }) as unknown as JsonObject,
  groupsConfig: groupsCsvConnectorConfig({ path: paths.groupsCsv }) as unknown as JsonObject,
  intervalSeconds: 60,
});
const ids = Object.fromEntries(DEMO_CONNECTORS.map((key) => [key, `${key}-id`])) as Record<DemoConnectorKey, string>;
const context: ConnectorContext = {
  connectorId: 'test',
  secrets: { resolve: () => Promise.reject(new Error('no secrets')) },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
};

async function schemas(): Promise<Map<DemoConnectorKey, ObjectTypeSchema[]>> {
  const out = new Map<DemoConnectorKey, ObjectTypeSchema[]>();
  for (const spec of specs) {
    const factory: ConnectorFactory = spec.type === 'sql' ? sqlConnectorFactory : csvConnectorFactory;
    out.set(spec.key, (await factory.create(factory.validate(spec.config), context).schema()).objectTypes);
  }
  return out;
}

describe('the demo configuration', () => {
  let schemasCache: Map<DemoConnectorKey, ObjectTypeSchema[]>;
  beforeAll(async () => {
    schemasCache = await schemas();
  });

  it('has four connectors whose configs their connector types accept, and valid schedules', () => {
    expect(specs.map((s) => [s.name, s.type])).toEqual([
      ['HR people', 'csv'],
      ['HR groups', 'csv'],
      ['Directory', 'sql'],
      ['Phone list', 'csv'],
    ]);
    for (const spec of specs) {
      const factory: ConnectorFactory = spec.type === 'sql' ? sqlConnectorFactory : csvConnectorFactory;
      expect(() => factory.validate(spec.config)).not.toThrow();
      expect(parseSchedule(spec.schedule)).toMatchObject({ kind: 'interval', intervalSeconds: 60 });
    }
    // People first, then groups, then the exports: the order the rules need within a cycle.
    expect(specs.map((s) => s.phase)).toEqual([...specs.map((s) => s.phase)].sort((a, b) => a - b));
    expect(specs[0].phase).toBe(0);
  });

  it('has rules that validate against the connectors’ schemas, as a sync run compiles them', () => {
    const rules = demoRules(ids);
    expect(() => validateDemoRules(rules, new Map())).toThrow(DemoRuleInvalidError);
    expect(() => validateDemoRules(rules, schemasCache)).not.toThrow();
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    expect(new Set(rules.map((r) => r.kind))).toEqual(new Set(SYNC_RULE_KINDS));
  });

  it('names the HR people connector in the group members flow, and the targets in their provisioning rules', () => {
    const rules = demoRules(ids);
    expect(rules.find((r) => r.name === 'HR groups: members')?.definition).toEqual({
      target: 'members',
      reference: { attribute: 'members', by: 'anchor', connectorId: 'people-id', objectType: 'person' },
    });
    const provisioning = rules.filter((r) => r.kind === 'provisioning');
    expect(provisioning.map((r) => [r.connector, r.objectType, r.definition['targetConnectorId'], r.definition['targetObjectType']])).toEqual([
      ['directory', 'person', 'directory-id', 'person'],
      ['directory', 'group', 'directory-id', 'group'],
      ['phoneList', 'person', 'phoneList-id', 'person'],
    ]);
    expect(rules.filter((r) => r.kind === 'deprovisioning').map((r) => r.definition)).toEqual([{ action: 'delete' }, { action: 'delete' }, { action: 'delete' }]);
  });
});
