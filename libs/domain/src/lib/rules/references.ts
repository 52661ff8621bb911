import { normalizeDn } from '../expressions/distinguished-name';

/**
 * The key of a connector-space reference in the import resolver: the
 * connector, whether the value is a DN or an anchor, and the value (DNs in
 * canonical form, so `CN=Doe,OU=Staff` finds `cn=doe,ou=staff`).
 */
export function csoReferenceKey(connectorId: string, by: 'dn' | 'anchor', value: string): string {
  return `${connectorId}\u0000${by}\u0000${by === 'dn' ? normalizeDn(value) : value}`;
}

/**
 * For import flows: csoReferenceKey of a referenced connector-space object →
 * the mesh object it is joined to. The engine builds it for a batch from the
 * joins it knows (including the batch's own new joins and projections).
 */
export type ImportReferenceResolver = ReadonlyMap<string, string>;

/**
 * For export flows into one target connector: mesh object id → how the
 * target names the object joined to it there (its DN or anchor, also for an
 * object still pending its add).
 */
export type ExportReferenceResolver = ReadonlyMap<string, string>;

/**
 * References that could not be turned into links: the referenced object is
 * not joined (yet, or at all — a disconnector, an object outside the batch).
 * They are left out of the value and reported, so the engine can log them
 * and retry the object once the referenced one is joined.
 */
export interface UnresolvedReference {
  attribute: string;
  ruleId: string;
  values: string[];
}
