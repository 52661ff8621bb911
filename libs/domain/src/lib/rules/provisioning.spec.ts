import { TemplateValueMissingError } from '../expressions/expression.errors';
import { decideProvisioning } from './provisioning';
import { AD, held, HR, mesh, rule } from './testing/rule-fixtures';

const forPeople = { connectorId: AD, objectType: 'person' };

describe('decideProvisioning', () => {
  const staff = rule(
    'provisioning',
    {
      targetConnectorId: AD,
      targetObjectType: 'user',
      condition: 'status == "active" && department != "External"',
      dnTemplate: 'CN={{displayName}},OU={{department}},OU=Staff,DC=corp',
      anchorTemplate: '{{employeeId}}',
      renameOnChange: true,
    },
    { ...forPeople, id: 'staff', ordinal: 1 },
  );
  const externals = rule(
    'provisioning',
    { targetConnectorId: AD, targetObjectType: 'user', condition: 'status == "active"', dnTemplate: 'CN={{displayName}},OU=External,DC=corp' },
    { ...forPeople, id: 'externals', ordinal: 2 },
  );
  const person = (attributes: Record<string, string>) =>
    mesh(Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, held(v, HR)])));
  const doe = person({ status: 'active', department: 'R&D, Labs', displayName: 'Doe, John', employeeId: 'E1' });

  it('provisions a new object with its DN escaped per RFC 4514 and its anchor', () => {
    expect(decideProvisioning(doe, [staff, externals], [])).toEqual([
      { kind: 'provision', ruleId: 'staff', connectorId: AD, objectType: 'user', dn: 'CN=Doe\\, John,OU=R&D\\, Labs,OU=Staff,DC=corp', anchor: 'E1' },
    ]);
  });

  it('uses the first rule of a target whose condition holds', () => {
    const ext = person({ status: 'active', department: 'External', displayName: 'Eve' });
    expect(decideProvisioning(ext, [staff, externals], [])).toEqual([
      { kind: 'provision', ruleId: 'externals', connectorId: AD, objectType: 'user', dn: 'CN=Eve,OU=External,DC=corp' },
    ]);
  });

  it('keeps an existing object, and renames it when its DN changed', () => {
    const same = { connectorId: AD, objectType: 'user', csoId: 'c1', dn: 'cn=doe\\, john,ou=r&d\\2c labs,ou=staff,dc=corp' };
    expect(decideProvisioning(doe, [staff], [same])).toEqual([{ kind: 'keep', ruleId: 'staff', target: same }]);
    const moved = { ...same, dn: 'CN=Doe\\, John,OU=Sales,OU=Staff,DC=corp' };
    expect(decideProvisioning(doe, [staff], [moved])).toEqual([
      { kind: 'rename', ruleId: 'staff', target: moved, newDn: 'CN=Doe\\, John,OU=R&D\\, Labs,OU=Staff,DC=corp' },
    ]);
  });

  it('hands an existing object to deprovisioning when its mesh object leaves scope', () => {
    const leaver = person({ status: 'terminated', displayName: 'Doe' });
    const target = { connectorId: AD, objectType: 'user', csoId: 'c1' };
    expect(decideProvisioning(leaver, [staff, externals], [target])).toEqual([{ kind: 'deprovision', target, reason: 'out-of-scope' }]);
    expect(decideProvisioning(leaver, [staff, externals], [])).toEqual([]);
  });

  it('leaves connectors without provisioning rules and other mesh object types alone', () => {
    expect(decideProvisioning(doe, [], [{ connectorId: 'other', objectType: 'user' }])).toEqual([]);
    expect(decideProvisioning(mesh({}, { objectType: 'group' }), [staff], [])).toEqual([]);
  });

  it('refuses to name an object without the values its DN needs', () => {
    const nameless = person({ status: 'active', department: 'R&D', employeeId: 'E2' });
    expect(() => decideProvisioning(nameless, [staff], [])).toThrow(TemplateValueMissingError);
    expect(() => decideProvisioning(nameless, [staff], [])).toThrow(/rule staff: dnTemplate: placeholder \{\{displayName\}\} has no value/);
  });
});
