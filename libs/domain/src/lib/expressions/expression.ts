import type { ASTNode } from '@marcbachmann/cel-js';
import type { AttributeDeclaration, AttributeScalar, AttributeScalars } from '../model/attributes';
import { baseEnvironment, DEFAULT_EXPRESSION_LIMITS } from './cel-runtime';
import type { ExpressionLimits } from './cel-runtime';
import { ExpressionEvaluationError, ExpressionInvalidError, sourcePosition } from './expression.errors';
import type { ExpressionProblem } from './expression.errors';

/**
 * Which object an expression reads: a connector-space object (scoping, join,
 * projection, import flows, deprovisioning) or a mesh object (composer,
 * provisioning, export flows). Each offers its attributes plus a few fields
 * of the object itself.
 */
export type ExpressionSpace = 'connector-space' | 'mesh';

/** Variables every object of a space has besides its attributes. */
export const OBJECT_FIELDS: Readonly<Record<ExpressionSpace, readonly string[]>> = {
  'connector-space': ['dn', 'anchor', 'objectType'],
  mesh: ['meshObjectId', 'objectType'],
};

/**
 * Every declared attribute by name, for names that are not identifiers
 * (`attr["Employee ID"]`, `attr["msDS-PrincipalName"]`) or collide with a
 * field or a keyword.
 */
export const ATTRIBUTE_MAP = 'attr';

/** What an expression produces: one value, a list of values, or nothing. */
export type ExpressionValue = AttributeScalar | AttributeScalar[] | null;

/** The object an expression is evaluated against. */
export interface ExpressionSubject {
  /** The values of an attribute: a list, a single value, or nothing. */
  value(attribute: string): AttributeScalars | AttributeScalar | null | undefined;
  /** A field of the object itself (see OBJECT_FIELDS). */
  field(name: string): string | null | undefined;
}

export interface CompileExpressionOptions {
  /**
   * The attributes the expression may read. Single-valued ones appear as a
   * value (null when absent), multi-valued ones as a list (empty when absent).
   */
  variables: readonly AttributeDeclaration[];
  /** @default 'connector-space' */
  space?: ExpressionSpace;
  /** `condition`: the expression must yield true or false. @default 'value' */
  expect?: 'value' | 'condition';
  /** @default DEFAULT_EXPRESSION_LIMITS */
  limits?: Partial<ExpressionLimits>;
}

/** An expression checked once and evaluated many times. */
export interface CompiledExpression {
  readonly source: string;
  /** The type the checker inferred (`bool`, `string`, `list<dyn>`, `dyn` …). */
  readonly resultType: string;
  /** Attributes and fields the expression reads. */
  readonly reads: readonly string[];
  /**
   * Null when the expression fails on an object that lacks an input it
   * reads (absent values propagate, so `givenName + " " + sn` without a
   * surname has no value rather than failing the object).
   *
   * @throws ExpressionEvaluationError when it fails with every input present, or an input exceeds the limits.
   */
  evaluate(subject: ExpressionSubject): ExpressionValue;
  /** For conditions: true only for true; null (nothing to test) counts as false. */
  test(subject: ExpressionSubject): boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Words CEL reserves, type names, and the namespace of its macros: never plain variables. */
const RESERVED = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
  'int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn',
  'timestamp', 'duration', 'cel', 'optional', ATTRIBUTE_MAP,
]);

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

/** Whether an attribute is reachable by its bare name or only through `attr[...]`. */
export function isPlainVariableName(name: string, space: ExpressionSpace = 'connector-space'): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name) && !OBJECT_FIELDS[space].includes(name);
}

interface Binding {
  variable: string;
  kind: 'attribute' | 'field' | 'map';
  name: string;
  multiValued: boolean;
}

type AnyNode = { op: string; args: unknown; start: number; end: number };

function isNode(value: unknown): value is AnyNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}

function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  const visit = (value: unknown) => {
    if (isNode(value)) out.push(value);
    else if (Array.isArray(value)) value.forEach(visit);
  };
  visit(node.args);
  return out;
}

/** A name and where it was read; the first read gives the error position. */
interface Reference {
  name: string;
  node: AnyNode;
}

/**
 * Walks the syntax tree once: refuses what CEL allows but rules must not do,
 * reports unknown functions and unknown `attr[...]` keys with their position,
 * and collects the variables read so evaluation binds only those.
 *
 * Refused, because they would break the bound on work an expression can do:
 * - `matches()`: JavaScript regular expressions can backtrack exponentially;
 * - `cel.bind()`: a bound name reused in its own scope can double a text per level;
 * - a comprehension (map, filter, all, exists, exists_one) inside another's
 *   body, or a body that reads a list or `attr`: each multiplies the work by
 *   the length of a list, so only one such factor is allowed.
 */
class SafetyWalk {
  readonly references: Reference[] = [];
  /** Attributes read through `attr` with a literal name. */
  readonly attributeKeys = new Set<string>();
  /** Reads of `attr` and how many of them name a literal key: equal means the map needs only those keys. */
  attributeMapReads = 0;
  literalKeyReads = 0;
  private readonly multiValued: ReadonlySet<string>;
  private readonly declared: ReadonlySet<string>;

  constructor(
    private readonly source: string,
    private readonly variables: readonly AttributeDeclaration[],
    private readonly globalFunctions: ReadonlySet<string>,
    private readonly receiverFunctions: ReadonlySet<string>,
  ) {
    this.declared = new Set(variables.map((v) => v.name));
    this.multiValued = new Set(variables.filter((v) => v.multiValued).map((v) => v.name));
  }

  walk(node: AnyNode, bound: ReadonlySet<string>, inComprehension: string | undefined): void {
    switch (node.op) {
      case 'id': {
        const name = node.args as string;
        if (bound.has(name)) return;
        if (inComprehension && (name === ATTRIBUTE_MAP || this.multiValued.has(name))) {
          const what = name === ATTRIBUTE_MAP ? 'attr' : `the list ${name}`;
          this.fail(
            'forbidden',
            `inside ${inComprehension}() only the element and single values may be used; reading ${what} there would repeat it for every element`,
            node,
          );
        }
        if (name === ATTRIBUTE_MAP) this.attributeMapReads++;
        this.references.push({ name, node });
        return;
      }
      case '.':
      case '[]': {
        const [target, key] = node.args as [AnyNode, unknown];
        const keyName = node.op === '.' ? key : isNode(key) && key.op === 'value' ? key.args : undefined;
        if (isNode(target) && target.op === 'id' && target.args === ATTRIBUTE_MAP && !bound.has(ATTRIBUTE_MAP)) {
          if (typeof keyName === 'string' && !this.declared.has(keyName)) {
            this.fail('unknown-variable', `unknown attribute "${keyName}"`, node);
          }
          if (typeof keyName === 'string') {
            this.attributeKeys.add(keyName);
            this.literalKeyReads++;
          }
        }
        break;
      }
      case 'call': {
        const [name] = node.args as [string, AnyNode[]];
        if (name === 'matches') this.fail('forbidden', 'regular expressions are not offered; use startsWith, endsWith, contains or in', node);
        if (!this.globalFunctions.has(name)) this.fail('unknown-function', `unknown function ${name}()`, node);
        break;
      }
      case 'rcall': {
        const [name, receiver, args] = node.args as [string, AnyNode, AnyNode[]];
        if (name === 'matches') this.fail('forbidden', 'regular expressions are not offered; use startsWith, endsWith, contains or in', node);
        if (name === 'bind' && isNode(receiver) && receiver.op === 'id' && receiver.args === 'cel') {
          this.fail('forbidden', 'cel.bind() is not offered', node);
        }
        if (COMPREHENSIONS.has(name) && args.length >= 2 && args[0].op === 'id') {
          if (inComprehension) this.fail('forbidden', `${name}() inside ${inComprehension}() is not allowed`, node);
          this.walk(receiver, bound, inComprehension);
          const inner = new Set(bound).add(args[0].args as string);
          for (const body of args.slice(1)) this.walk(body, inner, name);
          return;
        }
        if (!this.receiverFunctions.has(name)) this.fail('unknown-function', `unknown function .${name}()`, node);
        break;
      }
    }
    for (const child of children(node)) this.walk(child, bound, inComprehension);
  }

  fail(problem: ExpressionProblem, summary: string, node: { start: number; end: number }): never {
    throw new ExpressionInvalidError(problem, summary, this.source, sourcePosition(this.source, node.start, node.end));
  }
}

interface CelError {
  code?: string;
  summary?: string;
  message: string;
  range?: { start: number; end: number };
}

function asCelError(error: unknown): CelError | undefined {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') return error as CelError;
  return undefined;
}

/**
 * Checks an expression and prepares it for fast evaluation: syntax, the
 * functions and variables it uses, its types, and the safety limits. Done
 * when a rule is saved (to refuse a bad one with a position) and once per
 * run (to evaluate many objects).
 *
 * @throws ExpressionInvalidError naming the problem and its position.
 */
export function compileExpression(source: string, options: CompileExpressionOptions): CompiledExpression {
  const limits: ExpressionLimits = { ...DEFAULT_EXPRESSION_LIMITS, ...options.limits };
  const space = options.space ?? 'connector-space';
  if (typeof source !== 'string' || source.trim() === '') {
    throw new ExpressionInvalidError('syntax', 'the expression is empty', String(source ?? ''), sourcePosition('', 0));
  }
  if (source.length > limits.maxSourceLength) {
    throw new ExpressionInvalidError(
      'limit',
      `the expression is ${source.length} characters long; at most ${limits.maxSourceLength} are allowed`,
      source,
      sourcePosition(source, limits.maxSourceLength),
    );
  }
  const base = baseEnvironment(limits);

  let ast: ASTNode;
  try {
    ast = base.env.parse(source).ast;
  } catch (error) {
    throw invalidFromCel(error, source, 'parse');
  }

  const safety = new SafetyWalk(source, options.variables, base.globalFunctions, base.receiverFunctions);
  safety.walk(ast as unknown as AnyNode, new Set(), undefined);

  const declarations = new Map(options.variables.map((v) => [v.name, v]));
  const fields = OBJECT_FIELDS[space];
  const bindings: Binding[] = [];
  const seen = new Set<string>();
  for (const { name } of safety.references) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (fields.includes(name)) bindings.push({ variable: name, kind: 'field', name, multiValued: false });
    else if (name === ATTRIBUTE_MAP) bindings.push({ variable: name, kind: 'map', name, multiValued: false });
    else {
      const declaration = declarations.get(name);
      if (declaration && isPlainVariableName(name, space)) {
        bindings.push({ variable: name, kind: 'attribute', name, multiValued: declaration.multiValued === true });
      }
      // Anything else stays undeclared, and the checker reports it as unknown with its position.
    }
  }

  const env = base.env.clone();
  for (const binding of bindings) {
    env.registerVariable(binding.variable, binding.kind === 'map' ? 'map<string, dyn>' : binding.multiValued ? 'list<dyn>' : 'dyn');
  }
  const program = env.parse(source);
  const checked = program.check();
  if (!checked.valid) {
    throw invalidFromCel(checked.error, source, 'check');
  }
  const resultType = String(checked.type ?? 'dyn');
  if (options.expect === 'condition' && resultType !== 'bool' && resultType !== 'dyn') {
    const whole = sourcePosition(source, 0, source.length);
    throw new ExpressionInvalidError('type', `a condition must yield true or false, not ${resultType}`, source, whole);
  }
  if (options.expect !== 'condition' && resultType.startsWith('map')) {
    throw new ExpressionInvalidError('type', `an attribute value cannot be a ${resultType}`, source, sourcePosition(source, 0, source.length));
  }

  // A directory schema has hundreds of attributes; build the map from the named ones when that is all it is used for.
  const mapAttributes = !bindings.some((b) => b.kind === 'map')
    ? []
    : safety.literalKeyReads === safety.attributeMapReads
      ? options.variables.filter((v) => safety.attributeKeys.has(v.name))
      : options.variables;
  const inputs = [
    ...bindings.filter((b) => b.kind !== 'map'),
    ...[...safety.attributeKeys].map((name): Binding => {
      return { variable: name, kind: 'attribute', name, multiValued: declarations.get(name)?.multiValued === true };
    }),
  ];
  const evaluate = (subject: ExpressionSubject): ExpressionValue => {
    const context: Record<string, unknown> = {};
    for (const binding of bindings) {
      if (binding.kind === 'field') context[binding.variable] = boundedText(subject.field(binding.name) ?? null, limits, source);
      else if (binding.kind === 'attribute') context[binding.variable] = toCel(subject.value(binding.name), binding.multiValued, limits, source);
      else {
        const map: Record<string, unknown> = {};
        for (const declaration of mapAttributes) {
          map[declaration.name] = toCel(subject.value(declaration.name), declaration.multiValued === true, limits, source);
        }
        context[binding.variable] = map;
      }
    }
    let result: unknown;
    try {
      result = program(context);
    } catch (error) {
      // Absent values propagate: an expression that fails on an object lacking an input it reads
      // has no value (like SQL NULL), so sparse data meets the flow's null handling, not an error.
      if (inputs.some((input) => isAbsent(input, subject))) return null;
      const cause = asCelError(error);
      throw new ExpressionEvaluationError(cause?.code ?? 'function-failed', cause?.summary ?? (error as Error).message, source);
    }
    return fromCel(result, source);
  };

  return {
    source,
    resultType,
    reads: [...new Set([...bindings.filter((b) => b.kind !== 'map').map((b) => b.name), ...safety.attributeKeys])],
    evaluate,
    test(subject) {
      const value = evaluate(subject);
      if (value === null) return false;
      if (typeof value !== 'boolean') {
        throw new ExpressionEvaluationError('result-type', `a condition yielded ${JSON.stringify(value)} instead of true or false`, source);
      }
      return value;
    },
  };
}

function invalidFromCel(error: unknown, source: string, phase: 'parse' | 'check'): ExpressionInvalidError {
  const cel = asCelError(error);
  const code = cel?.code ?? '';
  const problem: ExpressionProblem =
    code === 'limit_exceeded' ? 'limit' : phase === 'parse' ? 'syntax' : code === 'unknown_variable' ? 'unknown-variable' : 'type';
  const range = cel?.range ?? { start: 0, end: 0 };
  const summary = cel?.summary ?? (error instanceof Error ? error.message : 'invalid expression');
  return new ExpressionInvalidError(problem, summary, source, sourcePosition(source, range.start, range.end));
}

function isAbsent(input: Binding, subject: ExpressionSubject): boolean {
  const raw = input.kind === 'field' ? subject.field(input.name) : subject.value(input.name);
  if (raw === null || raw === undefined || raw === '') return true;
  return Array.isArray(raw) && (input.multiValued ? raw.length === 0 : raw.length === 0 || raw[0] === '');
}

function boundedText(value: string | null, limits: ExpressionLimits, source: string): string | null {
  if (value !== null && value.length > limits.maxStringLength) {
    throw new ExpressionEvaluationError('input-too-large', `an input value is longer than ${limits.maxStringLength} characters`, source);
  }
  return value;
}

function scalarToCel(value: AttributeScalar, limits: ExpressionLimits, source: string): unknown {
  if (typeof value === 'string') return boundedText(value, limits, source);
  // CEL integers are 64-bit ints (BigInt here); whole numbers from a connector are ints, so `employeeNumber + 1` works.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return value;
}

function toCel(
  raw: AttributeScalars | AttributeScalar | null | undefined,
  multiValued: boolean,
  limits: ExpressionLimits,
  source: string,
): unknown {
  if (multiValued) {
    if (raw === null || raw === undefined) return [];
    if (!Array.isArray(raw)) return [scalarToCel(raw as AttributeScalar, limits, source)];
    if (raw.length > limits.maxListLength) {
      throw new ExpressionEvaluationError('input-too-large', `an input list has more than ${limits.maxListLength} values`, source);
    }
    return raw.map((v) => scalarToCel(v, limits, source));
  }
  if (raw === null || raw === undefined) return null;
  if (Array.isArray(raw)) return raw.length === 0 ? null : scalarToCel(raw[0], limits, source);
  return scalarToCel(raw as AttributeScalar, limits, source);
}

function scalarFromCel(value: unknown, source: string): AttributeScalar | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ExpressionEvaluationError('result-type', `the integer ${value} is too large for an attribute`, source);
    }
    return Number(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ExpressionEvaluationError('result-type', `${value} is not an attribute value`, source);
    return value;
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
  throw new ExpressionEvaluationError('result-type', 'the result must be text, a number, true/false or a list of them', source);
}

function fromCel(value: unknown, source: string): ExpressionValue {
  if (Array.isArray(value)) {
    const out: AttributeScalar[] = [];
    for (const item of value) {
      if (Array.isArray(item)) throw new ExpressionEvaluationError('result-type', 'a list of lists is not an attribute value', source);
      const scalar = scalarFromCel(item, source);
      if (scalar !== null) out.push(scalar);
    }
    return out;
  }
  return scalarFromCel(value, source);
}
