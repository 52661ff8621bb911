import { normalizeDn } from '../expressions/distinguished-name';
import { meshSubject } from '../expressions/subjects';
import { renderTemplate } from '../expressions/template';
import type { MeshObjectView } from '../model/attributes';
import type { CompiledProvisioningRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import { inRule } from './rule-context';

/** An object a mesh object already has in a target connector (joined or pending its add). */
export interface TargetObjectRef {
  connectorId: string;
  objectType: string;
  csoId?: string;
  anchor?: string;
  dn?: string | null;
}

export type ProvisioningDecision =
  /** Create a connector-space object (pending add) with this DN and/or anchor; without an anchor the engine assigns a provisional one. */
  | { kind: 'provision'; ruleId: string; connectorId: string; objectType: string; dn?: string; anchor?: string }
  /** In scope and present: nothing to do here (export flows keep its values right). */
  | { kind: 'keep'; ruleId: string; target: TargetObjectRef }
  /** In scope, present, and its rendered DN changed: move it (renameOnChange). */
  | { kind: 'rename'; ruleId: string; target: TargetObjectRef; newDn: string }
  /** Present but no rule for its connector and type holds any more: hand it to decideDeprovisioning. */
  | { kind: 'deprovision'; target: TargetObjectRef; reason: 'out-of-scope' };

/**
 * Which target connectors a mesh object should have an object in. Rules are
 * grouped by target connector and object type; within a group the first rule
 * (ordinal order) whose condition holds decides the object's DN and anchor.
 * An object that exists while no rule of its group holds is to be
 * deprovisioned. Targets without provisioning rules are left alone.
 *
 * @param existing the objects the mesh object already has in target connectors.
 * @throws ExpressionEvaluationError / TemplateValueMissingError naming the rule, for this object.
 */
export function decideProvisioning(
  mesh: MeshObjectView,
  rules: readonly CompiledProvisioningRule[],
  existing: readonly TargetObjectRef[],
): ProvisioningDecision[] {
  const subject = meshSubject(mesh);
  const groups = new Map<string, CompiledProvisioningRule[]>();
  for (const rule of inOrdinalOrder(rules)) {
    if (rule.objectType !== mesh.objectType) continue;
    const key = `${rule.targetConnectorId}\u0000${rule.targetObjectType}`;
    groups.set(key, [...(groups.get(key) ?? []), rule]);
  }

  const decisions: ProvisioningDecision[] = [];
  for (const group of groups.values()) {
    const { targetConnectorId, targetObjectType } = group[0];
    const chosen = group.find((rule) => {
      const condition = rule.condition;
      return !condition || inRule(rule.id, 'condition', () => condition.test(subject));
    });
    const target = existing.find((t) => t.connectorId === targetConnectorId && t.objectType === targetObjectType);
    if (!chosen) {
      if (target) decisions.push({ kind: 'deprovision', target, reason: 'out-of-scope' });
      continue;
    }
    const dnTemplate = chosen.dnTemplate;
    if (!target) {
      const anchorTemplate = chosen.anchorTemplate;
      const decision: ProvisioningDecision = { kind: 'provision', ruleId: chosen.id, connectorId: targetConnectorId, objectType: targetObjectType };
      if (dnTemplate) decision.dn = inRule(chosen.id, 'dnTemplate', () => renderTemplate(dnTemplate, subject));
      if (anchorTemplate) decision.anchor = inRule(chosen.id, 'anchorTemplate', () => renderTemplate(anchorTemplate, subject));
      decisions.push(decision);
      continue;
    }
    if (chosen.renameOnChange && dnTemplate && target.dn) {
      const newDn = inRule(chosen.id, 'dnTemplate', () => renderTemplate(dnTemplate, subject));
      if (normalizeDn(newDn) !== normalizeDn(target.dn)) {
        decisions.push({ kind: 'rename', ruleId: chosen.id, target, newDn });
        continue;
      }
    }
    decisions.push({ kind: 'keep', ruleId: chosen.id, target });
  }
  return decisions;
}
