import { randomBytes } from 'node:crypto';
import type { SecretProviderName } from '@identitymesh/domain';
import type { ProtectedSecret, SecretProvider, SecretRecord, SecretRecords, SecretReplacement } from '../secret-provider';
import {
  SecretNotFoundError,
  SecretProviderUnavailableError,
  SecretReferenceInvalidError,
  SecretRewrapBlockedError,
  SecretUnavailableError,
} from '../secret.errors';
import { EnvelopeKey, keyFingerprint, openEnvelope, sealEnvelope } from '../envelope/envelope';
import type { SecretProviderSource } from '../providers/create-secret-provider';
import { SecretStore } from './secret.store';

/** An envelope provider over an in-memory key: the store's logic without key files. */
class KeyedProvider implements SecretProvider {
  readonly forgotten: string[] = [];
  readonly replacements: Array<SecretReplacement | undefined> = [];
  private readonly kek: EnvelopeKey;

  constructor(
    readonly name: SecretProviderName,
    key = randomBytes(32),
  ) {
    this.kek = { id: keyFingerprint(name === 'host' ? 'host' : 'shared', key), key, provider: name };
  }
  async currentKeyId() {
    return this.kek.id;
  }
  async protect(reference: string, version: number, value: string): Promise<ProtectedSecret> {
    return { ciphertext: sealEnvelope(value, this.kek, { reference, version }), keyId: this.kek.id };
  }
  async unprotect(reference: string, version: number, stored: ProtectedSecret) {
    return openEnvelope(stored.ciphertext, this.kek, { reference, version });
  }
  async forget(reference: string, _stored: ProtectedSecret, replacedBy?: SecretReplacement) {
    this.forgotten.push(reference);
    this.replacements.push(replacedBy);
  }
}

class MemoryRecords implements SecretRecords {
  readonly rows = new Map<string, SecretRecord>();
  saveAllCalls = 0;
  async find(reference: string) {
    return this.rows.get(reference) ?? null;
  }
  async list() {
    return [...this.rows.values()].sort((a, b) => a.reference.localeCompare(b.reference));
  }
  async save(record: SecretRecord) {
    this.rows.set(record.reference, { ...record });
  }
  async saveAll(records: SecretRecord[]) {
    this.saveAllCalls += 1;
    for (const r of records) this.rows.set(r.reference, { ...r });
  }
  async delete(reference: string) {
    return this.rows.delete(reference);
  }
}

function source(current: SecretProvider, others: SecretProvider[] = []): SecretProviderSource {
  const all = [current, ...others];
  return {
    current: () => current,
    get: (name) => {
      const found = all.find((p) => p.name === name);
      if (!found) throw new SecretProviderUnavailableError(name, 'not configured in this test');
      return found;
    },
  };
}

async function failure(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('SecretStore', () => {
  const t0 = new Date('2026-03-01T10:00:00Z');
  const t1 = new Date('2026-03-02T10:00:00Z');
  let clock: Date;
  let records: MemoryRecords;
  let host: KeyedProvider;
  let store: SecretStore;

  beforeEach(() => {
    clock = t0;
    records = new MemoryRecords();
    host = new KeyedProvider('host');
    store = new SecretStore(records, source(host), () => clock);
  });

  it('stores a new secret as version 1 and gives the value back', async () => {
    const described = await store.set('ldap/corp/bind-password', 's3cr3t');
    expect(described).toEqual({
      reference: 'ldap/corp/bind-password',
      provider: 'host',
      keyId: await host.currentKeyId(),
      version: 1,
      createdAt: t0,
      rotatedAt: null,
    });
    expect(records.rows.get('ldap/corp/bind-password')?.ciphertext).not.toContain('s3cr3t');
    expect(await store.get('ldap/corp/bind-password')).toBe('s3cr3t');
  });

  it('bumps the version on set of an existing reference, keeping createdAt and forgetting the old value', async () => {
    await store.set('a/b', 'one');
    clock = t1;
    const described = await store.set('a/b', 'two');
    expect(described).toMatchObject({ version: 2, createdAt: t0, rotatedAt: t1 });
    expect(await store.get('a/b')).toBe('two');
    expect(host.forgotten).toEqual(['a/b']);
    const now = records.rows.get('a/b');
    expect(host.replacements).toEqual([{ provider: 'host', ciphertext: now?.ciphertext, keyId: now?.keyId }]);
  });

  it('rotates only an existing secret', async () => {
    await expect(store.rotate('a/missing', 'x')).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(records.rows.size).toBe(0);
    await store.set('a/b', 'one');
    clock = t1;
    expect(await store.rotate('a/b', 'two')).toMatchObject({ version: 2, rotatedAt: t1 });
    expect(await store.rotate('a/b', 'three')).toMatchObject({ version: 3 });
    expect(await store.get('a/b')).toBe('three');
  });

  it('lists and describes without values or ciphertext', async () => {
    await store.set('z/last', 'value-z');
    await store.set('a/first', 'value-a');
    const listed = await store.list();
    expect(listed.map((d) => d.reference)).toEqual(['a/first', 'z/last']);
    for (const d of listed) expect(Object.keys(d).sort()).toEqual(['createdAt', 'keyId', 'provider', 'reference', 'rotatedAt', 'version']);
    expect(JSON.stringify(listed)).not.toMatch(/value-|im1\./);
    expect(await store.describe('z/last')).toEqual(listed[1]);
  });

  it('deletes, and reports what is not there', async () => {
    await store.set('a/b', 'x');
    await store.delete('a/b');
    expect(host.forgotten).toEqual(['a/b']);
    // Nothing replaced it: a provider that keeps values elsewhere may now remove the value itself.
    expect(host.replacements).toEqual([undefined]);
    await expect(store.get('a/b')).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(store.delete('a/b')).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(store.describe('a/b')).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('refuses references that are not references', async () => {
    for (const bad of ['', 'Upper/Case', '/leading', 'a//b', 'a/b/', 'a b', 'x'.repeat(256)]) {
      await expect(store.set(bad, 'v')).rejects.toBeInstanceOf(SecretReferenceInvalidError);
    }
    expect(records.rows.size).toBe(0);
  });

  it('reads each record with the provider that wrote it', async () => {
    const shared = new KeyedProvider('shared-key');
    await store.set('a/host', 'h');
    const sharedStore = new SecretStore(records, source(shared, [host]), () => clock);
    await sharedStore.set('a/shared', 's');
    expect(await sharedStore.get('a/host')).toBe('h');
    expect(await sharedStore.get('a/shared')).toBe('s');
    expect((await sharedStore.list()).map((d) => d.provider)).toEqual(['host', 'shared-key']);
  });

  it('says which provider is missing when a record names one that is not usable here', async () => {
    const shared = new KeyedProvider('shared-key');
    await new SecretStore(records, source(shared), () => clock).set('sql/hr/password', 'x');
    const error = await failure(store.get('sql/hr/password'));
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect(error.message).toContain('sql/hr/password');
    expect(error.message).toContain('shared-key provider');
    expect(error.message).toContain('Configure the shared-key provider');
  });

  describe('rewrap', () => {
    it('re-protects every secret under the target, keeping versions and timestamps', async () => {
      await store.set('a/one', '1');
      clock = t1;
      await store.set('a/two', '2');
      await store.rotate('a/two', '2b');
      const before = await store.list();
      const shared = new KeyedProvider('shared-key');
      const result = await store.rewrap(shared);
      expect(result).toEqual({ provider: 'shared-key', keyId: await shared.currentKeyId(), rewrapped: 2, unchanged: 0 });
      expect(records.saveAllCalls).toBe(1);
      const after = await store.list();
      expect(after.map((d) => [d.reference, d.provider, d.keyId, d.version, d.createdAt, d.rotatedAt])).toEqual(
        before.map((d) => [d.reference, 'shared-key', result.keyId, d.version, d.createdAt, d.rotatedAt]),
      );
      // Only the shared key is needed now.
      const sharedOnly = new SecretStore(records, source(shared));
      expect(await sharedOnly.get('a/one')).toBe('1');
      expect(await sharedOnly.get('a/two')).toBe('2b');
      expect(host.forgotten.sort()).toEqual(['a/one', 'a/two', 'a/two']);
      // The rotation was replaced by a newer host version; the rewrap by what the shared key now holds.
      expect(host.replacements.map((r) => r?.provider)).toEqual(['host', 'shared-key', 'shared-key']);
      expect(host.replacements[2]).toEqual({ provider: 'shared-key', ciphertext: records.rows.get('a/two')?.ciphertext, keyId: result.keyId });
    });

    it('leaves secrets already under the target key alone', async () => {
      await store.set('a/one', '1');
      const shared = new KeyedProvider('shared-key');
      await store.rewrap(shared);
      const blob = records.rows.get('a/one')?.ciphertext;
      expect(await store.rewrap(shared)).toMatchObject({ rewrapped: 0, unchanged: 1 });
      expect(records.rows.get('a/one')?.ciphertext).toBe(blob);
    });

    it('moves secrets from one host key to another host key when both are at hand', async () => {
      await store.set('a/one', '1');
      const newHost = new KeyedProvider('host');
      expect(await store.rewrap(newHost)).toMatchObject({ provider: 'host', rewrapped: 1 });
      expect(await new SecretStore(records, source(newHost)).get('a/one')).toBe('1');
      await expect(store.get('a/one')).rejects.toBeInstanceOf(SecretUnavailableError);
    });

    it('writes nothing when any secret cannot be opened, and names every one', async () => {
      await store.set('a/ok', 'fine');
      const otherHost = new KeyedProvider('host');
      const foreign = new SecretStore(records, source(otherHost));
      await foreign.set('b/foreign-1', 'x');
      await foreign.set('b/foreign-2', 'y');
      const snapshot = JSON.stringify([...records.rows.values()]);
      const error = await failure(store.rewrap(new KeyedProvider('shared-key')));
      expect(error).toBeInstanceOf(SecretRewrapBlockedError);
      expect((error as SecretRewrapBlockedError).code).toBe('SECRET_UNAVAILABLE');
      expect((error as SecretRewrapBlockedError).references).toEqual(['b/foreign-1', 'b/foreign-2']);
      expect(error.message).toContain('rewrap changed nothing: 2 secret(s)');
      expect(error.message).toContain('b/foreign-1');
      expect(error.message).toContain('b/foreign-2');
      expect(error.message).not.toContain('a/ok');
      expect(records.saveAllCalls).toBe(0);
      expect(JSON.stringify([...records.rows.values()])).toBe(snapshot);
    });
  });
});
