import type { KeyRingPurpose } from '@identitymesh/domain';
import { DomainError } from '@identitymesh/domain';

/**
 * Why a token was refused. Transports answer every one the same way (the
 * caller must sign in again); the reason is for logs and tests.
 */
export type KeyRingTokenProblem = 'malformed' | 'unsupported-version' | 'wrong-purpose' | 'tampered' | 'expired';

const PROBLEM_TEXT: Record<KeyRingTokenProblem, string> = {
  malformed: 'it is not a key ring token',
  'unsupported-version': 'its format version is not one this build reads',
  'wrong-purpose': 'it was made for another purpose',
  tampered: 'it does not verify (it was altered or truncated)',
  expired: 'it is past its own expiry',
};

/** The token itself is unusable. Messages never quote the token: it may be a live credential. */
export class KeyRingTokenInvalidError extends DomainError {
  constructor(
    readonly problem: KeyRingTokenProblem,
    purpose: KeyRingPurpose,
    keyId?: string,
  ) {
    super('KEY_RING_TOKEN_INVALID', `${purpose} token refused: ${PROBLEM_TEXT[problem]}`, { problem, purpose, ...(keyId ? { keyId } : {}) });
  }
}

/** No usable key with this id here: never created, removed after its retention, or its material does not open on this host. */
export class KeyRingKeyUnknownError extends DomainError {
  constructor(
    readonly keyId: string,
    reason?: string,
  ) {
    super('KEY_RING_KEY_UNKNOWN', `key ring key ${keyId} is not known here${reason ? `: ${reason}` : ''}`, { keyId });
  }
}

export class KeyRingKeyRevokedError extends DomainError {
  constructor(
    readonly keyId: string,
    revokedAt: Date,
  ) {
    super('KEY_RING_KEY_REVOKED', `key ring key ${keyId} was revoked at ${revokedAt.toISOString()}`, { keyId, revokedAt: revokedAt.toISOString() });
  }
}

export class KeyRingKeyExpiredError extends DomainError {
  constructor(
    readonly keyId: string,
    expiresAt: Date,
  ) {
    super('KEY_RING_KEY_EXPIRED', `key ring key ${keyId} expired at ${expiresAt.toISOString()}`, { keyId, expiresAt: expiresAt.toISOString() });
  }
}
