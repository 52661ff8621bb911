import { createHash } from 'node:crypto';
import { normalizeDn } from '@identitymesh/domain';
import type { AttributeValue, ConnectorSchema, ImportBatch, ImportChange, ImportObjectError } from '@identitymesh/connector-sdk';
import type { ConnectorSpaceLimits, JsonObject, ObjectKey, RunObjectErrorInput, StagedObject, StagedReference } from '@identitymesh/persistence';

/** How the reference attributes of each object type name their targets, from the connector's schema. */
export interface ImportPlan {
  /** objectType → reference attribute → what its values are. */
  references: Map<string, Map<string, 'dn' | 'anchor'>>;
  objectTypes: string[];
}

/** One batch from a connector, turned into what the connector space stores. */
export interface PreparedBatch {
  upserts: StagedObject[];
  deletes: Array<{ objectType: string; anchor: string }>;
  /** Objects known to exist that could not be staged this time: kept, never taken for deleted. */
  unreadable: ObjectKey[];
  errors: RunObjectErrorInput[];
  /** Changes the connector reported (objects and errors), for the run's object count. */
  read: number;
}

export function importPlan(schema: ConnectorSchema): ImportPlan {
  const references = new Map<string, Map<string, 'dn' | 'anchor'>>();
  for (const type of schema.objectTypes) {
    const byAttribute = new Map<string, 'dn' | 'anchor'>();
    for (const attribute of type.attributes) {
      // An LDAP-style reference names its target by DN unless the schema says otherwise.
      if (attribute.type === 'reference') byAttribute.set(attribute.name, attribute.referenceBy ?? 'dn');
    }
    references.set(type.name, byAttribute);
  }
  return { references, objectTypes: schema.objectTypes.map((type) => type.name) };
}

/** Whether any object type has reference attributes at all. */
export function hasReferences(plan: ImportPlan): boolean {
  return [...plan.references.values()].some((byAttribute) => byAttribute.size > 0);
}

/** The key of a normalized DN, as `dnHash` and DN references store it. */
export function dnHash(dn: string): string {
  return createHash('sha256').update(normalizeDn(dn)).digest('hex');
}

/**
 * Turns one connector batch into staged objects: validates each object
 * against the connector space's column sizes (an object that does not fit
 * becomes a per-object error, never a failed batch), hashes what it holds,
 * extracts its references, and settles repeats of one object in the batch:
 * in a snapshot the first wins and the others are errors (the source holds
 * one object twice); in a delta the last change wins.
 */
export function prepareImportBatch(batch: ImportBatch, plan: ImportPlan, limits: ConnectorSpaceLimits, snapshot: boolean): PreparedBatch {
  const changes = new Map<string, { kind: 'upsert'; object: StagedObject } | { kind: 'delete'; objectType: string; anchor: string }>();
  const unreadable: ObjectKey[] = [];
  const errors: RunObjectErrorInput[] = batch.errors.map((error) => fromConnectorError(error));
  for (const error of batch.errors) if (error.anchor !== undefined) unreadable.push({ objectType: error.objectType, anchor: error.anchor });

  batch.changes.forEach((change, index) => {
    const position = `change ${index + 1} of the batch`;
    const problem = keyProblem(change, limits);
    if (problem) {
      errors.push({ code: 'OBJECT_REJECTED', message: `${describe(change)}: ${problem}`, objectType: fits(change.objectType, limits.objectTypeLength), anchor: fits(change.anchor, limits.anchorLength), position });
      if (fits(change.anchor, limits.anchorLength) && fits(change.objectType, limits.objectTypeLength)) unreadable.push({ objectType: change.objectType, anchor: change.anchor });
      return;
    }
    const key = `${change.objectType}\u0000${change.anchor}`;
    if (snapshot && changes.has(key)) {
      errors.push({ code: 'OBJECT_DUPLICATE_ANCHOR', message: `${describe(change)}: the source holds this anchor more than once in one import; the first is kept`, objectType: change.objectType, anchor: change.anchor, position });
      return;
    }
    if (change.kind === 'delete') {
      changes.set(key, { kind: 'delete', objectType: change.objectType, anchor: change.anchor });
      return;
    }
    const staged = stage(change, plan, limits);
    if ('problem' in staged) {
      errors.push({ code: staged.code, message: `${describe(change)}: ${staged.problem}`, objectType: change.objectType, anchor: change.anchor, position });
      unreadable.push({ objectType: change.objectType, anchor: change.anchor });
      return;
    }
    // A delta's later change of the same object replaces the earlier one.
    changes.delete(key);
    changes.set(key, { kind: 'upsert', object: staged });
  });

  const upserts: StagedObject[] = [];
  const deletes: Array<{ objectType: string; anchor: string }> = [];
  for (const change of changes.values()) {
    if (change.kind === 'upsert') upserts.push(change.object);
    else deletes.push({ objectType: change.objectType, anchor: change.anchor });
  }
  return { upserts, deletes, unreadable, errors, read: batch.changes.length + batch.errors.length };
}

function stage(change: Extract<ImportChange, { kind: 'upsert' }>, plan: ImportPlan, limits: ConnectorSpaceLimits): StagedObject | { problem: string; code: 'OBJECT_MALFORMED' | 'OBJECT_REJECTED' } {
  const referenceAttributes = plan.references.get(change.objectType) ?? new Map<string, 'dn' | 'anchor'>();
  const attributes: JsonObject = {};
  const references: StagedReference[] = [];
  for (const name of Object.keys(change.attributes).sort()) {
    const values: unknown = change.attributes[name];
    if (!Array.isArray(values) || !values.every(isAttributeValue)) {
      return { code: 'OBJECT_MALFORMED', problem: `attribute '${name}' must be a list of strings, numbers or booleans` };
    }
    attributes[name] = values;
    const by = referenceAttributes.get(name);
    if (!by) continue;
    if (name.length > limits.attributeNameLength) return { code: 'OBJECT_REJECTED', problem: `reference attribute name '${name.slice(0, 40)}…' is longer than ${limits.attributeNameLength} characters` };
    for (const value of values) {
      const text = String(value);
      if (text === '') continue;
      const targetKey = by === 'dn' ? dnHash(text) : text;
      if (targetKey.length > limits.targetKeyLength) return { code: 'OBJECT_REJECTED', problem: `'${name}' names an anchor longer than ${limits.targetKeyLength} characters` };
      references.push({ attributeName: name, targetKey });
    }
  }
  const json = JSON.stringify(attributes);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.attributesBytes) {
    return { code: 'OBJECT_REJECTED', problem: `its attributes take ${bytes} bytes; this database keeps at most ${limits.attributesBytes} per object` };
  }
  const dn = change.dn === undefined || change.dn === '' ? null : change.dn;
  return {
    objectType: change.objectType,
    anchor: change.anchor,
    distinguishedName: dn,
    dnHash: dn === null ? null : dnHash(dn),
    attributes,
    attributeHash: hashObject(dn, attributes),
    references,
  };
}

/**
 * What decides "changed": the DN and every attribute with its values, in a
 * canonical order (attribute names sorted, values sorted: a directory's
 * multi-valued attributes are sets, and a reordering is no change).
 */
export function hashObject(dn: string | null, attributes: JsonObject): string {
  const canonical = Object.keys(attributes)
    .sort()
    .map((name) => [name, [...(attributes[name] as AttributeValue[])].map((value) => JSON.stringify(value)).sort()]);
  return createHash('sha256')
    .update(JSON.stringify([dn, canonical]))
    .digest('hex');
}

function keyProblem(change: ImportChange, limits: ConnectorSpaceLimits): string | undefined {
  if (typeof change.objectType !== 'string' || change.objectType === '') return 'it has no object type';
  if (change.objectType.length > limits.objectTypeLength) return `its object type is longer than ${limits.objectTypeLength} characters`;
  if (typeof change.anchor !== 'string' || change.anchor === '') return 'it has no anchor';
  if (change.anchor.length > limits.anchorLength) return `its anchor is longer than ${limits.anchorLength} characters`;
  if (change.dn !== undefined && change.dn.length > limits.distinguishedNameLength) return `its DN is longer than ${limits.distinguishedNameLength} characters`;
  return undefined;
}

function fromConnectorError(error: ImportObjectError): RunObjectErrorInput {
  return { code: error.code, message: error.message, objectType: error.objectType, anchor: error.anchor, position: error.position };
}

function isAttributeValue(value: unknown): value is AttributeValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function fits(value: unknown, length: number): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= length ? value : undefined;
}

function describe(change: ImportChange): string {
  const anchor = typeof change.anchor === 'string' ? (change.anchor.length > 80 ? `${change.anchor.slice(0, 80)}…` : change.anchor) : String(change.anchor);
  return `${String(change.objectType).slice(0, 64)} '${anchor}'`;
}
