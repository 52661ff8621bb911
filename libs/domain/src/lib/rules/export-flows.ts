import type { ExpressionValue } from '../expressions/expression';
import { normalizeDn } from '../expressions/distinguished-name';
import { ExpressionEvaluationError } from '../expressions/expression.errors';
import { meshSubject } from '../expressions/subjects';
import { meshValues } from '../model/attributes';
import type { AttributeScalar, AttributeScalars, ConnectorSpaceObjectView, MeshObjectView } from '../model/attributes';
import type { CompiledExportFlowRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import type { ExportReferenceResolver, UnresolvedReference } from './references';
import { inRule } from './rule-context';

/**
 * A change of one attribute of a target object. The connector SDK's
 * AttributeChange has the same operations; one attribute may get both an
 * `add` and a `remove` (a group gaining and losing members), which the engine
 * maps to the connector's form.
 */
export interface ExportAttributeChange {
  attribute: string;
  op: 'replace' | 'add' | 'remove';
  values: AttributeScalar[];
}

export interface ExportFlowOptions {
  /** The target object is being created: every value goes out as `replace`, and initial-only flows run. @default false */
  adding?: boolean;
}

export interface ExportFlowResult {
  /** The smallest set of changes that brings the target to the desired values. */
  changes: ExportAttributeChange[];
  /** Every attribute the flows decided, with all its desired values (what a confirming import should find). */
  desired: Record<string, AttributeScalar[]>;
  unresolvedReferences: UnresolvedReference[];
}

function asList(value: ExpressionValue): AttributeScalar[] {
  if (value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== '');
}

/**
 * How two values are compared: DNs in canonical form, everything else as
 * text, so a CSV target that reads back "5" does not get 5 exported again
 * on every run.
 */
function comparisonKey(flow: CompiledExportFlowRule): (value: AttributeScalar) => string {
  return flow.reference?.by === 'dn' ? (v) => normalizeDn(String(v)) : (v) => String(v);
}

function distinctBy(values: readonly AttributeScalar[], key: (v: AttributeScalar) => string): AttributeScalar[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function diff(
  flow: CompiledExportFlowRule,
  desired: AttributeScalar[],
  current: AttributeScalars,
  adding: boolean,
): ExportAttributeChange[] {
  const attribute = flow.target;
  if (adding) return desired.length > 0 ? [{ attribute, op: 'replace', values: desired }] : [];
  const key = comparisonKey(flow);
  const present = current.filter((v) => v !== '');
  if (!flow.multiValued) {
    if (desired.length === 0) return present.length > 0 ? [{ attribute, op: 'replace', values: [] }] : [];
    return present.length === 1 && key(present[0]) === key(desired[0]) ? [] : [{ attribute, op: 'replace', values: [desired[0]] }];
  }
  const have = new Set(present.map(key));
  const want = new Set(desired.map(key));
  const add = desired.filter((v) => !have.has(key(v)));
  const remove = distinctBy(present, key).filter((v) => !want.has(key(v)));
  const changes: ExportAttributeChange[] = [];
  if (add.length > 0) changes.push({ attribute, op: 'add', values: add });
  if (remove.length > 0) changes.push({ attribute, op: 'remove', values: remove });
  return changes;
}

/**
 * Computes what to write to a target connector's object from its mesh
 * object (mesh → CSO), as the smallest diff against the target's current
 * values: single-valued attributes are replaced when they differ,
 * multi-valued ones get `add` and `remove` for the difference only (one
 * member joining a 3,000-member group is one `add` of one value).
 *
 * No value on the mesh side is handled per flow: `clear` removes the
 * target's values, `keep` leaves them, `default` writes the default. A
 * reference flow turns the mesh objects an attribute links to into the
 * target's own DNs or anchors through the resolver; mesh objects without an
 * object in the target are reported and left out (a single-valued reference
 * that cannot be resolved leaves the target as it is).
 *
 * @throws ExpressionEvaluationError naming the rule, when a source fails for this object.
 */
export function applyExportFlows(
  mesh: MeshObjectView,
  targetCso: ConnectorSpaceObjectView,
  flows: readonly CompiledExportFlowRule[],
  references: ExportReferenceResolver,
  options: ExportFlowOptions = {},
): ExportFlowResult {
  const adding = options.adding === true;
  const subject = meshSubject(mesh);
  const decided = new Map<string, { flow: CompiledExportFlowRule; values: AttributeScalar[] }>();
  const unresolvedReferences: UnresolvedReference[] = [];

  for (const flow of inOrdinalOrder(flows)) {
    if (flow.connectorId !== targetCso.connectorId || flow.objectType !== targetCso.objectType) continue;
    if (flow.initialOnly && !adding) continue;
    let values: AttributeScalar[];
    if (flow.reference) {
      const resolved: AttributeScalar[] = [];
      const unresolved: string[] = [];
      for (const id of meshValues(mesh.attributes[flow.reference.attribute])) {
        const name = references.get(String(id));
        if (name === undefined) unresolved.push(String(id));
        else resolved.push(name);
      }
      if (unresolved.length > 0) unresolvedReferences.push({ attribute: flow.target, ruleId: flow.id, values: unresolved });
      if (!flow.multiValued && resolved.length === 0 && unresolved.length > 0) continue;
      values = resolved;
    } else {
      const source = flow.source;
      if (!source) continue;
      values = asList(inRule(flow.id, 'source', () => source.evaluate(subject)));
    }
    values = distinctBy(values, comparisonKey(flow));
    if (!flow.multiValued && values.length > 1) {
      throw new ExpressionEvaluationError(
        'result-type',
        `yielded ${values.length} values for the single-valued attribute ${flow.target}`,
        flow.source?.source ?? flow.reference?.attribute ?? '',
      ).inRule(flow.id, flow.source ? 'source' : 'reference');
    }
    if (values.length === 0) {
      if (flow.nullHandling === 'keep') continue;
      if (flow.nullHandling === 'default') values = [...flow.defaultValues];
    }
    decided.set(flow.target, { flow, values });
  }

  const result: ExportFlowResult = { changes: [], desired: {}, unresolvedReferences };
  for (const [attribute, { flow, values }] of decided) {
    result.desired[attribute] = values;
    result.changes.push(...diff(flow, values, targetCso.attributes[attribute] ?? [], adding));
  }
  return result;
}
