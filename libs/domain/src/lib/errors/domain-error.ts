/**
 * Every error the product raises on purpose carries a stable code, so each
 * transport (HTTP problem documents, CLI exit codes, relay results) can map it
 * without reading message text.
 */
export const DOMAIN_ERROR_CODES = [
  'CONFIG_INVALID',
  'SCHEMA_BEHIND',
  'SCHEMA_AHEAD',
  'ENGINE_ALREADY_RUNNING',
  'LEASE_LOST',
  'JOIN_AMBIGUOUS',
  'RULE_DEFINITION_INVALID',
  'RULE_SAMPLE_INVALID',
  'SCHEDULE_INVALID',
  'EXPRESSION_INVALID',
  'EXPRESSION_EVALUATION_FAILED',
  'TEMPLATE_VALUE_MISSING',
  'UNIQUE_VALUE_EXHAUSTED',
  'SECRET_REFERENCE_INVALID',
  'SECRET_NOT_FOUND',
  'SECRET_UNAVAILABLE',
  'SECRET_PROVIDER_UNAVAILABLE',
  'LICENSE_MISSING',
  'LICENSE_MALFORMED',
  'LICENSE_UNTRUSTED_KEY',
  'LICENSE_SIGNATURE_INVALID',
  'LICENSE_EXPIRED',
  'LICENSE_NOT_YET_VALID',
  'KEY_RING_TOKEN_INVALID',
  'KEY_RING_KEY_UNKNOWN',
  'KEY_RING_KEY_REVOKED',
  'KEY_RING_KEY_EXPIRED',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Compile-time proof that a switch over a closed set handled every member. */
export function assertUnreachable(value: never): never {
  throw new Error(`unhandled value: ${String(value)}`);
}
