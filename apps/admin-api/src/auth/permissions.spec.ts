import { PERMISSIONS, permissionsOfRoles, ROLE_PERMISSIONS } from './permissions';

describe('roles', () => {
  it('nest: every reader permission is an operator’s, every operator permission an admin’s, and an admin holds all', () => {
    for (const permission of ROLE_PERMISSIONS.reader) expect(ROLE_PERMISSIONS.operator).toContain(permission);
    for (const permission of ROLE_PERMISSIONS.operator) expect(ROLE_PERMISSIONS.admin).toContain(permission);
    expect(permissionsOfRoles(['admin'])).toEqual([...PERMISSIONS]);
  });

  it('keeps changes of configuration, secrets and keys to admins', () => {
    for (const permission of ['connectors.write', 'rules.write', 'secrets.write', 'keys.manage', 'license.write', 'relays.manage'] as const) {
      expect(permissionsOfRoles(['reader', 'operator'])).not.toContain(permission);
    }
    expect(permissionsOfRoles([])).toEqual([]);
  });
});
