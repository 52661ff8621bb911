import type { ConnectorSpaceObjectView, MeshObjectView } from '../model/attributes';
import type { ExpressionSubject } from './expression';

/** A connector-space object as expressions see it: its attributes plus `dn`, `anchor` and `objectType`. */
export function csoSubject(cso: ConnectorSpaceObjectView): ExpressionSubject {
  return {
    value: (attribute) => cso.attributes[attribute],
    field: (name) => (name === 'dn' ? (cso.dn ?? null) : name === 'anchor' ? cso.anchor : name === 'objectType' ? cso.objectType : undefined),
  };
}

/**
 * A mesh object as expressions see it: its attributes (reference attributes
 * as the ids of the mesh objects they point to) plus `meshObjectId` and
 * `objectType`. An attribute its holder cleared reads as absent.
 */
export function meshSubject(mesh: MeshObjectView): ExpressionSubject {
  return {
    value: (attribute) => mesh.attributes[attribute]?.value,
    field: (name) => (name === 'meshObjectId' ? mesh.id : name === 'objectType' ? mesh.objectType : undefined),
  };
}
