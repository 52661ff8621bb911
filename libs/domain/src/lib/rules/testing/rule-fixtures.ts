import type { AttributeDeclaration, AttributeScalar, ConnectorSpaceObjectView, MeshAttribute, MeshObjectView } from '../../model/attributes';
import type { SyncRuleKind } from '../../model/vocabulary';
import { compileSyncRule } from '../compile-rule';
import type { CompiledRuleOf, RuleSchemas } from '../compile-rule';

/** An HR feed (CSV) and a directory (LDAP), the two sides most rules connect. */
export const HR = 'hr-connector';
export const AD = 'ad-connector';
export const NOW = '2026-01-02T03:04:05.000Z';

export const hrPersonSchema: AttributeDeclaration[] = [
  { name: 'employeeId' },
  { name: 'givenName' },
  { name: 'sn' },
  { name: 'title' },
  { name: 'department' },
  { name: 'status' },
  { name: 'managerId', reference: true },
  { name: 'Cost Center' },
];

export const adUserSchema: AttributeDeclaration[] = [
  { name: 'employeeID' },
  { name: 'sAMAccountName' },
  { name: 'mail' },
  { name: 'title' },
  { name: 'displayName' },
  { name: 'userAccountControl' },
  { name: 'manager', reference: true },
  { name: 'proxyAddresses', multiValued: true },
  { name: 'description' },
];

export const adGroupSchema: AttributeDeclaration[] = [
  { name: 'cn' },
  { name: 'member', multiValued: true, reference: true },
];

export const meshPersonSchema: AttributeDeclaration[] = [
  { name: 'employeeId' },
  { name: 'givenName' },
  { name: 'sn' },
  { name: 'title' },
  { name: 'department' },
  { name: 'mail' },
  { name: 'displayName' },
  { name: 'accountName' },
  { name: 'status' },
  { name: 'manager', reference: true },
  { name: 'members', multiValued: true, reference: true },
  { name: 'aliases', multiValued: true },
];

export function schemas(connectorSpace: AttributeDeclaration[] = hrPersonSchema, mesh: AttributeDeclaration[] = meshPersonSchema): RuleSchemas {
  return { connectorSpace, mesh };
}

let counter = 0;

/** Compiles a rule for a test; connector and object type default to the HR person feed. */
export function rule<K extends SyncRuleKind>(
  kind: K,
  definition: unknown,
  options: { id?: string; connectorId?: string | null; objectType?: string; ordinal?: number; schemas?: RuleSchemas } = {},
): CompiledRuleOf<K> {
  counter += 1;
  return compileSyncRule(
    {
      id: options.id ?? `${kind}-${counter}`,
      kind,
      connectorId: options.connectorId === undefined ? HR : options.connectorId,
      objectType: options.objectType ?? 'person',
      ordinal: options.ordinal ?? counter,
      definition,
    },
    options.schemas ?? schemas(),
  );
}

export function cso(
  attributes: Record<string, AttributeScalar[]>,
  options: { connectorId?: string; objectType?: string; anchor?: string; dn?: string } = {},
): ConnectorSpaceObjectView {
  return {
    connectorId: options.connectorId ?? HR,
    objectType: options.objectType ?? 'person',
    anchor: options.anchor ?? 'E1001',
    dn: options.dn ?? null,
    attributes,
  };
}

/** A mesh attribute held by a connector (or by a composer with connectorId null). */
export function held(value: MeshAttribute['value'], connectorId: string | null, extra: Partial<MeshAttribute> = {}): MeshAttribute {
  return { value, connectorId, at: '2025-01-01T00:00:00.000Z', ...extra };
}

export function mesh(attributes: Record<string, MeshAttribute>, options: { id?: string; objectType?: string } = {}): MeshObjectView {
  return { id: options.id ?? 'mesh-1', objectType: options.objectType ?? 'person', attributes };
}
