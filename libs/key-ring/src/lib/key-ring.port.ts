import type { KeyRingPurpose } from '@identitymesh/domain';

/** One `IM_KeyRingKeys` row as the key ring sees it. `material` is opaque here: sealed by a KeyMaterialProtector. */
export interface KeyRingKeyRecord {
  /** The key id (kid) every token protected under this key carries. */
  id: string;
  purpose: KeyRingPurpose;
  material: string;
  algorithm: string;
  createdAt: Date;
  activatesAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

/**
 * Where the keys live. The persistence lib implements it over
 * `IM_KeyRingKeys`; the cluster key ring will implement it over Redis with a
 * durable copy in SQL. The ring reads the whole set at once (a handful of
 * rows per purpose), so there is no per-key lookup.
 */
export interface KeyRingKeys {
  /** Every key, revoked and expired ones included. */
  list(): Promise<KeyRingKeyRecord[]>;
  insert(record: KeyRingKeyRecord): Promise<void>;
  /** Sets `revokedAt` unless the key is already revoked (the first revocation time stays). False when there is no such key. */
  revoke(id: string, at: Date): Promise<boolean>;
  /** Deletes the keys with these ids in one statement; returns how many were deleted. */
  remove(ids: string[]): Promise<number>;
  /**
   * Runs `work` while holding a lock that every process using the same store
   * honours. Key creation runs under it, so processes starting together on an
   * empty ring create one key per purpose between them, not one each.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
}

/** What a KeyMaterialProtector returns for one key's material. */
export interface ProtectedKeyMaterial {
  ciphertext: string;
  keyId: string;
}

/**
 * Encrypts key material at rest. Shaped after (and satisfied by) the secrets
 * lib's SecretProvider, which the apps pass in: the key ring stays usable
 * without that lib, and a provider's failure to open a value is recognised by
 * its stable code, `SECRET_UNAVAILABLE`.
 */
export interface KeyMaterialProtector {
  /** The provider's name, recorded with each key so an operator can tell which provider sealed it. */
  readonly name: string;
  /** The key id new material is sealed under; named when material sealed under another key does not open. */
  currentKeyId(): Promise<string>;
  protect(reference: string, version: number, value: string): Promise<ProtectedKeyMaterial>;
  unprotect(reference: string, version: number, stored: ProtectedKeyMaterial): Promise<string>;
  /** For providers that keep the value elsewhere (a vault): called when a key is removed. */
  forget?(reference: string, stored: ProtectedKeyMaterial): Promise<void>;
}
