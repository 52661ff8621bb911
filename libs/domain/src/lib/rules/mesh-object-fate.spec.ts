import { authoritativeConnectors, meshObjectFate } from './mesh-object-fate';
import { AD, adUserSchema, HR, rule, schemas } from './testing/rule-fixtures';

describe('mesh object fate', () => {
  const rules = [
    rule('projection', { meshObjectType: 'person' }, { connectorId: HR }),
    rule('projection', { meshObjectType: 'person' }, { connectorId: 'contractors' }),
    rule('projection', { meshObjectType: 'group' }, { connectorId: AD, objectType: 'group', schemas: schemas(adUserSchema) }),
    rule('join', { meshObjectType: 'person', mappings: [{ source: 'employeeID', meshAttribute: 'employeeId' }] }, { connectorId: AD, objectType: 'user', schemas: schemas(adUserSchema) }),
  ];

  it('counts the connectors that project a type as authoritative for it', () => {
    expect([...authoritativeConnectors(rules, 'person')].sort()).toEqual(['contractors', HR].sort());
    expect([...authoritativeConnectors(rules, 'group')]).toEqual([AD]);
  });

  it('deletes the mesh object when its last authoritative source is gone', () => {
    const authoritative = authoritativeConnectors(rules, 'person');
    expect(meshObjectFate({ joinedConnectors: [AD], authoritative })).toEqual({ fate: 'delete', reason: 'last-authoritative-source-gone' });
    expect(meshObjectFate({ joinedConnectors: [], authoritative })).toMatchObject({ fate: 'delete' });
  });

  it('keeps it while one authoritative source remains', () => {
    const authoritative = authoritativeConnectors(rules, 'person');
    expect(meshObjectFate({ joinedConnectors: [AD, 'contractors'], authoritative })).toEqual({
      fate: 'keep',
      reason: 'authoritative-source-remains',
      sources: ['contractors'],
    });
  });

  it('never deletes when no connector projects the type (a configuration gap, not a leaver)', () => {
    expect(meshObjectFate({ joinedConnectors: [], authoritative: new Set() })).toEqual({ fate: 'keep', reason: 'no-authoritative-connector', sources: [] });
  });
});
