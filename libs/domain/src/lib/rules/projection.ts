import { csoSubject } from '../expressions/subjects';
import type { ConnectorSpaceObjectView } from '../model/attributes';
import type { CompiledProjectionRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import { inRule } from './rule-context';

export type ProjectionDecision = { kind: 'project'; meshObjectType: string; ruleId: string } | { kind: 'none' };

/**
 * For an object no join rule matched: the first projection rule (in ordinal
 * order) whose condition holds creates a mesh object of its type; with none,
 * the object stays unlinked.
 *
 * @throws ExpressionEvaluationError naming the rule, when a condition fails for this object.
 */
export function decideProjection(cso: ConnectorSpaceObjectView, rules: readonly CompiledProjectionRule[]): ProjectionDecision {
  const subject = csoSubject(cso);
  for (const rule of inOrdinalOrder(rules)) {
    if (rule.connectorId !== cso.connectorId || rule.objectType !== cso.objectType) continue;
    const condition = rule.condition;
    if (!condition || inRule(rule.id, 'condition', () => condition.test(subject))) {
      return { kind: 'project', meshObjectType: rule.meshObjectType, ruleId: rule.id };
    }
  }
  return { kind: 'none' };
}
