import type { ExportOperation } from '@identitymesh/domain';

/** One value of an exported attribute. */
export type ExportValue = string | number | boolean;

/** A change of one attribute, as the connector contract spells it. */
export interface ExportAttributeChange {
  op: 'replace' | 'add' | 'remove';
  values: ExportValue[];
}

/**
 * A pending export as stored in `IM_ExportQueue.changes`: the connector
 * contract's `ExportChange` without its id (the queue item's id is that).
 * Structural, so the engine passes the SDK's type as it is.
 */
export interface ExportChangeBody {
  kind: ExportOperation;
  objectType: string;
  /** Known for everything but an add to a system that assigns anchors. */
  anchor?: string;
  /** The object's DN (its new DN for an add). */
  dn?: string;
  /** For `rename`: where the object moves to. */
  newDn?: string;
  /** For `add`: every value as `replace`; for `update`: only what changes. */
  attributes?: Record<string, ExportAttributeChange>;
}

/**
 * The one change that has the effect of `older` followed by `newer`, for an
 * object whose `older` change was never sent; undefined when no single change
 * says both, and `newer` must then wait behind `older`.
 *
 * | older \ newer | add | update | rename | delete |
 * |---|---|---|---|---|
 * | add | the newer add | the add with the update applied to its values | the add at the new DN | the delete |
 * | update | — | one update (when each attribute's two changes combine) | — | the delete |
 * | rename | — | — | one rename to the last DN | the delete, at the DN before the rename |
 * | delete | — | — | — | the newer delete |
 *
 * An add and a delete do not cancel out: the delete is still sent (a delete
 * of an absent object is reconciled as already applied), so the engine's own
 * clean-up of the object runs as for any delete.
 */
export function mergeExportChanges(older: ExportChangeBody, newer: ExportChangeBody): ExportChangeBody | undefined {
  if (older.objectType !== newer.objectType) return undefined;
  const anchor = newer.anchor ?? older.anchor;
  if (newer.kind === 'delete') {
    if (older.kind === 'rename') return withoutUndefined({ kind: 'delete', objectType: newer.objectType, anchor, dn: older.dn ?? newer.dn });
    return withoutUndefined({ kind: 'delete', objectType: newer.objectType, anchor, dn: newer.dn ?? older.dn });
  }
  switch (older.kind) {
    case 'add':
      if (newer.kind === 'add') return withoutUndefined({ ...newer, anchor, dn: newer.dn ?? older.dn });
      if (newer.kind === 'rename') return withoutUndefined({ ...older, anchor, dn: newer.newDn ?? older.dn });
      return withoutUndefined({ ...older, anchor, attributes: applyToAdd(older.attributes ?? {}, newer.attributes ?? {}) });
    case 'update': {
      if (newer.kind !== 'update') return undefined;
      const attributes = combineUpdates(older.attributes ?? {}, newer.attributes ?? {});
      return attributes && withoutUndefined({ ...older, anchor, dn: newer.dn ?? older.dn, attributes });
    }
    case 'rename':
      return newer.kind === 'rename' ? withoutUndefined({ ...older, anchor, newDn: newer.newDn }) : undefined;
    case 'delete':
      return undefined;
  }
}

/** The values an add writes after `changes` are applied to them: every attribute a `replace`. */
function applyToAdd(add: Record<string, ExportAttributeChange>, changes: Record<string, ExportAttributeChange>): Record<string, ExportAttributeChange> {
  const result: Record<string, ExportAttributeChange> = {};
  for (const [name, change] of Object.entries(add)) result[name] = { op: 'replace', values: change.op === 'remove' ? [] : [...change.values] };
  for (const [name, change] of Object.entries(changes)) result[name] = { op: 'replace', values: applyValues(result[name]?.values ?? [], change) };
  return result;
}

function combineUpdates(older: Record<string, ExportAttributeChange>, newer: Record<string, ExportAttributeChange>): Record<string, ExportAttributeChange> | undefined {
  const result: Record<string, ExportAttributeChange> = { ...older };
  for (const [name, change] of Object.entries(newer)) {
    const before = older[name];
    if (!before || change.op === 'replace') result[name] = { op: change.op, values: [...change.values] };
    else if (before.op === 'replace') result[name] = { op: 'replace', values: applyValues(before.values, change) };
    else if (before.op === change.op) result[name] = { op: change.op, values: union(before.values, change.values) };
    // An add then a remove of one attribute (or the reverse) needs two changes of it.
    else return undefined;
  }
  return result;
}

/** Values after one attribute change, as a directory applies it: a set, in first-seen order. */
export function applyValues(values: readonly ExportValue[], change: ExportAttributeChange): ExportValue[] {
  switch (change.op) {
    case 'replace':
      return union([], change.values);
    case 'add':
      return union(values, change.values);
    case 'remove': {
      const removed = new Set(change.values.map(valueKey));
      return values.filter((value) => !removed.has(valueKey(value)));
    }
  }
}

function union(a: readonly ExportValue[], b: readonly ExportValue[]): ExportValue[] {
  const seen = new Set<string>();
  const result: ExportValue[] = [];
  for (const value of [...a, ...b]) {
    const key = valueKey(value);
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(value);
  }
  return result;
}

/** Identity of a value: 5 and '5' are different values to a typed system. */
export function valueKey(value: ExportValue): string {
  return JSON.stringify(value);
}

function withoutUndefined(change: ExportChangeBody): ExportChangeBody {
  return Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)) as unknown as ExportChangeBody;
}
