import { DomainError } from '../errors/domain-error';
import type { SyncRuleKind } from '../model/vocabulary';

/** A rule definition that cannot be saved: `field` names the part (`mappings[1].meshAttribute`). */
export class RuleDefinitionInvalidError extends DomainError {
  constructor(
    readonly kind: SyncRuleKind | string,
    readonly field: string,
    readonly problem: string,
  ) {
    super('RULE_DEFINITION_INVALID', `${kind} rule: ${field ? `${field} ` : ''}${problem}`, { kind, field, problem });
  }
}

/**
 * More than one mesh object matched a join rule. A per-object error: the
 * connector-space object stays unjoined until an operator resolves it, never
 * joined to a guess.
 */
export class JoinAmbiguityError extends DomainError {
  constructor(
    readonly ruleId: string,
    readonly candidates: readonly string[],
    readonly cso: { connectorId: string; objectType: string; anchor: string },
  ) {
    super(
      'JOIN_AMBIGUOUS',
      `join rule ${ruleId} matched ${candidates.length} mesh objects for ${cso.objectType} ${cso.anchor} ` +
        `of connector ${cso.connectorId}: ${candidates.join(', ')}`,
      { ruleId, candidates: [...candidates], connectorId: cso.connectorId, objectType: cso.objectType, anchor: cso.anchor },
    );
  }
}

/** Every candidate of a unique composer rule was taken. A per-object error. */
export class UniqueValueExhaustedError extends DomainError {
  constructor(
    readonly ruleId: string,
    readonly scope: string,
    readonly attempts: number,
    readonly meshObjectId: string,
  ) {
    super(
      'UNIQUE_VALUE_EXHAUSTED',
      `composer rule ${ruleId}: all ${attempts} candidates in scope ${scope} are taken for mesh object ${meshObjectId}`,
      { ruleId, scope, attempts, meshObjectId },
    );
  }
}

/** A preview was asked for without the object its rule kind reads. */
export class RuleSampleInvalidError extends DomainError {
  constructor(
    readonly kind: SyncRuleKind | string,
    readonly missing: string,
  ) {
    super('RULE_SAMPLE_INVALID', `a preview of a ${kind} rule needs a sample ${missing}`, { kind, missing });
  }
}
