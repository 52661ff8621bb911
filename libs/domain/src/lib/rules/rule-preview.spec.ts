import { joinLookupKey } from './join';
import { evaluateRuleSample } from './rule-preview';
import { AD, adUserSchema, cso, held, HR, mesh, schemas } from './testing/rule-fixtures';
import { uniqueValueKey } from './composer';

const hr = schemas();
const ad = schemas(adUserSchema);
const hrPerson = cso({ employeeId: ['E1'], givenName: ['José'], sn: ['Ñúñez'], status: ['active'], title: ['Engineer'] });
const adUser = cso({ employeeID: ['E1'], userAccountControl: ['512'], title: ['Intern'] }, { connectorId: AD, objectType: 'user', anchor: 'guid-1' });
const person = mesh({ givenName: held('José', HR), sn: held('Ñúñez', HR), displayName: held('José Ñúñez', null), title: held('Engineer', HR), status: held('active', HR) });

describe('evaluateRuleSample (rule preview)', () => {
  it('scoping', () => {
    expect(evaluateRuleSample('scoping', { condition: 'status == "active"' }, { cso: hrPerson }, hr)).toMatchObject({
      ok: true,
      outcome: 'in-scope',
      values: { condition: true },
    });
  });

  it('join, with the keys it computed and the candidates given', () => {
    const result = evaluateRuleSample(
      'join',
      { meshObjectType: 'person', mappings: [{ source: 'employeeID', meshAttribute: 'employeeId' }] },
      { cso: adUser, joinCandidates: new Map([[joinLookupKey('person', 'employeeId', 'E1'), ['m1', 'm2']]]) },
      ad,
    );
    expect(result).toMatchObject({ ok: true, outcome: 'ambiguous', values: { 'mappings[0].source': 'E1' }, detail: { candidates: ['m1', 'm2'] } });
  });

  it('projection', () => {
    expect(evaluateRuleSample('projection', { meshObjectType: 'person', condition: 'status == "active"' }, { cso: hrPerson }, hr)).toMatchObject({
      outcome: 'project',
      values: { meshObjectType: 'person' },
    });
  });

  it('import flow, per attribute', () => {
    expect(evaluateRuleSample('import-flow', { target: 'accountHint', source: 'lower(normalize(givenName)) + "." + lower(normalize(sn))' }, { cso: hrPerson }, hr)).toMatchObject({
      ok: true,
      outcome: 'changed',
      values: { accountHint: 'jose.nunez' },
    });
  });

  it('import flow losing to precedence', () => {
    const result = evaluateRuleSample(
      'import-flow',
      { target: 'title', source: 'title' },
      {
        cso: adUser,
        mesh: person,
        precedence: [
          { objectType: 'person', attributeName: 'title', connectorId: HR, rank: 2 },
          { objectType: 'person', attributeName: 'title', connectorId: AD, rank: 1 },
        ],
      },
      ad,
    );
    expect(result).toMatchObject({ ok: true, outcome: 'precedence-conflict', values: { title: 'Engineer' } });
  });

  it('export flow, with the diff against the target', () => {
    expect(evaluateRuleSample('export-flow', { target: 'title', source: 'title' }, { mesh: person, cso: adUser }, ad)).toMatchObject({
      outcome: 'changes',
      values: { title: ['Engineer'] },
      detail: { changes: [{ attribute: 'title', op: 'replace', values: ['Engineer'] }] },
    });
  });

  it('composer, with its candidates', () => {
    const result = evaluateRuleSample(
      'composer',
      { target: 'accountName', candidates: ['lower(left(normalize(givenName), 1) + normalize(sn))'], unique: { scope: 'accountName' } },
      { mesh: person, takenValues: new Map([[uniqueValueKey('accountName', 'jnunez'), 'someone-else']]) },
      hr,
    );
    expect(result).toMatchObject({ ok: true, outcome: 'composed', values: { accountName: 'jnunez2' } });
    expect(result.ok && result.detail['candidates']).toEqual(expect.arrayContaining(['jnunez', 'jnunez2', 'jnunez3']));
  });

  it('provisioning, with the rendered DN', () => {
    expect(
      evaluateRuleSample('provisioning', { targetConnectorId: AD, targetObjectType: 'user', dnTemplate: 'CN={{displayName}},OU=Staff,DC=corp' }, { mesh: person }, hr),
    ).toMatchObject({ outcome: 'provision', values: { dn: 'CN=José Ñúñez,OU=Staff,DC=corp', anchor: null } });
  });

  it('deprovisioning, with the attributes it would set', () => {
    expect(evaluateRuleSample('deprovisioning', { action: 'disable', attributes: { userAccountControl: 'bitOr(int(userAccountControl), 2)' } }, { cso: adUser }, ad)).toMatchObject({
      outcome: 'disable',
      values: { userAccountControl: [514] },
    });
  });

  it('returns coded errors instead of throwing: invalid rules, failing objects, missing samples', () => {
    expect(evaluateRuleSample('scoping', { condition: 'status ==' }, { cso: hrPerson }, hr)).toMatchObject({ ok: false, error: { code: 'EXPRESSION_INVALID' } });
    expect(evaluateRuleSample('scoping', { condition: 'int(title) > 1' }, { cso: hrPerson }, hr)).toMatchObject({
      ok: false,
      error: { code: 'EXPRESSION_EVALUATION_FAILED' },
    });
    expect(evaluateRuleSample('composer', { target: 'x', candidates: ['givenName'] }, {}, hr)).toMatchObject({ ok: false, error: { code: 'RULE_SAMPLE_INVALID' } });
    expect(evaluateRuleSample('projection', { meshObjectType: 'person', extra: 1 }, { cso: hrPerson }, hr)).toMatchObject({
      ok: false,
      error: { code: 'RULE_DEFINITION_INVALID', details: { field: 'extra' } },
    });
  });
});
