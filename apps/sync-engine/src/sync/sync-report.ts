import { meshValues } from '@identitymesh/domain';
import type { AttributeScalar, AttributeScalars, MeshAttribute } from '@identitymesh/domain';
import type { AttributeChange, ExportChangeBody, JsonObject, JsonValue } from '@identitymesh/persistence';

/**
 * Attribute names whose values are never written to the audit log or a
 * run's change report. Secrets are not supposed to flow through the mesh at
 * all (rules hold secret references, not values); this is the second line
 * for an initial password some export flow computes anyway.
 */
const SECRET_ATTRIBUTE = /pass(word|wd|phrase)?|pwd|secret|token|credential|private.?key/i;

export const REDACTED = '[redacted]';
/** Lists up to this long are shown whole; longer ones by count and the values that changed. */
const WHOLE_LIST = 20;
/** Changed values listed per attribute; the rest are counted. */
const CHANGED_VALUES = 50;
/** Characters of one text value kept (MariaDB/MySQL hold 64 KiB per JSON column). */
const TEXT_LENGTH = 512;

export function isSecretAttribute(name: string): boolean {
  return SECRET_ATTRIBUTE.test(name);
}

/** Before and after of every mesh attribute whose value changed, shaped for the audit log (large lists as counts plus what changed). */
export function meshAttributeChanges(
  before: Readonly<Record<string, MeshAttribute | undefined>>,
  after: Readonly<Record<string, MeshAttribute | undefined>>,
): Record<string, AttributeChange> {
  const changes: Record<string, AttributeChange> = {};
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[name];
    const b = after[name];
    if (sameValues(a, b)) continue;
    changes[name] = valueChange(name, a, b);
  }
  return changes;
}

/** Every attribute of a mesh object as one side of a change (a create's after, a delete's before). */
export function meshAttributeValues(attributes: Readonly<Record<string, MeshAttribute | undefined>>): JsonObject {
  const out: JsonObject = {};
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    if (attribute) out[name] = isSecretAttribute(name) ? REDACTED : shapeList(meshValues(attribute), isList(attribute));
  }
  return out;
}

/** What one export item does to each attribute, against the target object's current values. */
export function exportAttributeChanges(item: ExportChangeBody, current: Readonly<Record<string, AttributeScalars | undefined>>): Record<string, AttributeChange> {
  const changes: Record<string, AttributeChange> = {};
  for (const [name, change] of Object.entries(item.attributes ?? {})) {
    const secret = isSecretAttribute(name);
    const before = current[name] ?? [];
    const beforeShape = before.length === 0 ? null : secret ? REDACTED : shapeList(before, before.length !== 1);
    if (change.op === 'replace') {
      changes[name] = { before: beforeShape, after: secret ? REDACTED : shapeList(change.values, change.values.length !== 1) };
    } else {
      changes[name] = { before: beforeShape, after: secret ? { [change.op]: REDACTED } : { [change.op]: clipValues(change.values), count: change.values.length } };
    }
  }
  return changes;
}

function valueChange(name: string, before: MeshAttribute | undefined, after: MeshAttribute | undefined): AttributeChange {
  if (isSecretAttribute(name)) return { before: before && before.value !== null ? REDACTED : null, after: after && after.value !== null ? REDACTED : null };
  const from = meshValues(before);
  const to = meshValues(after);
  const list = isList(before) || isList(after);
  if (!list || Math.max(from.length, to.length) <= WHOLE_LIST) return { before: shapeList(from, list), after: shapeList(to, list) };
  const had = new Set(from.map(key));
  const has = new Set(to.map(key));
  const added = to.filter((value) => !had.has(key(value)));
  const removed = from.filter((value) => !has.has(key(value)));
  return {
    before: { count: from.length },
    after: { count: to.length, added: clipValues(added), addedCount: added.length, removed: clipValues(removed), removedCount: removed.length },
  };
}

function sameValues(a: MeshAttribute | undefined, b: MeshAttribute | undefined): boolean {
  const x = meshValues(a);
  const y = meshValues(b);
  if (x.length !== y.length || isList(a) !== isList(b)) return false;
  const keys = new Set(x.map(key));
  return y.every((value) => keys.has(key(value)));
}

function isList(attribute: MeshAttribute | undefined): boolean {
  return Array.isArray(attribute?.value);
}

function shapeList(values: readonly AttributeScalar[], list: boolean): JsonValue {
  if (!list) return values.length === 0 ? null : clip(values[0]);
  if (values.length <= WHOLE_LIST) return values.map(clip);
  return { count: values.length, first: clipValues(values) };
}

function clipValues(values: readonly AttributeScalar[]): AttributeScalar[] {
  return values.slice(0, CHANGED_VALUES).map(clip);
}

function clip(value: AttributeScalar): AttributeScalar {
  return typeof value === 'string' && value.length > TEXT_LENGTH ? `${value.slice(0, TEXT_LENGTH)}…` : value;
}

function key(value: AttributeScalar): string {
  return `${typeof value}:${String(value)}`;
}
