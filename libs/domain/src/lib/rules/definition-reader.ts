import type { AttributeScalar } from '../model/attributes';
import { RuleDefinitionInvalidError } from './rule.errors';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is AttributeScalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * Reads a JSON definition field by field, failing with the field's path. Keys
 * the definition does not know are refused rather than ignored: a misspelt
 * `nullhandling` must not silently fall back to the default.
 */
export class DefinitionReader {
  constructor(
    private readonly kind: string,
    private readonly value: Json,
    private readonly path: string,
  ) {}

  static root(kind: string, definition: unknown, allowed: readonly string[]): DefinitionReader {
    if (!isObject(definition)) throw new RuleDefinitionInvalidError(kind, '', 'definition must be a JSON object');
    const reader = new DefinitionReader(kind, definition, '');
    reader.only(allowed);
    return reader;
  }

  field(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  fail(field: string, problem: string): never {
    throw new RuleDefinitionInvalidError(this.kind, field, problem);
  }

  only(allowed: readonly string[]): void {
    for (const key of Object.keys(this.value)) {
      if (!allowed.includes(key)) this.fail(this.field(key), `is not a known field (expected ${allowed.join(', ')})`);
    }
  }

  has(name: string): boolean {
    return this.value[name] !== undefined && this.value[name] !== null;
  }

  string(name: string): string {
    const value = this.value[name];
    if (typeof value !== 'string' || value.trim() === '') this.fail(this.field(name), 'is required and must be non-empty text');
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  /** Text that may be empty (a separator). */
  optionalText(name: string): string | undefined {
    if (!this.has(name)) return undefined;
    const value = this.value[name];
    if (typeof value !== 'string') this.fail(this.field(name), 'must be text');
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    if (!this.has(name)) return undefined;
    const value = this.value[name];
    if (typeof value !== 'boolean') this.fail(this.field(name), 'must be true or false');
    return value;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    if (!this.has(name)) return undefined;
    const value = this.value[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(this.field(name), `must be a whole number from ${min} to ${max}`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T {
    if (!this.has(name) && fallback !== undefined) return fallback;
    const value = this.value[name];
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      this.fail(this.field(name), `must be one of ${values.join(', ')}`);
    }
    return value as T;
  }

  object(name: string, allowed: readonly string[]): DefinitionReader {
    const value = this.value[name];
    if (!isObject(value)) this.fail(this.field(name), 'must be a JSON object');
    const reader = new DefinitionReader(this.kind, value, this.field(name));
    reader.only(allowed);
    return reader;
  }

  optionalObject(name: string, allowed: readonly string[]): DefinitionReader | undefined {
    return this.has(name) ? this.object(name, allowed) : undefined;
  }

  /** An array of non-empty strings. */
  strings(name: string, minLength = 1): string[] {
    const value = this.value[name];
    if (!Array.isArray(value) || value.length < minLength) this.fail(this.field(name), `must be a list of at least ${minLength} expression(s)`);
    return value.map((item, i) => {
      if (typeof item !== 'string' || item.trim() === '') this.fail(`${this.field(name)}[${i}]`, 'must be non-empty text');
      return item;
    });
  }

  objects(name: string, allowed: readonly string[], minLength = 1): DefinitionReader[] {
    const value = this.value[name];
    if (!Array.isArray(value) || value.length < minLength) this.fail(this.field(name), `must be a list of at least ${minLength} item(s)`);
    return value.map((item, i) => {
      if (!isObject(item)) this.fail(`${this.field(name)}[${i}]`, 'must be a JSON object');
      const reader = new DefinitionReader(this.kind, item, `${this.field(name)}[${i}]`);
      reader.only(allowed);
      return reader;
    });
  }

  /** A map of attribute name → non-empty string. */
  stringMap(name: string): Record<string, string> {
    const value = this.value[name];
    if (!isObject(value) || Object.keys(value).length === 0) this.fail(this.field(name), 'must be a JSON object with at least one attribute');
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string' || item.trim() === '') this.fail(`${this.field(name)}.${key}`, 'must be an expression');
      out[key] = item;
    }
    return out;
  }

  /** A value or list of values (text, number, true/false). */
  optionalScalars(name: string): AttributeScalar | AttributeScalar[] | undefined {
    if (!this.has(name)) return undefined;
    const value = this.value[name];
    if (isScalar(value)) return value;
    if (Array.isArray(value) && value.every(isScalar)) return value;
    this.fail(this.field(name), 'must be text, a number, true/false or a list of them');
  }
}
