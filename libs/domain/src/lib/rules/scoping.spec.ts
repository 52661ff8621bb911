import { ExpressionEvaluationError } from '../expressions/expression.errors';
import { evaluateScope } from './scoping';
import { AD, cso, rule } from './testing/rule-fixtures';

describe('evaluateScope', () => {
  const active = rule('scoping', { condition: 'status != "terminated"' }, { id: 'active' });
  const staff = rule('scoping', { condition: 'attr["Cost Center"].startsWith("CC-")' }, { id: 'staff' });

  it('keeps an object in scope when every rule passes', () => {
    expect(evaluateScope(cso({ status: ['active'], 'Cost Center': ['CC-10'] }), [active, staff])).toEqual({ inScope: true });
  });

  it('names the rule that made the object a disconnector', () => {
    expect(evaluateScope(cso({ status: ['terminated'], 'Cost Center': ['CC-10'] }), [active, staff])).toEqual({ inScope: false, ruleId: 'active' });
    expect(evaluateScope(cso({ status: ['active'], 'Cost Center': ['EXT'] }), [active, staff])).toEqual({ inScope: false, ruleId: 'staff' });
  });

  it('puts everything in scope without rules, and ignores rules of other connectors and types', () => {
    expect(evaluateScope(cso({ status: ['terminated'] }), [])).toEqual({ inScope: true });
    expect(evaluateScope(cso({ status: ['terminated'] }, { connectorId: AD }), [active])).toEqual({ inScope: true });
    expect(evaluateScope(cso({ status: ['terminated'] }, { objectType: 'group' }), [active])).toEqual({ inScope: true });
  });

  it('treats an absent value as not passing', () => {
    const hasTitle = rule('scoping', { condition: 'title == "Engineer"' });
    expect(evaluateScope(cso({}), [hasTitle]).inScope).toBe(false);
  });

  it('treats a condition that fails for lack of an input as not passing', () => {
    const startsWithA = rule('scoping', { condition: 'title.startsWith("A")' });
    expect(evaluateScope(cso({}), [startsWithA]).inScope).toBe(false);
  });

  it('fails the object, naming the rule, when a condition cannot be evaluated', () => {
    const broken = rule('scoping', { condition: 'int(title) > 3' }, { id: 'broken' });
    expect(() => evaluateScope(cso({ title: ['Engineer'] }), [broken])).toThrow(ExpressionEvaluationError);
    expect(() => evaluateScope(cso({ title: ['Engineer'] }), [broken])).toThrow(/rule broken: condition/);
  });
});
