import { ExpressionEvaluationError } from '../expressions/expression.errors';
import { applyImportFlows, releaseContributions } from './import-flows';
import { precedenceTable } from './precedence';
import { csoReferenceKey } from './references';
import { AD, adGroupSchema, adUserSchema, cso, held, HR, mesh, NOW, rule, schemas } from './testing/rule-fixtures';

const noPrecedence = precedenceTable([]);
/** HR outranks the directory for title; nobody ranked department. */
const hrFirst = precedenceTable([
  { objectType: 'person', attributeName: 'title', connectorId: HR, rank: 20 },
  { objectType: 'person', attributeName: 'title', connectorId: AD, rank: 10 },
]);
const adOptions = { connectorId: AD, objectType: 'user', schemas: schemas(adUserSchema) };
const adUser = (attributes: Record<string, string[]>) => cso(attributes, { connectorId: AD, objectType: 'user' });

describe('applyImportFlows', () => {
  const hrTitle = rule('import-flow', { target: 'title', source: 'trim(title)' }, { id: 'hr-title' });
  const adTitle = rule('import-flow', { target: 'title', source: 'title' }, { ...adOptions, id: 'ad-title' });

  it('writes values with their provenance', () => {
    const result = applyImportFlows(mesh({}), cso({ title: [' Engineer '] }), HR, [hrTitle], noPrecedence, { now: NOW });
    expect(result.attributes['title']).toEqual({ value: 'Engineer', connectorId: HR, ruleId: 'hr-title', at: NOW });
    expect(result.changes).toEqual([{ attribute: 'title', before: undefined, after: result.attributes['title'], ruleId: 'hr-title' }]);
  });

  it('changes nothing, not even the time stamp, when the value is the same', () => {
    const before = mesh({ title: held('Engineer', HR, { ruleId: 'hr-title' }) });
    const result = applyImportFlows(before, cso({ title: ['Engineer'] }), HR, [hrTitle], noPrecedence, { now: NOW });
    expect(result.changes).toEqual([]);
    expect(result.attributes['title']).toBe(before.attributes['title']);
  });

  describe('precedence between two sources', () => {
    it('a lower source never overwrites the higher one', () => {
      const before = mesh({ title: held('Engineer', HR) });
      const result = applyImportFlows(before, adUser({ title: ['Senior Engineer'] }), AD, [adTitle], hrFirst, { now: NOW });
      expect(result.attributes['title'].value).toBe('Engineer');
      expect(result.changes).toEqual([]);
      expect(result.conflicts).toEqual([{ attribute: 'title', ruleId: 'ad-title', connectorId: AD, holder: HR, verdict: 'lower' }]);
    });

    it('the higher source takes over from a lower one', () => {
      const before = mesh({ title: held('Senior Engineer', AD) });
      const result = applyImportFlows(before, cso({ title: ['Engineer'] }), HR, [hrTitle], hrFirst, { now: NOW });
      expect(result.attributes['title']).toMatchObject({ value: 'Engineer', connectorId: HR });
    });

    it('a lower source fills an attribute nobody holds', () => {
      const result = applyImportFlows(mesh({}), adUser({ title: ['Engineer'] }), AD, [adTitle], hrFirst, { now: NOW });
      expect(result.attributes['title']).toMatchObject({ value: 'Engineer', connectorId: AD });
    });

    it('an unranked source never takes an attribute from another source, and equal ranks never flap', () => {
      const unranked = applyImportFlows(mesh({ title: held('A', HR) }), adUser({ title: ['B'] }), AD, [adTitle], noPrecedence, {
        now: NOW,
      });
      expect(unranked.conflicts[0].verdict).toBe('unranked');
      const equal = precedenceTable([
        { objectType: 'person', attributeName: 'title', connectorId: HR, rank: 5 },
        { objectType: 'person', attributeName: 'title', connectorId: AD, rank: 5 },
      ]);
      const tie = applyImportFlows(mesh({ title: held('A', HR) }), adUser({ title: ['B'] }), AD, [adTitle], equal, { now: NOW });
      expect(tie.conflicts[0].verdict).toBe('equal');
      expect(tie.attributes['title'].value).toBe('A');
    });

    it('a ranked source takes an attribute from a holder that lost its precedence rows', () => {
      const onlyAd = precedenceTable([{ objectType: 'person', attributeName: 'title', connectorId: AD, rank: 1 }]);
      const result = applyImportFlows(mesh({ title: held('A', HR) }), adUser({ title: ['B'] }), AD, [adTitle], onlyAd, { now: NOW });
      expect(result.attributes['title']).toMatchObject({ value: 'B', connectorId: AD });
    });

    it('never overwrites a value a composer rule owns', () => {
      const result = applyImportFlows(mesh({ title: held('Composed', null, { ruleId: 'c1' }) }), cso({ title: ['X'] }), HR, [hrTitle], hrFirst, { now: NOW });
      expect(result.conflicts[0].verdict).toBe('composer');
    });
  });

  describe('the source losing its value', () => {
    const before = mesh({ title: held('Engineer', HR) });
    const lost = cso({ title: [] });

    it('clear: the attribute is emptied and the source still holds it, so a lower source cannot refill it', () => {
      const clear = rule('import-flow', { target: 'title', source: 'title', nullHandling: 'clear' });
      const result = applyImportFlows(before, lost, HR, [clear], hrFirst, { now: NOW });
      expect(result.attributes['title']).toMatchObject({ value: null, connectorId: HR });
      const refill = applyImportFlows(
        mesh({ ...result.attributes }),
        adUser({ title: ['Senior'] }),
        AD,
        [adTitle],
        hrFirst,
        { now: NOW },
      );
      expect(refill.attributes['title'].value).toBeNull();
      expect(refill.conflicts[0].verdict).toBe('lower');
    });

    it('keep: the last value stays', () => {
      const keep = rule('import-flow', { target: 'title', source: 'title', nullHandling: 'keep' });
      const result = applyImportFlows(before, lost, HR, [keep], hrFirst, { now: NOW });
      expect(result.attributes['title']).toBe(before.attributes['title']);
      expect(result.changes).toEqual([]);
    });

    it('default: the default value flows instead', () => {
      const fallback = rule('import-flow', { target: 'title', source: 'title', nullHandling: 'default', defaultValue: 'Employee' });
      const result = applyImportFlows(before, cso({ title: [''] }), HR, [fallback], hrFirst, { now: NOW });
      expect(result.attributes['title']).toMatchObject({ value: 'Employee', connectorId: HR });
    });

    it('a lower source clearing does not clear the higher source’s value', () => {
      const adClear = rule('import-flow', { target: 'title', source: 'title' }, adOptions);
      const result = applyImportFlows(before, adUser({}), AD, [adClear], hrFirst, { now: NOW });
      expect(result.attributes['title'].value).toBe('Engineer');
    });

    it('after the holder disconnects, the next source takes over', () => {
      const { attributes, released } = releaseContributions(mesh({ title: held('Engineer', HR), department: held('R&D', AD) }), HR);
      expect(released.map((r) => r.attribute)).toEqual(['title']);
      const result = applyImportFlows(mesh(attributes), adUser({ title: ['Senior'] }), AD, [adTitle], hrFirst, { now: NOW });
      expect(result.attributes['title']).toMatchObject({ value: 'Senior', connectorId: AD });
    });
  });

  describe('multi-valued attributes', () => {
    const aliases = rule('import-flow', { target: 'aliases', source: 'proxyAddresses', multiValued: true }, adOptions);
    const user = (values: string[]) => adUser({ proxyAddresses: values });

    it('flow as a set: duplicates dropped, reordering is no change', () => {
      const first = applyImportFlows(mesh({}), user(['a', 'b', 'a']), AD, [aliases], noPrecedence, { now: NOW });
      expect(first.attributes['aliases'].value).toEqual(['a', 'b']);
      const again = applyImportFlows(mesh(first.attributes), user(['b', 'a']), AD, [aliases], noPrecedence, { now: NOW });
      expect(again.changes).toEqual([]);
    });

    it('a single-valued flow that yields several values fails the object', () => {
      // coalesce() is typed dyn, so only evaluation can tell that it gave a list
      const wrong = rule('import-flow', { target: 'title', source: 'coalesce(proxyAddresses, title)' }, { ...adOptions, id: 'wrong' });
      expect(() => applyImportFlows(mesh({}), user(['a', 'b']), AD, [wrong], noPrecedence, { now: NOW })).toThrow(ExpressionEvaluationError);
      expect(() => applyImportFlows(mesh({}), user(['a', 'b']), AD, [wrong], noPrecedence, { now: NOW })).toThrow(
        /rule wrong: source: yielded 2 values for the single-valued mesh attribute title/,
      );
    });
  });

  describe('references', () => {
    const manager = rule('import-flow', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor' } }, { id: 'manager' });
    const members = rule('import-flow', { target: 'members', reference: { attribute: 'member', by: 'dn' } }, {
      connectorId: AD,
      objectType: 'group',
      schemas: schemas(adGroupSchema),
      id: 'members',
    });
    const resolver = new Map([
      [csoReferenceKey(HR, 'anchor', 'E2000'), 'mesh-boss'],
      [csoReferenceKey(AD, 'dn', 'CN=Ann,OU=Staff,DC=corp'), 'mesh-ann'],
      [csoReferenceKey(AD, 'dn', 'CN=Bob,OU=Staff,DC=corp'), 'mesh-bob'],
    ]);

    it('a manager anchor becomes a link to the manager’s mesh object, not a copied string', () => {
      const result = applyImportFlows(mesh({}), cso({ managerId: ['E2000'] }), HR, [manager], noPrecedence, { now: NOW, references: resolver });
      expect(result.attributes['manager']).toEqual({ value: 'mesh-boss', reference: true, connectorId: HR, ruleId: 'manager', at: NOW });
      expect(result.unresolvedReferences).toEqual([]);
    });

    it('group members resolve by DN whatever their spelling, and unresolved ones are reported, not dropped silently', () => {
      const group = cso({ member: ['cn=ann, ou=staff,dc=CORP', 'CN=Bob,OU=Staff,DC=corp', 'CN=Printer,OU=Devices,DC=corp'] }, {
        connectorId: AD,
        objectType: 'group',
      });
      const result = applyImportFlows(mesh({}, { objectType: 'group' }), group, AD, [members], noPrecedence, { now: NOW, references: resolver });
      expect(result.attributes['members'].value).toEqual(['mesh-ann', 'mesh-bob']);
      expect(result.unresolvedReferences).toEqual([{ attribute: 'members', ruleId: 'members', values: ['CN=Printer,OU=Devices,DC=corp'] }]);
    });

    it('values naming another connector’s objects resolve among that connector’s objects, not the flow’s own', () => {
      // HR's E2000 is the boss; the same anchor in AD's space (if there were one) must not be taken for it, and vice versa.
      const delegates = rule('import-flow', { target: 'delegates', reference: { attribute: 'managerId', by: 'anchor', connectorId: AD } }, { id: 'delegates' });
      const own = applyImportFlows(mesh({}), cso({ managerId: ['E2000'] }), HR, [manager], noPrecedence, { now: NOW, references: resolver });
      const other = applyImportFlows(mesh({}), cso({ managerId: ['E2000'] }), HR, [delegates], noPrecedence, { now: NOW, references: resolver });
      expect(own.attributes['manager'].value).toBe('mesh-boss');
      expect(other.attributes['delegates']).toBeUndefined();
      expect(other.unresolvedReferences).toEqual([{ attribute: 'delegates', ruleId: 'delegates', values: ['E2000'] }]);
      const elsewhere = new Map([[csoReferenceKey(AD, 'anchor', 'E2000'), 'mesh-delegate']]);
      expect(applyImportFlows(mesh({}), cso({ managerId: ['E2000'] }), HR, [delegates], noPrecedence, { now: NOW, references: elsewhere }).attributes['delegates'].value).toBe('mesh-delegate');
    });

    it('an unresolved manager leaves the current link as it is (not joined yet is not "no manager")', () => {
      const before = mesh({ manager: held('mesh-boss', HR, { reference: true }) });
      const result = applyImportFlows(before, cso({ managerId: ['E9999'] }), HR, [manager], noPrecedence, { now: NOW, references: resolver });
      expect(result.attributes['manager']).toBe(before.attributes['manager']);
      expect(result.unresolvedReferences).toEqual([{ attribute: 'manager', ruleId: 'manager', values: ['E9999'] }]);
    });

    it('a manager that is really gone clears the link', () => {
      const before = mesh({ manager: held('mesh-boss', HR, { reference: true }) });
      const result = applyImportFlows(before, cso({ managerId: [] }), HR, [manager], noPrecedence, { now: NOW, references: resolver });
      expect(result.attributes['manager']).toMatchObject({ value: null, reference: true });
    });
  });

  it('ignores flows of other connectors and object types', () => {
    const result = applyImportFlows(mesh({}), cso({ title: ['X'] }), HR, [adTitle], noPrecedence, { now: NOW });
    expect(result.changes).toEqual([]);
  });
});
