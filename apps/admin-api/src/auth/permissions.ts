/**
 * What a caller may do in the Admin API. Every route declares one permission;
 * a caller holds permissions through roles (OIDC) or through the scope of an
 * API key. The set is closed so a typo in a route declaration fails to compile.
 */
export const PERMISSIONS = [
  'dashboard.read',
  'connectors.read',
  'connectors.write',
  'rules.read',
  'rules.write',
  'runs.read',
  'runs.trigger',
  'runs.approve',
  'objects.read',
  'audit.read',
  'secrets.write',
  'relays.manage',
  'license.write',
  'keys.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

export const ROLE_NAMES = ['reader', 'operator', 'admin'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export function isRoleName(value: unknown): value is RoleName {
  return typeof value === 'string' && (ROLE_NAMES as readonly string[]).includes(value);
}

const READER: readonly Permission[] = ['dashboard.read', 'connectors.read', 'rules.read', 'runs.read', 'objects.read'];
// Operators run the system day to day (trigger runs, release held deletes, read the audit log); changing what it does is an admin's.
const OPERATOR: readonly Permission[] = [...READER, 'runs.trigger', 'runs.approve', 'audit.read'];

/** The permissions each role bundles; docs/admin-api.md has the same table. */
export const ROLE_PERMISSIONS: Readonly<Record<RoleName, readonly Permission[]>> = {
  reader: READER,
  operator: OPERATOR,
  admin: PERMISSIONS,
};

/** Every permission the roles grant together, in the order of PERMISSIONS. */
export function permissionsOfRoles(roles: Iterable<RoleName>): Permission[] {
  const granted = new Set<Permission>();
  for (const role of roles) for (const permission of ROLE_PERMISSIONS[role]) granted.add(permission);
  return PERMISSIONS.filter((p) => granted.has(p));
}
