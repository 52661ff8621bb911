import { csoSubject } from '../expressions/subjects';
import type { ConnectorSpaceObjectView } from '../model/attributes';
import type { CompiledScopingRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import { inRule } from './rule-context';

export interface ScopeDecision {
  inScope: boolean;
  /** The rule that put the object out of scope. */
  ruleId?: string;
}

/**
 * Whether a connector-space object takes part in sync. Every scoping rule of
 * its connector and object type must pass; without rules everything is in
 * scope. An object out of scope is a disconnector: staged, never joined or
 * projected.
 *
 * @throws ExpressionEvaluationError naming the rule, when a condition fails for this object.
 */
export function evaluateScope(cso: ConnectorSpaceObjectView, rules: readonly CompiledScopingRule[]): ScopeDecision {
  const subject = csoSubject(cso);
  for (const rule of inOrdinalOrder(rules)) {
    if (rule.connectorId !== cso.connectorId || rule.objectType !== cso.objectType) continue;
    if (!inRule(rule.id, 'condition', () => rule.condition.test(subject))) return { inScope: false, ruleId: rule.id };
  }
  return { inScope: true };
}
