import { applyExportFlows } from './export-flows';
import { AD, adGroupSchema, adUserSchema, cso, held, HR, mesh, rule, schemas } from './testing/rule-fixtures';

const user = { connectorId: AD, objectType: 'user', schemas: schemas(adUserSchema) };
const group = { connectorId: AD, objectType: 'group', schemas: schemas(adGroupSchema) };
const none = new Map<string, string>();

describe('applyExportFlows', () => {
  const title = rule('export-flow', { target: 'title', source: 'title' }, user);
  const target = (attributes: Record<string, string[]>) => cso(attributes, { connectorId: AD, objectType: 'user', anchor: 'guid-1' });

  it('replaces a single value only when it differs', () => {
    const person = mesh({ title: held('Engineer', HR) });
    expect(applyExportFlows(person, target({ title: ['Intern'] }), [title], none).changes).toEqual([{ attribute: 'title', op: 'replace', values: ['Engineer'] }]);
    expect(applyExportFlows(person, target({ title: ['Engineer'] }), [title], none).changes).toEqual([]);
  });

  it('compares as text, so a system that reads numbers back as text is not exported again', () => {
    const uac = rule('export-flow', { target: 'userAccountControl', source: '512' }, user);
    expect(applyExportFlows(mesh({}), target({ userAccountControl: ['512'] }), [uac], none).changes).toEqual([]);
  });

  it('handles no value per flow: clear, keep, default', () => {
    const empty = mesh({});
    const clear = rule('export-flow', { target: 'title', source: 'title' }, user);
    const keep = rule('export-flow', { target: 'title', source: 'title', nullHandling: 'keep' }, user);
    const fallback = rule('export-flow', { target: 'title', source: 'title', nullHandling: 'default', defaultValue: 'Staff' }, user);
    expect(applyExportFlows(empty, target({ title: ['Old'] }), [clear], none).changes).toEqual([{ attribute: 'title', op: 'replace', values: [] }]);
    expect(applyExportFlows(empty, target({ title: [] }), [clear], none).changes).toEqual([]);
    expect(applyExportFlows(empty, target({ title: ['Old'] }), [keep], none).changes).toEqual([]);
    expect(applyExportFlows(empty, target({ title: ['Old'] }), [fallback], none).changes).toEqual([{ attribute: 'title', op: 'replace', values: ['Staff'] }]);
  });

  describe('group members (multi-valued references)', () => {
    const members = rule('export-flow', { target: 'member', reference: { attribute: 'members', by: 'dn' } }, { ...group, id: 'members' });
    const dns = new Map([
      ['m-ann', 'CN=Ann,OU=Staff,DC=corp'],
      ['m-bob', 'CN=Bob,OU=Staff,DC=corp'],
      ['m-cat', 'CN=Cat,OU=Staff,DC=corp'],
    ]);
    const adGroup = (member: string[]) => cso({ member }, { connectorId: AD, objectType: 'group', anchor: 'g-1' });

    it('adds and removes only the difference', () => {
      const team = mesh({ members: held(['m-ann', 'm-cat'], HR, { reference: true }) }, { objectType: 'group' });
      const result = applyExportFlows(team, adGroup(['CN=Ann,OU=Staff,DC=corp', 'CN=Bob,OU=Staff,DC=corp']), [members], dns);
      expect(result.changes).toEqual([
        { attribute: 'member', op: 'add', values: ['CN=Cat,OU=Staff,DC=corp'] },
        { attribute: 'member', op: 'remove', values: ['CN=Bob,OU=Staff,DC=corp'] },
      ]);
      expect(result.desired['member']).toEqual(['CN=Ann,OU=Staff,DC=corp', 'CN=Cat,OU=Staff,DC=corp']);
    });

    it('one new member of a large group is one add of one value', () => {
      const many = Array.from({ length: 3000 }, (_, i) => `m-${i}`);
      const resolver = new Map(many.map((id) => [id, `CN=${id},OU=Staff,DC=corp`]));
      const current = many.slice(0, 2999).map((id) => `cn=${id},ou=staff,dc=corp`);
      const big = mesh({ members: held(many, HR, { reference: true }) }, { objectType: 'group' });
      const result = applyExportFlows(big, adGroup(current), [members], resolver);
      expect(result.changes).toEqual([{ attribute: 'member', op: 'add', values: ['CN=m-2999,OU=Staff,DC=corp'] }]);
    });

    it('sees no change when the target spells the same DNs differently', () => {
      const team = mesh({ members: held(['m-ann'], HR, { reference: true }) }, { objectType: 'group' });
      expect(applyExportFlows(team, adGroup(['cn=ann, ou=staff,dc=CORP']), [members], dns).changes).toEqual([]);
    });

    it('reports members without an object in the target instead of dropping them silently', () => {
      const team = mesh({ members: held(['m-ann', 'm-ghost'], HR, { reference: true }) }, { objectType: 'group' });
      const result = applyExportFlows(team, adGroup([]), [members], dns);
      expect(result.changes).toEqual([{ attribute: 'member', op: 'add', values: ['CN=Ann,OU=Staff,DC=corp'] }]);
      expect(result.unresolvedReferences).toEqual([{ attribute: 'member', ruleId: 'members', values: ['m-ghost'] }]);
    });
  });

  it('writes a manager as the target’s own DN of the manager', () => {
    const manager = rule('export-flow', { target: 'manager', reference: { attribute: 'manager' } }, user);
    const person = mesh({ manager: held('m-boss', HR, { reference: true }) });
    const resolver = new Map([['m-boss', 'CN=Boss,OU=Staff,DC=corp']]);
    expect(applyExportFlows(person, target({}), [manager], resolver).changes).toEqual([{ attribute: 'manager', op: 'replace', values: ['CN=Boss,OU=Staff,DC=corp'] }]);
    // a manager not in the target (yet) leaves the target's value alone
    expect(applyExportFlows(person, target({ manager: ['CN=Old,DC=corp'] }), [manager], none).changes).toEqual([]);
  });

  it('sends everything as replace for an add, with initial-only flows', () => {
    const password = rule('export-flow', { target: 'description', source: '"initial"', initialOnly: true }, user);
    const person = mesh({ title: held('Engineer', HR) });
    const adding = applyExportFlows(person, target({}), [title, password], none, { adding: true });
    expect(adding.changes).toEqual([
      { attribute: 'title', op: 'replace', values: ['Engineer'] },
      { attribute: 'description', op: 'replace', values: ['initial'] },
    ]);
    expect(applyExportFlows(person, target({ title: ['Engineer'] }), [title, password], none).changes).toEqual([]);
  });

  it('adds and removes only the difference for multi-valued values too', () => {
    const aliases = rule('export-flow', { target: 'proxyAddresses', source: 'aliases.map(a, "smtp:" + a)' }, user);
    const person = mesh({ aliases: held(['a@x', 'b@x'], HR) });
    expect(applyExportFlows(person, target({ proxyAddresses: ['smtp:a@x', 'smtp:old@x'] }), [aliases], none).changes).toEqual([
      { attribute: 'proxyAddresses', op: 'add', values: ['smtp:b@x'] },
      { attribute: 'proxyAddresses', op: 'remove', values: ['smtp:old@x'] },
    ]);
  });
});
