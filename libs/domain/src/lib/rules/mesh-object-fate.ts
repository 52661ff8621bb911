import type { CompiledSyncRule } from './compile-rule';

/**
 * The connectors that are authoritative for a mesh object type: those with
 * a projection rule for it. They are the sources that create such objects
 * (an HR feed for people), so they are the ones whose departure ends one.
 * A connector that only joins (a directory) can come and go without deleting
 * the identity.
 */
export function authoritativeConnectors(rules: readonly CompiledSyncRule[], meshObjectType: string): Set<string> {
  const out = new Set<string>();
  for (const rule of rules) {
    if (rule.kind === 'projection' && rule.meshObjectType === meshObjectType && rule.connectorId !== null) out.add(rule.connectorId);
  }
  return out;
}

export type MeshObjectFate =
  | { fate: 'keep'; reason: 'authoritative-source-remains'; sources: string[] }
  /** No connector projects this type at all: a configuration gap, not a leaver, so nothing is deleted. */
  | { fate: 'keep'; reason: 'no-authoritative-connector'; sources: [] }
  | { fate: 'delete'; reason: 'last-authoritative-source-gone' };

/**
 * Decides, after a connector-space object disconnected from a mesh object
 * (or was deleted), whether the mesh object lives on: it is deleted when
 * none of the connectors still joined to it is authoritative for its type.
 * The engine then deprovisions its objects in target connectors (reason
 * 'mesh-object-deleted'); the deletion threshold of each connector still
 * applies to the resulting deletes.
 *
 * @param joinedConnectors the connectors of the objects still joined to the mesh object.
 */
export function meshObjectFate(input: { joinedConnectors: readonly string[]; authoritative: ReadonlySet<string> }): MeshObjectFate {
  if (input.authoritative.size === 0) return { fate: 'keep', reason: 'no-authoritative-connector', sources: [] };
  const sources = [...new Set(input.joinedConnectors.filter((c) => input.authoritative.has(c)))];
  if (sources.length > 0) return { fate: 'keep', reason: 'authoritative-source-remains', sources };
  return { fate: 'delete', reason: 'last-authoritative-source-gone' };
}
