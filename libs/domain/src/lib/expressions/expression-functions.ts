import { escapeDnValue } from './distinguished-name';

/**
 * The functions identity rules need beyond CEL's own (`size`, `contains`,
 * `startsWith`, `endsWith`, `int`, `string`, `in`, `? :` …). Every one runs in
 * time linear in its input and never calls back into the expression, so adding
 * them keeps CEL's guarantee that an expression terminates. Text functions
 * pass an absent value (null) through, so `lower(middleName)` on an object
 * without one is null rather than an error. They are declared to return
 * `dyn`, not `string`: with a static `string` the evaluator would join a
 * null into text as "null" (`"j" + lower(sn)` → "jnull"); as `dyn` the value
 * is checked when used, and `+` on an absent value fails as CEL specifies.
 */

/** Letters that Unicode does not decompose into a base letter and a mark. */
const UNDECOMPOSABLE: Readonly<Record<string, string>> = {
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  ł: 'l',
  Ł: 'L',
  þ: 'th',
  Þ: 'Th',
  ı: 'i',
  ŀ: 'l',
  Ŀ: 'L',
};
const UNDECOMPOSABLE_PATTERN = new RegExp(`[${Object.keys(UNDECOMPOSABLE).join('')}]`, 'g');
const COMBINING_MARKS = /\p{M}/gu;

/** `José Ñúñez` → `Jose Nunez`, `Søren Straße` → `Soren Strasse`: the ASCII spelling account names need. */
export function stripDiacritics(value: string): string {
  return value
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .replace(UNDECOMPOSABLE_PATTERN, (ch) => UNDECOMPOSABLE[ch] ?? ch);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Code points, so slicing never splits an emoji or a supplementary-plane letter in two. */
function codePoints(value: string): string[] | undefined {
  return SURROGATE.test(value) ? Array.from(value) : undefined;
}

function sliceCodePoints(value: string, start: number, end?: number): string {
  const points = codePoints(value);
  if (!points) return value.slice(start, end);
  return points.slice(start, end).join('');
}

function lengthInCodePoints(value: string): number {
  return codePoints(value)?.length ?? value.length;
}

function toIndex(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : Number(value);
  return Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : 0;
}

/** A scalar as text, for functions that build text from mixed values. */
function asText(value: unknown, fn: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TypeError(`${fn}() takes text, numbers or true/false, not ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : typeof value;
}

function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (value instanceof Map) return value.size === 0;
  return false;
}

/** A function as CEL sees it: one or more overloads sharing a handler, and a line for the reference. */
export interface ExpressionFunction {
  name: string;
  signatures: readonly string[];
  description: string;
  example: string;
  handler: (...args: never[]) => unknown;
}

/** Arities offered for the variadic functions; CEL has no rest parameters. */
const VARIADIC_ARITIES = [2, 3, 4, 5, 6, 7, 8];

function variadic(name: string, returnType: string): string[] {
  return VARIADIC_ARITIES.map((n) => `${name}(${Array(n).fill('dyn').join(', ')}): ${returnType}`);
}

function textFunction(
  name: string,
  description: string,
  example: string,
  transform: (value: string) => string,
): ExpressionFunction {
  return {
    name,
    signatures: [`${name}(string): dyn`, `${name}(null): dyn`],
    description,
    example,
    handler: ((value: string | null) => (value === null ? null : transform(value))) as ExpressionFunction['handler'],
  };
}

/**
 * Builds the function library. `maxStringLength` bounds every text a
 * function produces, so joins and concatenations inside a comprehension
 * cannot grow without limit.
 */
export function expressionFunctions(maxStringLength: number): ExpressionFunction[] {
  const bounded = (fn: string, text: string): string => {
    if (text.length > maxStringLength) throw new RangeError(`${fn}() result is longer than ${maxStringLength} characters`);
    return text;
  };
  return [
    textFunction('lower', 'Lower case.', 'lower("JDoe") == "jdoe"', (v) => v.toLowerCase()),
    textFunction('upper', 'Upper case.', 'upper("jdoe") == "JDOE"', (v) => v.toUpperCase()),
    textFunction('trim', 'Removes leading and trailing white space.', 'trim("  jdoe ") == "jdoe"', (v) => v.trim()),
    textFunction(
      'normalize',
      'Removes diacritics and spells special letters in ASCII (ß → ss, æ → ae, ø → o, ł → l); case is kept.',
      'normalize("José Ñúñez") == "Jose Nunez"',
      stripDiacritics,
    ),
    textFunction(
      'alphanumeric',
      'Keeps only the letters A–Z, a–z and digits 0–9 (apply normalize first to keep accented letters).',
      `alphanumeric("O'Brien-Smith") == "OBrienSmith"`,
      (v) => v.replace(/[^A-Za-z0-9]/g, ''),
    ),
    textFunction(
      'escapeDn',
      'Escapes a value for use inside a distinguished name (RFC 4514). DN templates do this by themselves.',
      'escapeDn("Doe, John") == "Doe\\\\, John"',
      escapeDnValue,
    ),
    {
      name: 'left',
      signatures: ['left(string, int): dyn', 'left(null, int): dyn'],
      description: 'The first n characters (all of them when the text is shorter).',
      example: 'left("John", 1) == "J"',
      handler: ((value: string | null, n: bigint) =>
        value === null ? null : sliceCodePoints(value, 0, toIndex(n))) as ExpressionFunction['handler'],
    },
    {
      name: 'right',
      signatures: ['right(string, int): dyn', 'right(null, int): dyn'],
      description: 'The last n characters (all of them when the text is shorter).',
      example: 'right("E012345", 3) == "345"',
      handler: ((value: string | null, n: bigint) => {
        if (value === null) return null;
        const count = toIndex(n);
        const length = lengthInCodePoints(value);
        return sliceCodePoints(value, Math.max(0, length - count));
      }) as ExpressionFunction['handler'],
    },
    {
      name: 'substring',
      signatures: [
        'substring(string, int): dyn',
        'substring(string, int, int): dyn',
        'substring(null, int): dyn',
        'substring(null, int, int): dyn',
      ],
      description: 'Characters from start (0-based) up to, not including, end; out-of-range positions are clamped instead of failing.',
      example: 'substring("Johnson", 0, 4) == "John"',
      handler: ((value: string | null, start: bigint, end?: bigint) =>
        value === null
          ? null
          : sliceCodePoints(value, toIndex(start), end === undefined ? undefined : toIndex(end))) as ExpressionFunction['handler'],
    },
    {
      name: 'replace',
      signatures: ['replace(string, string, string): dyn', 'replace(null, string, string): dyn'],
      description: 'Replaces every occurrence of a text (literally, not a pattern).',
      example: 'replace("Anne Marie", " ", "-") == "Anne-Marie"',
      handler: ((value: string | null, search: string, replacement: string) => {
        if (value === null) return null;
        if (search === '') return value;
        return bounded('replace', value.split(search).join(replacement));
      }) as ExpressionFunction['handler'],
    },
    {
      name: 'split',
      signatures: ['split(string, string): list<string>', 'split(null, string): list<string>'],
      description: 'Splits text at every occurrence of a separator; no value gives an empty list.',
      example: 'split("a;b", ";") == ["a", "b"]',
      handler: ((value: string | null, separator: string) =>
        value === null || value === '' ? [] : value.split(separator)) as ExpressionFunction['handler'],
    },
    {
      name: 'join',
      signatures: ['join(list, string): string', 'join(list): string'],
      description: 'Joins the values of a list with a separator, skipping absent ones.',
      example: 'join(["a", "b"], ";") == "a;b"',
      handler: ((values: unknown[], separator = '') =>
        bounded(
          'join',
          values
            .filter((v) => !isEmptyValue(v))
            .map((v) => asText(v, 'join'))
            .join(separator),
        )) as ExpressionFunction['handler'],
    },
    {
      name: 'concat',
      signatures: variadic('concat', 'string'),
      description: 'Joins 2 to 8 values into one text, skipping absent ones (unlike +, which fails on an absent value).',
      example: 'concat(givenName, " ", sn) == "John Doe"',
      handler: ((...values: unknown[]) =>
        bounded(
          'concat',
          values
            .filter((v) => v !== null)
            .map((v) => asText(v, 'concat'))
            .join(''),
        )) as ExpressionFunction['handler'],
    },
    {
      name: 'coalesce',
      signatures: variadic('coalesce', 'dyn'),
      description: 'The first of 2 to 8 values that is not absent (null, empty text or an empty list); null when all are.',
      example: 'coalesce(preferredName, givenName)',
      handler: ((...values: unknown[]) => values.find((v) => !isEmptyValue(v)) ?? null) as ExpressionFunction['handler'],
    },
    {
      name: 'first',
      signatures: ['first(dyn): dyn'],
      description: 'The first value of a list (null for an empty list); a single value is returned as it is.',
      example: 'first(proxyAddresses)',
      handler: ((value: unknown) => (Array.isArray(value) ? (value[0] ?? null) : value)) as ExpressionFunction['handler'],
    },
    {
      name: 'isEmpty',
      signatures: ['isEmpty(dyn): bool'],
      description: 'True for null, empty text and an empty list.',
      example: 'isEmpty(mail)',
      handler: ((value: unknown) => isEmptyValue(value)) as ExpressionFunction['handler'],
    },
    {
      name: 'bitOr',
      signatures: ['bitOr(int, int): int'],
      description: 'Bitwise OR, for flag attributes such as userAccountControl.',
      example: 'bitOr(512, 2) == 514',
      handler: ((a: bigint, b: bigint) => a | b) as ExpressionFunction['handler'],
    },
    {
      name: 'bitAnd',
      signatures: ['bitAnd(int, int): int'],
      description: 'Bitwise AND, to test flags.',
      example: 'bitAnd(514, 2) == 2',
      handler: ((a: bigint, b: bigint) => a & b) as ExpressionFunction['handler'],
    },
  ];
}
