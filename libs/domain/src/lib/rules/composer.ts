import { ExpressionEvaluationError } from '../expressions/expression.errors';
import { meshSubject } from '../expressions/subjects';
import type { ExpressionSubject } from '../expressions/expression';
import type { AttributeScalar, MeshAttribute, MeshObjectView } from '../model/attributes';
import type { CompiledComposerRule } from './compile-rule';
import { inOrdinalOrder } from './compile-rule';
import { sameMeshAttribute } from './import-flows';
import type { MeshAttributeChange } from './import-flows';
import { inRule } from './rule-context';
import { UniqueValueExhaustedError } from './rule.errors';

/** The form unique values are compared and reserved in (IM_UniqueValueReservations.value): jdoe and JDoe collide. */
export function normalizeUniqueValue(value: string): string {
  // NFC is a no-op on printable ASCII, which nearly every account name is; skipping it halves the cost.
  return (NOT_PRINTABLE_ASCII.test(value) ? value.normalize('NFC') : value).toLowerCase();
}

const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/** The key of the taken-values map: scope and normalized value. */
export function uniqueValueKey(scope: string, value: string): string {
  return `${scope}\u0000${normalizeUniqueValue(value)}`;
}

/**
 * Values already reserved, as the engine read them from
 * IM_UniqueValueReservations for a batch's candidates: uniqueValueKey → the
 * mesh object holding it. A value held by the object being composed counts
 * as free for it.
 */
export type TakenValues = ReadonlyMap<string, string>;

/** A value the engine must reserve for a mesh object (insert; a primary-key conflict means another engine was faster). */
export interface UniqueValueReservation {
  scope: string;
  /** Normalized, as stored. */
  value: string;
  meshObjectId: string;
  ruleId: string;
}

export interface ComposeOptions {
  /** ISO 8601 time stamped on changed attributes. */
  now: string;
}

export interface ComposeResult {
  attributes: Record<string, MeshAttribute>;
  changes: MeshAttributeChange[];
  /** Newly chosen unique values to reserve in the same transaction as the mesh object. */
  reservations: UniqueValueReservation[];
  /**
   * Unique values this object gave up (its composed value changed). The engine
   * deletes them by scope, value and mesh object id, so a value that was never
   * reserved, or is another object's, is left alone.
   */
  releases: UniqueValueReservation[];
}

function truncate(value: string, maxLength: number | undefined): string {
  if (maxLength === undefined || value.length <= maxLength) return value;
  return Array.from(value).slice(0, Math.max(0, maxLength)).join('');
}

function candidateText(rule: CompiledComposerRule, index: number, subject: ExpressionSubject): string | undefined {
  const candidate = rule.candidates[index];
  const value = inRule(rule.id, `candidates[${index}]`, () => candidate.evaluate(subject));
  if (Array.isArray(value)) {
    throw new ExpressionEvaluationError('result-type', 'yielded a list; a composed value is one value', candidate.source).inRule(
      rule.id,
      `candidates[${index}]`,
    );
  }
  if (value === null) return undefined;
  const text = String(value);
  return text.trim() === '' ? undefined : text;
}

function currentText(attribute: MeshAttribute | undefined): string | undefined {
  const value = attribute?.value;
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * The values a unique composer rule tries for a mesh object, in order: the
 * value it already holds (when kept), every base candidate, then the first
 * base with a counter (jdoe, jdoe2, jdoe3 …), shortened to `maxLength` with
 * the counter kept whole; at most `maxAttempts` values. The engine looks the
 * first `limit` of them up for a whole batch in one query, then calls
 * composeValues; a later candidate it did not look up is caught by the
 * reservation's primary key instead.
 *
 * @throws ExpressionEvaluationError naming the rule, when a candidate fails for this object.
 */
export function uniqueCandidates(mesh: MeshObjectView, rule: CompiledComposerRule, limit = rule.unique?.maxAttempts ?? 1): string[] {
  const out: string[] = [];
  for (const candidate of candidateSequence(rule, meshSubject(mesh), mesh.attributes[rule.target])) {
    if (out.length >= limit) break;
    out.push(candidate);
  }
  return out;
}

/** Generated lazily: most objects take their first candidate, so the counters are rarely built. */
function* candidateSequence(rule: CompiledComposerRule, subject: ExpressionSubject, current: MeshAttribute | undefined): Generator<string> {
  const unique = rule.unique;
  const maxLength = unique?.maxLength;
  const maxAttempts = unique?.maxAttempts ?? rule.candidates.length;
  const seen = new Set<string>();
  let count = 0;
  function* emit(value: string): Generator<string> {
    const key = normalizeUniqueValue(value);
    if (value === '' || seen.has(key) || count >= maxAttempts) return;
    seen.add(key);
    count++;
    yield value;
  }
  const kept = unique?.keepExisting ? currentText(current) : undefined;
  if (kept !== undefined) yield* emit(kept);
  let first: string | undefined;
  for (let i = 0; i < rule.candidates.length; i++) {
    const text = candidateText(rule, i, subject);
    if (text === undefined) continue;
    const base = truncate(text, maxLength);
    first ??= base;
    yield* emit(base);
  }
  if (!unique || first === undefined) return;
  for (let n = unique.start; count < maxAttempts && n < unique.start + maxAttempts; n++) {
    const suffix = `${unique.separator}${n}`;
    const base = maxLength === undefined ? first : truncate(first, maxLength - suffix.length);
    if (base === '') return;
    yield* emit(base + suffix);
  }
}

/**
 * Runs the composer rules of a mesh object's type in ordinal order, each
 * seeing the values of the ones before it (a mail local part can build on an
 * account name). A composer owns its target: the result is held by no
 * connector (`connectorId` null) and import flows never overwrite it.
 *
 * Without `unique`, the first candidate with a value wins (or the attribute
 * is cleared when none has one). With `unique`, the first candidate not
 * taken by another mesh object wins; a value the object already holds is
 * kept while it is still its own (keepExisting). The chosen value is
 * returned as a reservation; the engine inserts it in the same transaction
 * and, when the insert hits the primary key (another engine was faster),
 * adds it to `taken` and composes again. Within one batch, the engine adds
 * each object's reservations to `taken` before composing the next object.
 *
 * @throws UniqueValueExhaustedError when every candidate is taken.
 * @throws ExpressionEvaluationError naming the rule, when a candidate fails for this object.
 */
export function composeValues(
  mesh: MeshObjectView,
  rules: readonly CompiledComposerRule[],
  taken: TakenValues,
  options: ComposeOptions,
): ComposeResult {
  const attributes: Record<string, MeshAttribute> = {};
  for (const [name, attribute] of Object.entries(mesh.attributes)) if (attribute) attributes[name] = attribute;
  const result: ComposeResult = { attributes, changes: [], reservations: [], releases: [] };
  const subject = meshSubject({ id: mesh.id, objectType: mesh.objectType, attributes });

  for (const rule of inOrdinalOrder(rules)) {
    if (rule.objectType !== mesh.objectType) continue;
    const current = attributes[rule.target];
    let value: AttributeScalar | null;
    const unique = rule.unique;
    if (!unique) {
      value = null;
      for (let i = 0; i < rule.candidates.length && value === null; i++) value = candidateText(rule, i, subject) ?? null;
    } else {
      let chosen: string | undefined;
      let attempts = 0;
      for (const candidate of candidateSequence(rule, subject, current)) {
        attempts++;
        const holder = taken.get(uniqueValueKey(unique.scope, candidate));
        if (holder === undefined || holder === mesh.id) {
          chosen = candidate;
          break;
        }
      }
      if (attempts === 0) continue;
      if (chosen === undefined) throw new UniqueValueExhaustedError(rule.id, unique.scope, attempts, mesh.id);
      value = chosen;
      if (taken.get(uniqueValueKey(unique.scope, chosen)) !== mesh.id) {
        result.reservations.push({ scope: unique.scope, value: normalizeUniqueValue(chosen), meshObjectId: mesh.id, ruleId: rule.id });
      }
      const previous = currentText(current);
      const gaveUp = previous !== undefined && normalizeUniqueValue(previous) !== normalizeUniqueValue(chosen);
      // Only a value a composer handed out was reserved; an imported one never was.
      if (gaveUp && current?.connectorId === null) {
        result.releases.push({ scope: unique.scope, value: normalizeUniqueValue(previous), meshObjectId: mesh.id, ruleId: rule.id });
      }
    }
    if (value === null && current === undefined) continue;
    const next: MeshAttribute = { value, connectorId: null, ruleId: rule.id, at: options.now };
    if (sameMeshAttribute(current, next)) continue;
    attributes[rule.target] = next;
    result.changes.push({ attribute: rule.target, before: current, after: next, ruleId: rule.id });
  }
  return result;
}
