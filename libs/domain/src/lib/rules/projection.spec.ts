import { decideProjection } from './projection';
import { AD, cso, rule } from './testing/rule-fixtures';

describe('decideProjection', () => {
  const contractors = rule('projection', { meshObjectType: 'contractor', condition: 'status == "contractor"' }, { id: 'contractors', ordinal: 1 });
  const people = rule('projection', { meshObjectType: 'person', condition: 'status != "terminated"' }, { id: 'people', ordinal: 2 });

  it('projects with the first rule whose condition holds', () => {
    expect(decideProjection(cso({ status: ['contractor'] }), [people, contractors])).toEqual({ kind: 'project', meshObjectType: 'contractor', ruleId: 'contractors' });
    expect(decideProjection(cso({ status: ['active'] }), [people, contractors])).toEqual({ kind: 'project', meshObjectType: 'person', ruleId: 'people' });
  });

  it('leaves the object unlinked when no rule holds or none applies', () => {
    expect(decideProjection(cso({ status: ['terminated'] }), [people, contractors])).toEqual({ kind: 'none' });
    expect(decideProjection(cso({ status: ['active'] }, { connectorId: AD }), [people])).toEqual({ kind: 'none' });
  });

  it('always projects without a condition', () => {
    expect(decideProjection(cso({}), [rule('projection', { meshObjectType: 'person' })])).toMatchObject({ kind: 'project' });
  });
});
