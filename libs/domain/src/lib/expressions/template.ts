import type { AttributeScalar } from '../model/attributes';
import { escapeDnValue, parseDn } from './distinguished-name';
import { compileExpression } from './expression';
import type { CompileExpressionOptions, CompiledExpression, ExpressionSubject } from './expression';
import { ExpressionEvaluationError, ExpressionInvalidError, sourcePosition, TemplateValueMissingError } from './expression.errors';

/**
 * How placeholder values are written into the text: `dn` escapes each one
 * per RFC 4514, so a display name with a comma stays one RDN value and
 * cannot move the object to another place in the directory.
 */
export type TemplateEscaping = 'dn' | 'none';

export interface CompileTemplateOptions extends Omit<CompileExpressionOptions, 'expect'> {
  escape: TemplateEscaping;
}

/** Literal text with `{{ expression }}` placeholders, checked once and rendered per object. */
export interface CompiledTemplate {
  readonly source: string;
  readonly escape: TemplateEscaping;
  readonly placeholders: readonly CompiledExpression[];
  /** @internal the literal parts around the placeholders, one more than placeholders. */
  readonly literals: readonly string[];
}

/** Finds the `}}` that closes a placeholder, skipping over string literals inside it. */
function placeholderEnd(template: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < template.length; i++) {
    const ch = template[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '}' && template[i + 1] === '}') return i;
  }
  return -1;
}

/**
 * Checks a DN or anchor template: every placeholder is compiled as an
 * expression, and a DN template must still be a DN once filled in.
 *
 * @throws ExpressionInvalidError with the position inside the template.
 */
export function compileTemplate(template: string, options: CompileTemplateOptions): CompiledTemplate {
  if (typeof template !== 'string' || template.trim() === '') {
    throw new ExpressionInvalidError('syntax', 'the template is empty', String(template ?? ''), sourcePosition('', 0));
  }
  const literals: string[] = [];
  const placeholders: CompiledExpression[] = [];
  let cursor = 0;
  for (;;) {
    const open = template.indexOf('{{', cursor);
    if (open < 0) {
      literals.push(template.slice(cursor));
      break;
    }
    const close = placeholderEnd(template, open + 2);
    if (close < 0) {
      throw new ExpressionInvalidError('syntax', 'a placeholder {{ is not closed with }}', template, sourcePosition(template, open, open + 2));
    }
    literals.push(template.slice(cursor, open));
    const inner = template.slice(open + 2, close);
    try {
      placeholders.push(compileExpression(inner, { ...options, expect: 'value' }));
    } catch (error) {
      if (!(error instanceof ExpressionInvalidError)) throw error;
      const offset = open + 2;
      throw new ExpressionInvalidError(
        error.problem,
        error.summary,
        template,
        sourcePosition(template, offset + error.position.start, offset + error.position.end),
      );
    }
    cursor = close + 2;
  }
  if (literals.some((l) => l.includes('}}'))) {
    const at = template.indexOf('}}');
    throw new ExpressionInvalidError('syntax', 'a }} without a matching {{', template, sourcePosition(template, at, at + 2));
  }
  if (options.escape === 'dn' && !parseDn(literals.join('x'))?.length) {
    throw new ExpressionInvalidError(
      'syntax',
      'the template does not make a distinguished name (attribute=value,…)',
      template,
      sourcePosition(template, 0, template.length),
    );
  }
  return { source: template, escape: options.escape, placeholders, literals };
}

function placeholderText(value: AttributeScalar | AttributeScalar[] | null, template: CompiledTemplate, index: number): string {
  const single = Array.isArray(value) ? (value.length <= 1 ? (value[0] ?? null) : undefined) : value;
  if (single === undefined) {
    throw new ExpressionEvaluationError(
      'result-type',
      `placeholder {{${template.placeholders[index].source.trim()}}} yielded several values; a name needs one`,
      template.source,
    );
  }
  const text = single === null ? '' : String(single);
  if (text.trim() === '') throw new TemplateValueMissingError(template.source, template.placeholders[index].source.trim());
  return template.escape === 'dn' ? escapeDnValue(text) : text;
}

/**
 * Fills in a template for one object.
 *
 * @throws TemplateValueMissingError when a placeholder has no value (an empty RDN is no name).
 * @throws ExpressionEvaluationError when a placeholder fails.
 */
export function renderTemplate(template: CompiledTemplate, subject: ExpressionSubject): string {
  let out = template.literals[0];
  for (let i = 0; i < template.placeholders.length; i++) {
    out += placeholderText(template.placeholders[i].evaluate(subject), template, i) + template.literals[i + 1];
  }
  return out;
}
