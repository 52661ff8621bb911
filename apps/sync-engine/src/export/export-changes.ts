import { normalizeDn } from '@identitymesh/domain';
import type { AttributeChange, ExportChange } from '@identitymesh/connector-sdk';
import { applyValues, AuditEventInput, ConnectorSpaceObjectView, ExportChangeBody, ExportItemView, ExportValue, JsonObject, JsonValue, RunChangeInput } from '@identitymesh/persistence';

/**
 * Pure pieces of the export profiles: what a change does to the staged
 * object, how it reads in an audit entry or a preview, and whether a
 * confirming import found it arrived.
 */

/** The key of an object's DN in change reports and audit entries: no attribute is spelled like it. */
export const DN_KEY = '@dn';

const REDACTED = '[redacted]';
/** Attribute names that hold secrets: their values never reach an audit entry or a report, and no import gives them back to compare. */
const SECRET_NAME_PARTS = ['password', 'passwd', 'pwd', 'secret', 'token', 'credential', 'privatekey', 'apikey'];

export function isSecretAttribute(name: string): boolean {
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_NAME_PARTS.some((part) => plain.includes(part));
}

/** The change as the connector gets it: the queue item's id is the export's stable id. */
export function toConnectorChange(item: ExportItemView): ExportChange {
  return { ...(item.change as Omit<ExportChange, 'id' | 'kind'>), id: item.id, kind: item.operation };
}

/** A staged object as the system holds it once the change has been applied. */
export interface ObjectState {
  anchor: string;
  dn: string | null;
  attributes: JsonObject;
}

/**
 * The object after an applied add, update or rename: its values with the
 * change's applied (an attribute the change empties is dropped, as a
 * directory drops it), its DN (an add's, a rename's new one) and its anchor
 * (one the system assigned on add replaces the provisional one).
 */
export function stateAfter(object: ConnectorSpaceObjectView, change: ExportChangeBody, assignedAnchor?: string): ObjectState {
  const attributes: JsonObject = { ...object.attributes };
  for (const [name, attributeChange] of Object.entries(change.attributes ?? {})) {
    const current = Array.isArray(attributes[name]) ? (attributes[name] as ExportValue[]) : [];
    const values = applyValues(change.kind === 'add' ? [] : current, attributeChange);
    if (values.length === 0) delete attributes[name];
    else attributes[name] = values;
  }
  const dn = change.kind === 'rename' ? (change.newDn ?? object.distinguishedName) : change.kind === 'add' ? (change.dn ?? object.distinguishedName) : object.distinguishedName;
  return { anchor: assignedAnchor ?? object.anchor, dn: dn ?? null, attributes };
}

/** Before and after of each attribute a change touches (the DN as {@link DN_KEY}), secrets redacted. */
export function attributeDiff(object: ConnectorSpaceObjectView | undefined, change: ExportChangeBody, after: ObjectState | undefined): Record<string, { before: JsonValue; after: JsonValue }> {
  const diff: Record<string, { before: JsonValue; after: JsonValue }> = {};
  const values = (state: JsonObject | undefined, name: string): JsonValue => (state && Array.isArray(state[name]) ? (state[name] as JsonValue) : null);
  const entry = (name: string, before: JsonValue, afterValue: JsonValue) => {
    diff[name] = isSecretAttribute(name) ? { before: before === null ? null : REDACTED, after: afterValue === null ? null : REDACTED } : { before, after: afterValue };
  };
  switch (change.kind) {
    case 'add':
      if (after?.dn) entry(DN_KEY, null, after.dn);
      for (const name of Object.keys(change.attributes ?? {})) entry(name, null, values(after?.attributes, name));
      break;
    case 'update':
      for (const name of Object.keys(change.attributes ?? {})) entry(name, values(object?.attributes, name), values(after?.attributes, name));
      break;
    case 'rename':
      entry(DN_KEY, object?.distinguishedName ?? change.dn ?? null, change.newDn ?? null);
      break;
    case 'delete':
      if (object?.distinguishedName) entry(DN_KEY, object.distinguishedName, null);
      for (const name of Object.keys(object?.attributes ?? {}).sort()) entry(name, values(object?.attributes, name), null);
      break;
  }
  return diff;
}

/** What names an object to a reader of a report: its DN, else its anchor. */
export function objectRef(object: ConnectorSpaceObjectView | undefined, change: ExportChangeBody): string {
  return change.dn ?? object?.distinguishedName ?? change.anchor ?? object?.anchor ?? '(unknown object)';
}

/** One line of a preview's change report. */
export function previewLine(item: ExportItemView, object: ConnectorSpaceObjectView | undefined, held: boolean): RunChangeInput {
  const after = object && item.operation !== 'delete' ? stateAfter(object, item.change) : undefined;
  return {
    objectRef: objectRef(object, item.change),
    targetKind: 'export',
    changeType: held ? 'delete-held' : item.operation,
    attributes: attributeDiff(object, item.change, after),
    discriminator: item.id,
  };
}

/** The audit entry of one recorded export: engine, action `export.<operation>`, the object's before and after with secrets redacted. */
export function auditEntry(input: {
  item: ExportItemView;
  object: ConnectorSpaceObjectView;
  after: ObjectState | undefined;
  outcome: 'applied' | 'already-applied';
  engineInstanceId: string;
  runId: string;
  at: Date;
}): AuditEventInput {
  const { item, object, after } = input;
  const diff = attributeDiff(object, item.change, after);
  const side = (which: 'before' | 'after'): JsonObject => {
    const attributes: JsonObject = {};
    for (const [name, values] of Object.entries(diff)) if (name !== DN_KEY) attributes[name] = values[which];
    return attributes;
  };
  const identity = { connectorId: item.connectorId, objectType: object.objectType };
  return {
    actorType: 'engine',
    actor: input.engineInstanceId,
    action: `export.${item.operation}`,
    targetType: 'connector-space-object',
    targetId: object.id,
    runId: input.runId,
    correlationId: item.id,
    at: input.at,
    before: item.operation === 'add' ? null : { ...identity, anchor: object.anchor, dn: object.distinguishedName, attributes: side('before') },
    after: item.operation === 'delete' ? { ...identity, anchor: object.anchor, deleted: true, outcome: input.outcome } : { ...identity, anchor: after?.anchor ?? object.anchor, dn: after?.dn ?? null, attributes: side('after'), outcome: input.outcome },
  };
}

/** How a confirming import judged one export. */
export interface ExportVerdict {
  item: ExportItemView;
  /** Empty: confirmed. Otherwise what the system holds differently, one line per attribute. */
  differences: string[];
}

/**
 * Whether what an import read of one object shows the object's succeeded
 * exports arrived. Newer exports decide the attributes (and DN) they wrote;
 * an older one is judged only on what no newer one wrote again. Secret
 * attributes are not judged: no system gives them back. Values compare as
 * text (a number written may come back as a string); values of references
 * by DN compare as normalized DNs.
 */
export function judgeExports(items: readonly ExportItemView[], read: { distinguishedName: string | null; attributes: JsonObject }, references: ReadonlyMap<string, 'dn' | 'anchor'>): ExportVerdict[] {
  const newestFirst = [...items].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || b.seq - a.seq);
  const judged = new Set<string>();
  let dnJudged = false;
  const verdicts: ExportVerdict[] = [];
  for (const item of newestFirst) {
    const differences: string[] = [];
    const change = item.change;
    const wantedDn = change.kind === 'rename' ? change.newDn : change.kind === 'add' ? change.dn : undefined;
    if (wantedDn !== undefined && !dnJudged) {
      dnJudged = true;
      if (read.distinguishedName !== null && normalizeDn(read.distinguishedName) !== normalizeDn(wantedDn)) differences.push(`DN: the export wrote ${wantedDn}, the system holds ${read.distinguishedName}`);
    }
    for (const [name, attributeChange] of Object.entries(change.attributes ?? {})) {
      if (judged.has(name) || isSecretAttribute(name)) continue;
      judged.add(name);
      const problem = compare(name, attributeChange, read.attributes[name], references.get(name) === 'dn');
      if (problem) differences.push(problem);
    }
    verdicts.push({ item, differences });
  }
  return verdicts;
}

function compare(name: string, change: AttributeChange | { op: string; values: ExportValue[] }, held: JsonValue | undefined, byDn: boolean): string | undefined {
  const key = (value: unknown) => (byDn ? normalizeDn(String(value)) : String(value));
  const have = Array.isArray(held) ? (held as unknown[]) : [];
  const haveKeys = new Set(have.map(key));
  const wanted = change.values.map(key);
  const show = (values: readonly unknown[]) => `[${values.map((value) => String(value)).join(', ')}]`;
  switch (change.op) {
    case 'replace': {
      const wantedKeys = new Set(wanted);
      if (wantedKeys.size === haveKeys.size && [...wantedKeys].every((value) => haveKeys.has(value))) return undefined;
      return `${name}: the export wrote ${show(change.values)}, the system holds ${show(have)}`;
    }
    case 'add': {
      const missing = change.values.filter((value) => !haveKeys.has(key(value)));
      return missing.length === 0 ? undefined : `${name}: the export added ${show(missing)}, the system does not hold ${missing.length === 1 ? 'it' : 'them'}`;
    }
    case 'remove': {
      const left = change.values.filter((value) => haveKeys.has(key(value)));
      return left.length === 0 ? undefined : `${name}: the export removed ${show(left)}, the system still holds ${left.length === 1 ? 'it' : 'them'}`;
    }
    default:
      return undefined;
  }
}
