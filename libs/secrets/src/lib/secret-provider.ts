import type { SecretProviderName } from '@identitymesh/domain';

/**
 * What a secret provider stores for one value. For the envelope providers
 * (`host`, `shared-key`) `ciphertext` is the sealed blob; for Azure Key Vault
 * it is only the vault's reference (name and version) — the value stays in
 * the vault.
 */
export interface ProtectedSecret {
  ciphertext: string;
  /** Which key (or vault) protected it: `host:<fingerprint>`, `shared:<fingerprint>`, `akv:<vault host>`. */
  keyId: string;
}

/** Turns plain values into what SQL may hold, and back. */
export interface SecretProvider {
  readonly name: SecretProviderName;
  /** The key id new values are protected under (for `list` and for rewrap planning). */
  currentKeyId(): Promise<string>;
  /**
   * Protects `value` for `reference` at `version`. Reference and version are
   * bound into the result, so a blob copied to another reference or version
   * does not open.
   */
  protect(reference: string, version: number, value: string): Promise<ProtectedSecret>;
  /**
   * Opens what `protect` returned. A blob this provider cannot open here
   * (another host's key, a rotated-away key, a tampered blob) fails with a
   * SecretUnavailableError naming the reference and the remedy, never with
   * the crypto library's error.
   */
  unprotect(reference: string, version: number, stored: ProtectedSecret): Promise<string>;
  /**
   * Called after a secret's record is deleted or replaced, for providers that
   * keep the value elsewhere. `replacedBy` is what took its place (a newer
   * version from `set`/`rotate`, or the rewrapped value) and is absent when
   * the secret was deleted: a provider whose versions share one external
   * object (a vault secret) must keep that object when it was only replaced.
   * @default no-op
   */
  forget?(reference: string, stored: ProtectedSecret, replacedBy?: SecretReplacement): Promise<void>;
}

/** What took a forgotten value's place: the provider that now holds the secret, and what it stored. */
export interface SecretReplacement extends ProtectedSecret {
  provider: SecretProviderName;
}

/** One `IM_Secrets` row as the secret store sees it. */
export interface SecretRecord {
  reference: string;
  provider: SecretProviderName;
  ciphertext: string;
  keyId: string;
  version: number;
  createdAt: Date;
  rotatedAt: Date | null;
}

/**
 * Where secret records live. The persistence lib implements it over
 * `IM_Secrets`; a relay agent (which never touches SQL) implements it over a
 * file in its data directory.
 */
export interface SecretRecords {
  find(reference: string): Promise<SecretRecord | null>;
  /** Every record, ordered by reference. */
  list(): Promise<SecretRecord[]>;
  /** Inserts or replaces the record of `record.reference`. */
  save(record: SecretRecord): Promise<void>;
  /** Replaces many records in one transaction (rewrap: all or nothing). */
  saveAll(records: SecretRecord[]): Promise<void>;
  delete(reference: string): Promise<boolean>;
}
