import { ExpressionEvaluationError, TemplateValueMissingError } from '../expressions/expression.errors';

/**
 * Runs one rule's evaluation and, when it fails, names the rule and the
 * field of its definition in the error, so an operator reading the run's
 * object errors knows which rule to fix.
 */
export function inRule<T>(ruleId: string, field: string, evaluate: () => T): T {
  try {
    return evaluate();
  } catch (error) {
    if (error instanceof ExpressionEvaluationError || error instanceof TemplateValueMissingError) throw error.inRule(ruleId, field);
    throw error;
  }
}
