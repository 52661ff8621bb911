import { DomainError } from '@identitymesh/domain';

/** References look like paths: `ldap/corp/bind-password`. */
export const SECRET_REFERENCE_PATTERN = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;
export const SECRET_REFERENCE_MAX_LENGTH = 255;

export class SecretReferenceInvalidError extends DomainError {
  constructor(reference: string) {
    super(
      'SECRET_REFERENCE_INVALID',
      `"${reference.slice(0, 80)}" is not a secret reference: use lower-case path segments of letters, digits, '.', '_' and '-', such as ldap/corp/bind-password (at most ${SECRET_REFERENCE_MAX_LENGTH} characters)`,
    );
  }
}

export class SecretNotFoundError extends DomainError {
  constructor(readonly reference: string) {
    super('SECRET_NOT_FOUND', `no secret is stored under ${reference}`, { reference });
  }
}

/** A stored secret exists but cannot be opened here; the message says what to do. */
export class SecretUnavailableError extends DomainError {
  constructor(
    readonly reference: string,
    reason: string,
    remedy: string,
  ) {
    super('SECRET_UNAVAILABLE', `secret ${reference} cannot be decrypted here: ${reason}. ${remedy}`, { reference });
  }
}

/** The configured provider itself cannot work (no key file permission, vault unreachable, module missing). */
export class SecretProviderUnavailableError extends DomainError {
  constructor(provider: string, reason: string) {
    super('SECRET_PROVIDER_UNAVAILABLE', `secret provider ${provider} is not usable: ${reason}`, { provider });
  }
}

export function assertSecretReference(reference: string): void {
  if (reference.length > SECRET_REFERENCE_MAX_LENGTH || !SECRET_REFERENCE_PATTERN.test(reference)) {
    throw new SecretReferenceInvalidError(reference);
  }
}

/** Rewrap found secrets it cannot open, and so wrote nothing; each one is named with its own reason. */
export class SecretRewrapBlockedError extends DomainError {
  readonly references: string[];

  constructor(readonly failures: SecretUnavailableError[]) {
    const references = failures.map((f) => f.reference);
    super(
      'SECRET_UNAVAILABLE',
      `rewrap changed nothing: ${failures.length} secret(s) cannot be decrypted here (${references.join(', ')}). ` +
        `Run rewrap where these open, or re-provision or delete them first.\n` +
        failures.map((f) => `  - ${f.message}`).join('\n'),
      { references },
    );
    this.references = references;
  }
}
