import type { SyncRuleRecord } from '@identitymesh/domain';
import { compileSyncRules, RuleCompilationError } from './sync-rules';

const schemas = new Map([
  ['hr', new Map([['person', [{ name: 'employeeId' }, { name: 'givenName' }, { name: 'sn' }, { name: 'managerId', reference: true }]]])],
  ['ad', new Map([['user', [{ name: 'employeeID' }, { name: 'displayName' }, { name: 'manager', reference: true }]]])],
]);

const rule = (id: string, kind: SyncRuleRecord['kind'], connectorId: string | null, objectType: string, definition: unknown): SyncRuleRecord => ({ id, kind, connectorId, objectType, ordinal: 1, definition });

describe('the rules of a sync run', () => {
  it('compiles mesh-side rules against what import flows and composers produce, and indexes them for batches', () => {
    const rules = compileSyncRules(
      [
        rule('x1', 'export-flow', 'ad', 'user', { target: 'displayName', source: 'displayName' }),
        rule('c1', 'composer', null, 'person', { target: 'displayName', candidates: ['concat(givenName, " ", sn)'] }),
        rule('i0', 'import-flow', 'hr', 'person', { target: 'employeeId', source: 'employeeId' }),
        rule('i1', 'import-flow', 'hr', 'person', { target: 'givenName', source: 'givenName' }),
        rule('i2', 'import-flow', 'hr', 'person', { target: 'sn', source: 'sn' }),
        rule('i3', 'import-flow', 'hr', 'person', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor' } }),
        rule('x2', 'export-flow', 'ad', 'user', { target: 'manager', reference: { attribute: 'manager' } }),
        rule('j1', 'join', 'ad', 'user', { meshObjectType: 'person', mappings: [{ source: 'employeeID', meshAttribute: 'employeeId' }] }),
        rule('p1', 'projection', 'hr', 'person', { meshObjectType: 'person' }),
      ],
      [],
      schemas,
    );
    expect(rules.importTargets('hr', 'person')).toEqual(new Set(['employeeId', 'givenName', 'sn', 'manager']));
    expect(rules.importReferenceFlows('hr', 'person').map((flow) => flow.id)).toEqual(['i3']);
    expect(rules.exportFlowsOf('ad', 'user').map((flow) => flow.id).sort()).toEqual(['x1', 'x2']);
    expect(rules.exportReferenceConnectors).toEqual(['ad']);
    expect(rules.joinAttributes).toEqual(new Map([['person', new Set(['employeeId'])]]));
    expect(rules.authoritative('person')).toEqual(new Set(['hr']));
  });

  it('names the rule that no longer compiles against its connector’s schema', () => {
    expect(() => compileSyncRules([{ ...rule('s1', 'scoping', 'hr', 'person', { condition: 'status == "active"' }), name: 'active only' }], [], schemas)).toThrow(
      expect.objectContaining({ constructor: RuleCompilationError, message: expect.stringMatching(/^scoping rule "active only" \(s1\) does not compile: EXPRESSION_INVALID: /) }),
    );
  });
});
