/**
 * The shapes the sync rules work on: connector-space objects and mesh objects
 * as plain data. They mirror the connector SDK and the persistence entities
 * without importing either, so the rules stay pure and the engine maps.
 */

/** One attribute value: strings for text, datetimes (ISO 8601), binary (base64) and references (a DN or anchor). */
export type AttributeScalar = string | number | boolean;

/** Every value of one attribute; empty means no value. */
export type AttributeScalars = readonly AttributeScalar[];

/** What a rule may know about an attribute before it sees any object. */
export interface AttributeDeclaration {
  name: string;
  /** Expressions see a list instead of a single value. @default false */
  multiValued?: boolean;
  /** The values name other objects (a DN or anchor in connector space, mesh object ids in the mesh). @default false */
  reference?: boolean;
}

/** The engine's staged copy of one object of one connector, as the rules see it. */
export interface ConnectorSpaceObjectView {
  /** The CSO's own id, when it has one yet (a CSO about to be provisioned has none). */
  id?: string;
  connectorId: string;
  objectType: string;
  anchor: string;
  dn?: string | null;
  attributes: Readonly<Record<string, AttributeScalars | undefined>>;
}

/**
 * One mesh attribute with its provenance. `connectorId` is the source that
 * holds it for precedence, or null when a composer rule computed it; `value`
 * null means that source cleared it (it still holds the attribute, so a
 * lower-ranked source cannot fill it). Reference attributes hold mesh object ids.
 */
export interface MeshAttribute {
  value: AttributeScalar | AttributeScalar[] | null;
  /** The values are mesh object ids. @default false */
  reference?: boolean;
  connectorId: string | null;
  ruleId?: string;
  /** ISO 8601 time the value or its holder last changed. */
  at: string;
}

/** The central identity (person, group, …) as the rules see it. */
export interface MeshObjectView {
  id: string;
  objectType: string;
  attributes: Readonly<Record<string, MeshAttribute | undefined>>;
}

/** The values of a mesh attribute as a list, whatever its shape. */
export function meshValues(attribute: MeshAttribute | undefined): AttributeScalars {
  if (!attribute || attribute.value === null) return [];
  return Array.isArray(attribute.value) ? attribute.value : [attribute.value];
}
