import { assertUnreachable } from '../errors/domain-error';
import { csoSubject } from '../expressions/subjects';
import type { AttributeScalar, ConnectorSpaceObjectView } from '../model/attributes';
import type { CompiledDeprovisioningRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import type { ExportAttributeChange } from './export-flows';
import { inRule } from './rule-context';

/** Why a target object is deprovisioned: its mesh object left provisioning scope, or the mesh object itself is gone. */
export type DeprovisioningReason = 'out-of-scope' | 'mesh-object-deleted';

export type DeprovisioningDecision =
  /** Unlink only; the object stays in the target system untouched. */
  | { kind: 'disconnect'; ruleId?: string; reason: DeprovisioningReason }
  /**
   * Write the disabling attributes (empty when the object is disabled already).
   * `disconnect`: unlink afterwards too, because there is no mesh object left
   * to stay joined to; while the mesh object exists the link stays, so a rehire
   * finds and re-enables the same account.
   */
  | { kind: 'disable'; ruleId: string; reason: DeprovisioningReason; changes: ExportAttributeChange[]; disconnect: boolean }
  /** Delete the object from the target system (subject to the connector's deletion threshold). */
  | { kind: 'delete'; ruleId: string; reason: DeprovisioningReason };

function asList(value: AttributeScalar | AttributeScalar[] | null): AttributeScalar[] {
  if (value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== '');
}

/**
 * What happens to a target connector's object whose mesh object left scope
 * or was deleted: the first deprovisioning rule (ordinal order) of its
 * connector and object type decides. Without one, the object is only
 * disconnected — deleting or disabling accounts is never a default.
 *
 * 'disable' evaluates its attributes against the target object itself (the
 * mesh object may be gone), e.g. `bitOr(int(userAccountControl), 2)`, and
 * returns only the changes it still needs, so a repeated deprovisioning
 * writes nothing.
 *
 * @throws ExpressionEvaluationError naming the rule, for this object.
 */
export function decideDeprovisioning(
  targetCso: ConnectorSpaceObjectView,
  rules: readonly CompiledDeprovisioningRule[],
  reason: DeprovisioningReason,
): DeprovisioningDecision {
  const rule = inOrdinalOrder(rules).find((r) => r.connectorId === targetCso.connectorId && r.objectType === targetCso.objectType);
  if (!rule) return { kind: 'disconnect', reason };
  switch (rule.action) {
    case 'disconnect':
      return { kind: 'disconnect', ruleId: rule.id, reason };
    case 'delete':
      return { kind: 'delete', ruleId: rule.id, reason };
    case 'disable': {
      const subject = csoSubject(targetCso);
      const changes: ExportAttributeChange[] = [];
      for (const { attribute, expression, multiValued } of rule.attributes) {
        const desired = asList(inRule(rule.id, `attributes.${attribute}`, () => expression.evaluate(subject)));
        const values = multiValued ? desired : desired.slice(0, 1);
        const current = (targetCso.attributes[attribute] ?? []).filter((v) => v !== '');
        const same = current.length === values.length && values.every((v) => current.some((c) => String(c) === String(v)));
        if (!same) changes.push({ attribute, op: 'replace', values });
      }
      return { kind: 'disable', ruleId: rule.id, reason, changes, disconnect: reason === 'mesh-object-deleted' };
    }
    default:
      return assertUnreachable(rule.action);
  }
}
