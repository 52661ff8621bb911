import { DomainError } from '../errors/domain-error';

/** Why an expression was refused when it was saved. */
export type ExpressionProblem =
  /** Not CEL syntax. */
  | 'syntax'
  /** Names an attribute or variable the object does not have. */
  | 'unknown-variable'
  /** Calls a function the language does not offer. */
  | 'unknown-function'
  /** Types do not fit (`"a" + 1`, a condition that yields a string). */
  | 'type'
  /** Longer, deeper or larger than the limits allow. */
  | 'limit'
  /** A construct refused for safety (regular expressions, nested comprehensions …). */
  | 'forbidden';

/** Where in the source a problem is: offsets (0-based, end exclusive) and the start as line and column (1-based). */
export interface SourcePosition {
  start: number;
  end: number;
  line: number;
  column: number;
}

export function sourcePosition(source: string, start: number, end = start): SourcePosition {
  const clamped = Math.max(0, Math.min(start, source.length));
  const before = source.slice(0, clamped);
  const line = before.split('\n').length;
  const column = clamped - before.lastIndexOf('\n');
  return { start: clamped, end: Math.max(clamped, Math.min(end, source.length)), line, column };
}

/** An expression that cannot be saved. `field` names the rule field it came from, when known. */
export class ExpressionInvalidError extends DomainError {
  constructor(
    readonly problem: ExpressionProblem,
    readonly summary: string,
    readonly source: string,
    readonly position: SourcePosition,
    readonly field?: string,
  ) {
    super(
      'EXPRESSION_INVALID',
      `${field ? `${field}: ` : ''}${summary} (line ${position.line}, column ${position.column})`,
      { problem, position, field, source: source.length > 200 ? `${source.slice(0, 200)}…` : source },
    );
  }

  /** The same problem, reported against a field of a rule definition. */
  inField(field: string): ExpressionInvalidError {
    return new ExpressionInvalidError(this.problem, this.summary, this.source, this.position, field);
  }
}

/**
 * An expression failed for one object (a division by zero, an absent value
 * where text was needed, an input over the size limits). A per-object error:
 * the engine records it and goes on with the next object.
 */
export class ExpressionEvaluationError extends DomainError {
  constructor(
    readonly reason: string,
    readonly summary: string,
    readonly source: string,
    readonly field?: string,
    readonly ruleId?: string,
  ) {
    super(
      'EXPRESSION_EVALUATION_FAILED',
      `${ruleId ? `rule ${ruleId}: ` : ''}${field ? `${field}: ` : ''}${summary}`,
      { reason, field, ruleId, source: source.length > 200 ? `${source.slice(0, 200)}…` : source },
    );
  }

  /** The same failure, attributed to a rule and the field of its definition. */
  inRule(ruleId: string | undefined, field: string): ExpressionEvaluationError {
    return new ExpressionEvaluationError(this.reason, this.summary, this.source, field, ruleId);
  }
}

/** A DN or anchor template placeholder had no value, so no valid name can be built. */
export class TemplateValueMissingError extends DomainError {
  constructor(
    readonly template: string,
    readonly placeholder: string,
    readonly field?: string,
    readonly ruleId?: string,
  ) {
    super(
      'TEMPLATE_VALUE_MISSING',
      `${ruleId ? `rule ${ruleId}: ` : ''}${field ? `${field}: ` : ''}placeholder {{${placeholder}}} has no value`,
      { template, placeholder, field, ruleId },
    );
  }

  inRule(ruleId: string | undefined, field: string): TemplateValueMissingError {
    return new TemplateValueMissingError(this.template, this.placeholder, field, ruleId);
  }
}
