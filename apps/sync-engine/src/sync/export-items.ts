import type { AttributeScalar, ExportAttributeChange } from '@identitymesh/domain';
import type { ExportChangeBody, JsonObject } from '@identitymesh/persistence';
import { isProvisionalAnchor } from '@identitymesh/persistence';
import { isSecretAttribute } from './sync-report';

/** The target object a change is for, as the queue item names it. */
export interface ExportTarget {
  objectType: string;
  anchor: string;
  dn: string | null;
}

/**
 * The update items that bring a target object to its desired values.
 *
 * The connector contract has one change per attribute, while the export
 * flows' smallest diff may both add and remove values of one multi-valued
 * attribute (a group that gained one member and lost another). Those become
 * two items of the same object, the removes first: add and remove values
 * are disjoint, so the order does not change the result, and each item
 * carries only the values that change — one member of a 50,000-member group
 * is one value, never the whole list. Without such an attribute it is one
 * item.
 */
export function updateItems(target: ExportTarget, changes: readonly ExportAttributeChange[]): ExportChangeBody[] {
  if (changes.length === 0) return [];
  const opsByAttribute = new Map<string, Set<string>>();
  for (const change of changes) {
    const ops = opsByAttribute.get(change.attribute) ?? new Set<string>();
    ops.add(change.op);
    opsByAttribute.set(change.attribute, ops);
  }
  const both = (attribute: string) => {
    const ops = opsByAttribute.get(attribute);
    return ops !== undefined && ops.has('add') && ops.has('remove');
  };
  const removes: ExportChangeBody['attributes'] = {};
  const rest: ExportChangeBody['attributes'] = {};
  for (const change of changes) {
    if (both(change.attribute) && change.op === 'remove') removes[change.attribute] = { op: 'remove', values: [...change.values] };
    else rest[change.attribute] = { op: change.op, values: [...change.values] };
  }
  const items: ExportChangeBody[] = [];
  if (Object.keys(removes).length > 0) items.push({ ...base('update', target), attributes: removes });
  if (Object.keys(rest).length > 0) items.push({ ...base('update', target), attributes: rest });
  return items;
}

/** The add of a provisioned object: its DN (and anchor, unless the system assigns one) and every desired value as `replace`. */
export function addItem(target: ExportTarget, desired: Readonly<Record<string, readonly AttributeScalar[]>>): ExportChangeBody {
  const attributes: NonNullable<ExportChangeBody['attributes']> = {};
  for (const [name, values] of Object.entries(desired)) if (values.length > 0) attributes[name] = { op: 'replace', values: [...values] };
  return { ...base('add', target), attributes };
}

export function deleteItem(target: ExportTarget): ExportChangeBody {
  return base('delete', target);
}

export function renameItem(target: ExportTarget, newDn: string): ExportChangeBody {
  return { ...base('rename', target), newDn };
}

/**
 * What a provisioned object holds in the connector space before its add
 * went out: the values the add carries, except secrets (an initial
 * password), which live only in the queued add.
 */
export function provisionedAttributes(desired: Readonly<Record<string, readonly AttributeScalar[]>>): JsonObject {
  const attributes: JsonObject = {};
  for (const name of Object.keys(desired).sort()) if (desired[name].length > 0 && !isSecretAttribute(name)) attributes[name] = [...desired[name]];
  return attributes;
}

function base(kind: ExportChangeBody['kind'], target: ExportTarget): ExportChangeBody {
  const change: ExportChangeBody = { kind, objectType: target.objectType };
  // A made-up anchor means nothing to the system; it assigns the real one on add.
  if (!isProvisionalAnchor(target.anchor)) change.anchor = target.anchor;
  if (target.dn) change.dn = target.dn;
  return change;
}
