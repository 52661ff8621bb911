import type { SecretProviderName } from '@identitymesh/domain';
import type { SecretProvider, SecretRecord, SecretRecords, SecretReplacement } from '../secret-provider';
import { assertSecretReference, SecretNotFoundError, SecretProviderUnavailableError, SecretRewrapBlockedError, SecretUnavailableError } from '../secret.errors';
import type { SecretProviderSource } from '../providers/create-secret-provider';

/** What `list` and `describe` show of a secret: everything but the value. */
export interface SecretDescription {
  reference: string;
  provider: SecretProviderName;
  keyId: string;
  version: number;
  createdAt: Date;
  rotatedAt: Date | null;
}

export interface RewrapResult {
  /** The provider and key every secret is now under. */
  provider: SecretProviderName;
  keyId: string;
  /** Secrets re-encrypted. */
  rewrapped: number;
  /** Secrets already under the target key, left as they were. */
  unchanged: number;
}

/**
 * Secrets by reference over a SecretRecords port: values go in and come out
 * here and nowhere else, and nothing this class returns besides `get` holds a
 * value. Each record is opened by the provider it names, so a database that
 * holds secrets of two providers (half-way through a rewrap, or after a
 * provider change) still reads.
 */
export class SecretStore {
  constructor(
    private readonly records: SecretRecords,
    private readonly providers: SecretProviderSource,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Stores a value: version 1 for a new reference, the next version (and `rotatedAt`) for an existing one. */
  async set(reference: string, value: string): Promise<SecretDescription> {
    assertSecretReference(reference);
    const existing = await this.records.find(reference);
    return this.write(reference, value, existing);
  }

  /** Replaces the value of an existing secret; unlike `set`, a mistyped reference fails instead of creating a secret. */
  async rotate(reference: string, value: string): Promise<SecretDescription> {
    assertSecretReference(reference);
    const existing = await this.records.find(reference);
    if (!existing) throw new SecretNotFoundError(reference);
    return this.write(reference, value, existing);
  }

  /** The plain value. The only method that returns one. */
  async get(reference: string): Promise<string> {
    assertSecretReference(reference);
    const record = await this.records.find(reference);
    if (!record) throw new SecretNotFoundError(reference);
    return this.open(record);
  }

  async describe(reference: string): Promise<SecretDescription> {
    assertSecretReference(reference);
    const record = await this.records.find(reference);
    if (!record) throw new SecretNotFoundError(reference);
    return describeRecord(record);
  }

  async list(): Promise<SecretDescription[]> {
    return (await this.records.list()).map(describeRecord);
  }

  async delete(reference: string): Promise<void> {
    assertSecretReference(reference);
    const record = await this.records.find(reference);
    if (!record) throw new SecretNotFoundError(reference);
    // Resolved first: a provider that keeps values elsewhere must be reachable before the reference to the value goes.
    const provider = this.providers.get(record.provider);
    if (!(await this.records.delete(reference))) throw new SecretNotFoundError(reference);
    await provider.forget?.(record.reference, { ciphertext: record.ciphertext, keyId: record.keyId });
  }

  /**
   * Re-protects every secret under `target` (a host move, a key rotation, a
   * switch to a shared key). All or nothing: every secret is opened first,
   * and if any cannot be, nothing is written and the error names each one.
   * Versions and timestamps stay: the values did not change.
   */
  async rewrap(target: SecretProvider): Promise<RewrapResult> {
    const keyId = await target.currentKeyId();
    const records = await this.records.list();
    const pending = records.filter((r) => r.provider !== target.name || r.keyId !== keyId);
    const opened: Array<{ record: SecretRecord; value: string }> = [];
    const failures: SecretUnavailableError[] = [];
    for (const record of pending) {
      try {
        opened.push({ record, value: await this.open(record) });
      } catch (error) {
        if (!(error instanceof SecretUnavailableError)) throw error;
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new SecretRewrapBlockedError(failures);
    const rewrapped: SecretRecord[] = [];
    for (const { record, value } of opened) {
      const stored = await target.protect(record.reference, record.version, value);
      rewrapped.push({ ...record, provider: target.name, ciphertext: stored.ciphertext, keyId: stored.keyId });
    }
    await this.records.saveAll(rewrapped);
    for (const [index, { record }] of opened.entries()) {
      const replacement = rewrapped[index];
      await this.forget(record, { provider: replacement.provider, ciphertext: replacement.ciphertext, keyId: replacement.keyId });
    }
    return { provider: target.name, keyId, rewrapped: rewrapped.length, unchanged: records.length - pending.length };
  }

  private async write(reference: string, value: string, existing: SecretRecord | null): Promise<SecretDescription> {
    const provider = this.providers.current();
    const version = existing ? existing.version + 1 : 1;
    const stored = await provider.protect(reference, version, value);
    const now = this.now();
    const record: SecretRecord = {
      reference,
      provider: provider.name,
      ciphertext: stored.ciphertext,
      keyId: stored.keyId,
      version,
      createdAt: existing?.createdAt ?? now,
      rotatedAt: existing ? now : null,
    };
    await this.records.save(record);
    if (existing) await this.forget(existing, { provider: record.provider, ciphertext: record.ciphertext, keyId: record.keyId });
    return describeRecord(record);
  }

  private async open(record: SecretRecord): Promise<string> {
    let provider: SecretProvider;
    try {
      provider = this.providers.get(record.provider);
    } catch (error) {
      if (!(error instanceof SecretProviderUnavailableError)) throw error;
      throw new SecretUnavailableError(
        record.reference,
        `it is kept by the ${record.provider} provider, which is not usable here (${error.message})`,
        `Configure the ${record.provider} provider on this host, or re-provision it ("secretscli set ${record.reference}").`,
      );
    }
    return provider.unprotect(record.reference, record.version, { ciphertext: record.ciphertext, keyId: record.keyId });
  }

  private async forget(record: SecretRecord, replacedBy: SecretReplacement): Promise<void> {
    const provider = this.providers.get(record.provider);
    await provider.forget?.(record.reference, { ciphertext: record.ciphertext, keyId: record.keyId }, replacedBy);
  }
}

function describeRecord(record: SecretRecord): SecretDescription {
  return {
    reference: record.reference,
    provider: record.provider,
    keyId: record.keyId,
    version: record.version,
    createdAt: record.createdAt,
    rotatedAt: record.rotatedAt,
  };
}
