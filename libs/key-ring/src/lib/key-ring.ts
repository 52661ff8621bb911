import type { KeyRingPurpose } from '@identitymesh/domain';

export interface ProtectOptions {
  /**
   * When the token stops validating, checked by `unprotect` (the key's own
   * expiry applies as well). At most `validationGraceMs` from now.
   * @default no expiry of its own: the token validates as long as its key does
   */
  expiresAt?: Date;
}

/**
 * What the apps use: sealed, purpose-bound tokens. The single-instance ring
 * (RotatingKeyRing over SQL) and the cluster ring to come both implement it,
 * so code that mints sessions, CSRF tokens and relay session tokens does not
 * change between the two.
 */
export interface KeyRing {
  /**
   * Encrypts and authenticates `payload` for `purpose` under the purpose's
   * current key, as a compact URL-safe token
   * (`v1.<kid>.<iv>.<ciphertext>.<tag>`). The payload is confidential, not
   * only signed.
   */
  protect(purpose: KeyRingPurpose, payload: string | Buffer, options?: ProtectOptions): Promise<string>;
  /**
   * The payload of a token `protect` made for the same `purpose`. Anything
   * else fails with a DomainError whose code says why, never with a crypto
   * library error: KEY_RING_TOKEN_INVALID (not a token, another format
   * version, altered, made for another purpose, past its own expiry),
   * KEY_RING_KEY_UNKNOWN (no such key, or removed, or its material does not
   * open here), KEY_RING_KEY_REVOKED, KEY_RING_KEY_EXPIRED.
   */
  unprotect(purpose: KeyRingPurpose, token: string): Promise<Buffer>;
}

/** Where a key is in its life, as `list` shows it. */
export type KeyRingKeyState = 'next' | 'current' | 'validating' | 'expired' | 'revoked';

/** A key without its material. */
export interface KeyRingKeyView {
  id: string;
  purpose: KeyRingPurpose;
  algorithm: string;
  createdAt: Date;
  activatesAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  state: KeyRingKeyState;
  /** False when this process's secret provider cannot open the key's material; such a key neither protects nor validates here. */
  readable: boolean;
}

/** What operators (through the Admin API) and start-up need besides protect and unprotect. */
export interface ManagedKeyRing extends KeyRing {
  /**
   * Makes sure every purpose has a current key and, once the current key is
   * within `activationLeadMs` of being replaced, the next one; removes keys
   * past their retention. Safe to call from several processes at once.
   */
  ensureKeys(): Promise<void>;
  /** Every key, by purpose (session, csrf, relay-token), then oldest activation first. */
  list(): Promise<KeyRingKeyView[]>;
  /**
   * Revokes a key: from this call on, this process neither validates nor
   * protects with it; other processes follow within `refreshIntervalMs`.
   * A revoked current key is replaced by a new key at once.
   */
  revoke(keyId: string): Promise<KeyRingKeyView>;
  /**
   * Creates a key for `purpose` that protects new tokens from now on; older
   * keys keep validating until they expire. A next key already waiting still
   * takes over at its time.
   */
  rotateNow(purpose: KeyRingPurpose): Promise<KeyRingKeyView>;
}
