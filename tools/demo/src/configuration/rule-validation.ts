import { compileSyncRule, DomainError, meshAttributeDeclarations } from '@identitymesh/domain';
import type { AttributeDeclaration, CompiledSyncRule, SyncRuleRecord } from '@identitymesh/domain';
import type { ObjectTypeSchema } from '@identitymesh/connector-sdk';
import type { DemoConnectorKey, DemoRuleSpec } from './demo-configuration';

/** A demo rule that does not validate: a defect of the demo, named with the rule and the field. */
export class DemoRuleInvalidError extends Error {
  constructor(
    readonly rule: DemoRuleSpec,
    readonly failure: unknown,
  ) {
    const code = failure instanceof DomainError ? `${failure.code}: ` : '';
    super(`demo rule "${rule.name}" (${rule.kind}) does not validate: ${code}${(failure as Error)?.message ?? String(failure)}`);
    this.name = 'DemoRuleInvalidError';
  }
}

/**
 * Validates every rule the way a sync run compiles them (and the Admin API
 * will check them when they are saved): import flows against the
 * connectors' schemas first, then the rules that read the mesh against the
 * attributes those flows and the composers produce.
 *
 * @throws DemoRuleInvalidError naming the first rule that does not validate.
 */
export function validateDemoRules(rules: readonly DemoRuleSpec[], schemas: ReadonlyMap<DemoConnectorKey, readonly ObjectTypeSchema[]>): void {
  const connectorSpace = (rule: DemoRuleSpec): AttributeDeclaration[] => {
    const type = rule.connector ? schemas.get(rule.connector)?.find((t) => t.name === rule.objectType) : undefined;
    return (type?.attributes ?? []).map((a) => ({ name: a.name, multiValued: a.multiValued === true, reference: a.type === 'reference' }));
  };
  const compile = (rule: DemoRuleSpec, index: number, mesh: readonly AttributeDeclaration[]): CompiledSyncRule => {
    const record: SyncRuleRecord = { id: `demo-${index}`, kind: rule.kind, connectorId: rule.connector, objectType: rule.objectType, name: rule.name, ordinal: rule.ordinal, definition: rule.definition };
    try {
      return compileSyncRule(record, { connectorSpace: connectorSpace(rule), mesh });
    } catch (error) {
      throw new DemoRuleInvalidError(rule, error);
    }
  };
  const importFlows = rules.map((rule, i) => (rule.kind === 'import-flow' ? compile(rule, i, []) : null)).filter((r): r is CompiledSyncRule => r !== null);
  const mesh = meshAttributeDeclarations(importFlows);
  for (const rule of rules) {
    const target = rule.kind === 'composer' ? rule.definition['target'] : undefined;
    if (typeof target === 'string' && !mesh.some((d) => d.name === target)) mesh.push({ name: target });
  }
  rules.forEach((rule, i) => {
    if (rule.kind !== 'import-flow') compile(rule, i, mesh);
  });
}
