import { decideJoin, joinKeysFor, joinLookupKey, normalizeJoinValue } from './join';
import type { JoinCandidateLookup } from './join';
import { AD, adUserSchema, cso, rule, schemas } from './testing/rule-fixtures';

const ad = { connectorId: AD, objectType: 'user', schemas: schemas(adUserSchema) };

function lookup(entries: Array<[string, string, string[]]>): JoinCandidateLookup {
  return new Map(entries.map(([attribute, value, ids]) => [joinLookupKey('person', attribute, value), ids]));
}

describe('join rules', () => {
  const byEmployeeId = rule('join', { meshObjectType: 'person', mappings: [{ source: 'employeeID', meshAttribute: 'employeeId' }] }, { ...ad, id: 'by-id', ordinal: 1 });
  const byMail = rule('join', { meshObjectType: 'person', mappings: [{ source: 'lower(mail)', meshAttribute: 'mail' }] }, { ...ad, id: 'by-mail', ordinal: 2 });
  const byName = rule(
    'join',
    { meshObjectType: 'person', mappings: [{ source: 'displayName', meshAttribute: 'displayName' }, { source: 'title', meshAttribute: 'title' }] },
    { ...ad, id: 'by-name', ordinal: 3 },
  );
  const user = (attributes: Record<string, string[]>) => cso(attributes, { connectorId: AD, objectType: 'user', anchor: 'guid-1' });

  it('joins on the first rule with exactly one candidate', () => {
    const decision = decideJoin(user({ employeeID: ['E1'], mail: ['j@x'] }), [byMail, byEmployeeId], lookup([['employeeId', 'E1', ['m1']], ['mail', 'j@x', ['m2']]]));
    expect(decision).toEqual({ kind: 'joined', meshObjectId: 'm1', ruleId: 'by-id' });
  });

  it('falls through rules with no candidate, and reports no-match at the end', () => {
    expect(decideJoin(user({ employeeID: ['E9'], mail: ['j@x'] }), [byEmployeeId, byMail], lookup([['mail', 'j@x', ['m2']]]))).toMatchObject({
      kind: 'joined',
      ruleId: 'by-mail',
    });
    expect(decideJoin(user({ employeeID: ['E9'] }), [byEmployeeId, byMail], lookup([]))).toEqual({ kind: 'no-match' });
  });

  it('reports ambiguity as a per-object JOIN_AMBIGUOUS error listing the candidates, never a guess', () => {
    const decision = decideJoin(
      user({ employeeID: ['E1'], mail: ['j@x'] }),
      [byEmployeeId, byMail],
      lookup([['employeeId', 'E1', ['m2', 'm1']], ['mail', 'j@x', ['m3']]]),
    );
    expect(decision.kind).toBe('ambiguous');
    if (decision.kind !== 'ambiguous') return;
    expect(decision.error.code).toBe('JOIN_AMBIGUOUS');
    expect(decision.error.details).toMatchObject({ ruleId: 'by-id', candidates: ['m1', 'm2'], anchor: 'guid-1', connectorId: AD });
    // the later rule's single match (m3) is not used to paper over the ambiguity
  });

  it('requires every mapping of a rule to match the same mesh object', () => {
    const candidates = lookup([
      ['displayName', 'John Doe', ['m1', 'm2']],
      ['title', 'Engineer', ['m2', 'm3']],
    ]);
    expect(decideJoin(user({ displayName: ['John Doe'], title: ['Engineer'] }), [byName], candidates)).toMatchObject({ meshObjectId: 'm2' });
    expect(decideJoin(user({ displayName: ['John Doe'] }), [byName], candidates)).toEqual({ kind: 'no-match' });
  });

  it('matches a multi-valued source on any value', () => {
    const byAlias = rule('join', { meshObjectType: 'person', mappings: [{ source: 'proxyAddresses', meshAttribute: 'mail' }] }, ad);
    expect(decideJoin(user({ proxyAddresses: ['a@x', 'b@x'] }), [byAlias], lookup([['mail', 'b@x', ['m7']]]))).toMatchObject({ meshObjectId: 'm7' });
  });

  it('compares normalized values, so case and stray spaces do not prevent a join', () => {
    expect(normalizeJoinValue('  JDoe@Corp.com ')).toBe('jdoe@corp.com');
    expect(decideJoin(user({ employeeID: [' e1 '] }), [byEmployeeId], lookup([['employeeId', 'E1', ['m1']]]))).toMatchObject({ meshObjectId: 'm1' });
  });

  it('lists the keys a batch must look up', () => {
    expect(joinKeysFor(user({ employeeID: ['E1'], mail: ['J@X'] }), [byEmployeeId, byMail])).toEqual([
      { meshObjectType: 'person', meshAttribute: 'employeeId', value: 'e1' },
      { meshObjectType: 'person', meshAttribute: 'mail', value: 'j@x' },
    ]);
  });
});
