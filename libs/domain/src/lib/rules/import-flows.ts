import type { ExpressionValue } from '../expressions/expression';
import { ExpressionEvaluationError } from '../expressions/expression.errors';
import { csoSubject } from '../expressions/subjects';
import type { AttributeScalar, ConnectorSpaceObjectView, MeshAttribute, MeshObjectView } from '../model/attributes';
import type { CompiledImportFlowRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import { precedenceVerdict } from './precedence';
import type { PrecedenceTable, PrecedenceVerdict } from './precedence';
import { csoReferenceKey } from './references';
import type { ImportReferenceResolver, UnresolvedReference } from './references';
import { inRule } from './rule-context';

export interface ImportFlowOptions {
  /** ISO 8601 time stamped on changed attributes: the run's clock, since the rules read none. */
  now: string;
  /** @default an empty map: every reference is unresolved */
  references?: ImportReferenceResolver;
}

/** One mesh attribute that changed value or holder. */
export interface MeshAttributeChange {
  attribute: string;
  before: MeshAttribute | undefined;
  after: MeshAttribute | undefined;
  ruleId?: string;
}

/** A value a source offered but precedence refused. */
export interface PrecedenceConflict {
  attribute: string;
  ruleId: string;
  connectorId: string;
  /** The connector holding the attribute; null for a composer. */
  holder: string | null;
  verdict: PrecedenceVerdict;
}

export interface ImportFlowResult {
  /** The mesh object's attributes after the flows; unchanged ones are the same objects as before. */
  attributes: Record<string, MeshAttribute>;
  changes: MeshAttributeChange[];
  conflicts: PrecedenceConflict[];
  unresolvedReferences: UnresolvedReference[];
}

function present(values: readonly AttributeScalar[]): AttributeScalar[] {
  return values.filter((v) => v !== '');
}

function distinct(values: readonly AttributeScalar[]): AttributeScalar[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = `${typeof v}:${String(v)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function asList(value: ExpressionValue): AttributeScalar[] {
  if (value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function sameValue(a: MeshAttribute['value'], b: MeshAttribute['value']): boolean {
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    const keys = new Set(a.map((v) => `${typeof v}:${String(v)}`));
    return b.every((v) => keys.has(`${typeof v}:${String(v)}`));
  }
  return a === b;
}

/** Same value from the same holder: nothing to write, and `at` keeps telling when it last changed. */
export function sameMeshAttribute(a: MeshAttribute | undefined, b: MeshAttribute | undefined): boolean {
  if (!a || !b) return a === b;
  return a.connectorId === b.connectorId && (a.reference === true) === (b.reference === true) && sameValue(a.value, b.value);
}

/**
 * Flows a connector-space object's values into its mesh object (CSO → mesh).
 *
 * For each import flow of the object's connector and type (ordinal order):
 * the source expression, or for a reference flow the referenced objects'
 * mesh objects, gives the new value. No value (null, empty text, empty list)
 * is handled per the flow: `clear` writes an empty value that the source
 * still holds (a lower source cannot fill it), `keep` leaves the attribute as
 * it is, `default` writes the default value. Then precedence decides whether
 * this source may write (see precedenceVerdict); refused values are reported
 * as conflicts.
 *
 * A reference value (another object's DN or anchor in the same connector,
 * or in the connector the flow names) becomes the id of the mesh object that
 * object is joined to, via the resolver. Unresolved ones are reported; a multi-valued reference flows its
 * resolved values, a single-valued one whose value is unresolved leaves the
 * attribute as it is (a manager not joined yet is not "no manager").
 *
 * @param connectorId the connector of `cso`, recorded as the values' source.
 * @throws ExpressionEvaluationError naming the rule, when a source fails for this object.
 */
export function applyImportFlows(
  mesh: MeshObjectView,
  cso: ConnectorSpaceObjectView,
  connectorId: string,
  flows: readonly CompiledImportFlowRule[],
  precedence: PrecedenceTable,
  options: ImportFlowOptions,
): ImportFlowResult {
  const attributes: Record<string, MeshAttribute> = {};
  for (const [name, attribute] of Object.entries(mesh.attributes)) if (attribute) attributes[name] = attribute;
  const result: ImportFlowResult = { attributes, changes: [], conflicts: [], unresolvedReferences: [] };
  const subject = csoSubject(cso);
  const resolver = options.references ?? new Map<string, string>();

  for (const rule of inOrdinalOrder(flows)) {
    if (rule.connectorId !== connectorId || rule.objectType !== cso.objectType) continue;
    let values: AttributeScalar[];
    if (rule.reference) {
      const { attribute, by } = rule.reference;
      const referenced = rule.reference.connectorId ?? connectorId;
      const resolved: string[] = [];
      const unresolved: string[] = [];
      for (const raw of present(cso.attributes[attribute] ?? [])) {
        const meshObjectId = resolver.get(csoReferenceKey(referenced, by, String(raw)));
        if (meshObjectId === undefined) unresolved.push(String(raw));
        else resolved.push(meshObjectId);
      }
      if (unresolved.length > 0) result.unresolvedReferences.push({ attribute: rule.target, ruleId: rule.id, values: unresolved });
      if (!rule.multiValued && resolved.length === 0 && unresolved.length > 0) continue;
      values = distinct(resolved);
    } else {
      const source = rule.source;
      if (!source) continue;
      values = distinct(present(asList(inRule(rule.id, 'source', () => source.evaluate(subject)))));
      if (!rule.multiValued && values.length > 1) {
        throw new ExpressionEvaluationError(
          'result-type',
          `yielded ${values.length} values for the single-valued mesh attribute ${rule.target}`,
          source.source,
        ).inRule(rule.id, 'source');
      }
    }

    let value: MeshAttribute['value'];
    if (values.length > 0) value = rule.multiValued ? values : values[0];
    else if (rule.nullHandling === 'keep') continue;
    else if (rule.nullHandling === 'clear') value = null;
    else value = rule.multiValued ? [...rule.defaultValues] : rule.defaultValues[0];

    const holder = attributes[rule.target];
    const { allowed, verdict } = precedenceVerdict(precedence, mesh.objectType, rule.target, connectorId, holder);
    if (!allowed) {
      result.conflicts.push({ attribute: rule.target, ruleId: rule.id, connectorId, holder: holder?.connectorId ?? null, verdict });
      continue;
    }
    const next: MeshAttribute = { value, connectorId, ruleId: rule.id, at: options.now };
    if (rule.reference) next.reference = true;
    if (sameMeshAttribute(holder, next)) continue;
    attributes[rule.target] = next;
    result.changes.push({ attribute: rule.target, before: holder, after: next, ruleId: rule.id });
  }
  return result;
}

/**
 * Drops every attribute a connector holds on a mesh object, for when its
 * connector-space object disconnects or is deleted. The engine then
 * re-applies the import flows of the remaining joined objects for the
 * released attributes, so the next source in precedence takes over.
 */
export function releaseContributions(
  mesh: MeshObjectView,
  connectorId: string,
): { attributes: Record<string, MeshAttribute>; released: MeshAttributeChange[] } {
  const attributes: Record<string, MeshAttribute> = {};
  const released: MeshAttributeChange[] = [];
  for (const [name, attribute] of Object.entries(mesh.attributes)) {
    if (!attribute) continue;
    if (attribute.connectorId === connectorId) released.push({ attribute: name, before: attribute, after: undefined, ruleId: attribute.ruleId });
    else attributes[name] = attribute;
  }
  return { attributes, released };
}
