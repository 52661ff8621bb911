import { csoSubject } from '../expressions/subjects';
import type { ConnectorSpaceObjectView, AttributeScalar } from '../model/attributes';
import type { ExpressionValue } from '../expressions/expression';
import type { CompiledJoinRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import { inRule } from './rule-context';
import { JoinAmbiguityError } from './rule.errors';

/**
 * The form join values are compared in, on both sides: trimmed, NFC,
 * lower-cased. The engine writes mesh values into IM_MeshJoinKeys in this
 * form, so a lookup is an index seek, not a function over a column.
 */
export function normalizeJoinValue(value: AttributeScalar): string {
  return String(value).normalize('NFC').trim().toLowerCase();
}

/** The key of the candidate lookup map: mesh object type, mesh attribute, normalized value. */
export function joinLookupKey(meshObjectType: string, meshAttribute: string, value: AttributeScalar): string {
  return `${meshObjectType}\u0000${meshAttribute}\u0000${normalizeJoinValue(value)}`;
}

/** One value to look up: which mesh objects of a type hold it in an attribute. */
export interface JoinKey {
  meshObjectType: string;
  meshAttribute: string;
  /** Normalized. */
  value: string;
}

/**
 * The mesh objects that hold each join key, as the engine found them in one
 * query for a whole batch (`joinLookupKey` → mesh object ids). A key with no
 * entry has no candidates.
 */
export type JoinCandidateLookup = ReadonlyMap<string, readonly string[]>;

export type JoinDecision =
  | { kind: 'joined'; meshObjectId: string; ruleId: string }
  | { kind: 'no-match' }
  | { kind: 'ambiguous'; error: JoinAmbiguityError };

function applicable(rule: CompiledJoinRule, cso: ConnectorSpaceObjectView): boolean {
  return rule.connectorId === cso.connectorId && rule.objectType === cso.objectType;
}

function values(value: ExpressionValue): AttributeScalar[] {
  if (value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => normalizeJoinValue(v) !== '');
}

/** Evaluates the mappings of one rule: per mapping, the distinct normalized values (empty when the object has none). */
function mappingValues(rule: CompiledJoinRule, cso: ConnectorSpaceObjectView): string[][] {
  const subject = csoSubject(cso);
  return rule.mappings.map((mapping, i) => [
    ...new Set(values(inRule(rule.id, `mappings[${i}].source`, () => mapping.source.evaluate(subject))).map(normalizeJoinValue)),
  ]);
}

/**
 * Every key the join rules will look up for an object, so the engine can
 * collect them for a batch and find all candidates in one query before
 * calling decideJoin.
 */
export function joinKeysFor(cso: ConnectorSpaceObjectView, rules: readonly CompiledJoinRule[]): JoinKey[] {
  const keys = new Map<string, JoinKey>();
  for (const rule of inOrdinalOrder(rules)) {
    if (!applicable(rule, cso)) continue;
    mappingValues(rule, cso).forEach((vals, i) => {
      const meshAttribute = rule.mappings[i].meshAttribute;
      for (const value of vals) {
        keys.set(joinLookupKey(rule.meshObjectType, meshAttribute, value), { meshObjectType: rule.meshObjectType, meshAttribute, value });
      }
    });
  }
  return [...keys.values()];
}

/**
 * Joins a connector-space object to a mesh object, or doesn't. Rules are
 * tried in ordinal order; within a rule every mapping must match the same
 * mesh object (a multi-valued source matches on any value). A rule with no
 * candidate passes to the next; the first with exactly one joins; the first
 * with several stops with a join ambiguity — later, looser rules are not
 * consulted, because joining past an ambiguity is a guess.
 *
 * @throws ExpressionEvaluationError naming the rule, when a mapping fails for this object.
 */
export function decideJoin(cso: ConnectorSpaceObjectView, rules: readonly CompiledJoinRule[], candidates: JoinCandidateLookup): JoinDecision {
  for (const rule of inOrdinalOrder(rules)) {
    if (!applicable(rule, cso)) continue;
    const perMapping = mappingValues(rule, cso);
    if (perMapping.some((vals) => vals.length === 0)) continue;
    let matched: Set<string> | undefined;
    perMapping.forEach((vals, i) => {
      const found = new Set<string>();
      for (const value of vals) {
        for (const id of candidates.get(joinLookupKey(rule.meshObjectType, rule.mappings[i].meshAttribute, value)) ?? []) found.add(id);
      }
      matched = matched === undefined ? found : new Set([...matched].filter((id) => found.has(id)));
    });
    const ids = [...(matched ?? [])].sort();
    if (ids.length === 1) return { kind: 'joined', meshObjectId: ids[0], ruleId: rule.id };
    if (ids.length > 1) return { kind: 'ambiguous', error: new JoinAmbiguityError(rule.id, ids, cso) };
  }
  return { kind: 'no-match' };
}
