import { randomBytes } from 'node:crypto';
import { CredentialUnavailableError, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { SecretProviderName } from '@identitymesh/domain';
import type { ProtectedSecret, SecretProvider, SecretRecord, SecretRecords } from '../secret-provider';
import { SecretNotFoundError, SecretProviderUnavailableError, SecretUnavailableError } from '../secret.errors';
import type { SecretProviderSource } from './create-secret-provider';
import { SecretStore } from '../store/secret.store';
import {
  AKV_REFERENCE_TAG,
  AKV_VERSION_TAG,
  AzureKeyVaultProvider,
  AzureKeyVaultProviderOptions,
  formatVaultSecretLocation,
  parseVaultSecretLocation,
  vaultSecretName,
} from './azure-key-vault.provider';
import { SharedKeyProvider } from './shared-key.provider';
import { closedPort, KeyVaultStandIn, STAND_IN_VAULT_HOST, startKeyVaultStandIn } from './testing/key-vault-stand-in';

/** A value no error message, log line or SQL column may ever contain. */
const VALUE = `pl41n-${randomBytes(8).toString('hex')}`;
const REFERENCE = 'ldap/corp/bind-password';

interface TokenRequest {
  scopes: string[];
  tenantId?: string;
}

/** Stands in for Entra ID, which can't be reached here: always the same token, and a note of what was asked for. */
function fixedToken(token: string, asked: TokenRequest[] = []): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions) {
      asked.push({ scopes: Array.isArray(scopes) ? scopes : [scopes], tenantId: options?.tenantId });
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
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

/** What every provider error must be: ours, naming what failed, without the value or an SDK stack. */
function expectClean(error: Error, ...mentions: string[]): void {
  expect(error).toBeInstanceOf(error instanceof SecretUnavailableError ? SecretUnavailableError : SecretProviderUnavailableError);
  for (const mention of mentions) expect(error.message).toContain(mention);
  expect(error.message).not.toContain(VALUE);
  expect(error.message).not.toMatch(/\n\s+at /);
  expect(JSON.stringify(error)).not.toContain(VALUE);
}

class MemoryRecords implements SecretRecords {
  readonly rows = new Map<string, SecretRecord>();
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
    get: (name: SecretProviderName) => {
      const found = all.find((p) => p.name === name);
      if (!found) throw new SecretProviderUnavailableError(name, 'not configured in this test');
      return found;
    },
  };
}

describe('AzureKeyVaultProvider against a local Key Vault stand-in', () => {
  let standIn: KeyVaultStandIn;
  let clock: number;
  let asked: TokenRequest[];

  beforeAll(async () => {
    standIn = await startKeyVaultStandIn();
  });
  afterAll(async () => {
    await standIn?.stop();
  });
  beforeEach(() => {
    standIn.behaviour = 'normal';
    standIn.requests.length = 0;
    clock = 1_000_000;
    asked = [];
  });

  type TestOptions = Partial<AzureKeyVaultProviderOptions> & { token?: string; trustCertificate?: boolean };

  function provider(options: TestOptions = {}): AzureKeyVaultProvider {
    const { token, trustCertificate, ...rest } = options;
    return new AzureKeyVaultProvider({
      vaultUrl: standIn.url,
      credential: fixedToken(token ?? standIn.token, asked),
      // Few, short retries: a failing case must fail in milliseconds, not after the SDK's default back-off.
      clientOptions: { agent: standIn.agent({ trustCertificate }), retryOptions: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 } },
      now: () => clock,
      ...rest,
    });
  }

  const reads = () => standIn.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/secrets/') && r.status === 200).length;

  it('keeps the value in the vault and gives SQL only the vault secret name and version', async () => {
    const akv = provider();
    const stored = await akv.protect(REFERENCE, 1, VALUE);

    expect(stored.keyId).toBe(`akv:${STAND_IN_VAULT_HOST}:${standIn.port}`);
    expect(await akv.currentKeyId()).toBe(stored.keyId);
    expect(stored.ciphertext).not.toContain(VALUE);
    const location = parseVaultSecretLocation(stored.ciphertext);
    expect(location).toEqual({ name: vaultSecretName(REFERENCE), version: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(JSON.parse(stored.ciphertext)).toEqual(location);
    expect(standIn.versions(vaultSecretName(REFERENCE))).toEqual([
      { version: location?.version, value: VALUE, tags: { [AKV_REFERENCE_TAG]: REFERENCE, [AKV_VERSION_TAG]: '1' }, enabled: true },
    ]);

    expect(await akv.unprotect(REFERENCE, 1, stored)).toBe(VALUE);
  });

  it('answers the vault challenge with the token for the tenant and resource it names, then sends the token on every request', async () => {
    const akv = provider({ cacheSeconds: 0 });
    const stored = await akv.protect(REFERENCE, 1, VALUE);
    await akv.unprotect(REFERENCE, 1, stored);

    const [challenge, ...rest] = standIn.requests;
    // The SDK's first request goes without token and without body, to learn where to get a token.
    expect(challenge).toMatchObject({ method: 'PUT', authorization: 'none', hadBody: false, status: 401 });
    expect(rest.map((r) => [r.method, r.authorization, r.status])).toEqual([
      ['PUT', 'valid', 200],
      ['GET', 'valid', 200],
    ]);
    expect(rest[0].hadBody).toBe(true);
    expect(new Set(standIn.requests.map((r) => r.apiVersion))).toEqual(new Set(['2025-07-01']));
    expect(asked.length).toBeGreaterThanOrEqual(1);
    for (const request of asked) expect(request).toEqual({ scopes: ['https://vault.azure.net/.default'], tenantId: standIn.tenantId });
  });

  it('adds a vault version on rotation, and each record opens the version it names', async () => {
    const akv = provider({ cacheSeconds: 0 });
    const reference = 'sql/hr/password';
    const first = await akv.protect(reference, 1, 'one');
    const second = await akv.protect(reference, 2, 'two');

    const [a, b] = [parseVaultSecretLocation(first.ciphertext), parseVaultSecretLocation(second.ciphertext)];
    expect(a?.name).toBe(b?.name);
    expect(a?.version).not.toBe(b?.version);
    expect(standIn.versions(vaultSecretName(reference)).map((v) => [v.value, v.tags[AKV_VERSION_TAG]])).toEqual([
      ['one', '1'],
      ['two', '2'],
    ]);
    expect(await akv.unprotect(reference, 2, second)).toBe('two');
    expect(await akv.unprotect(reference, 1, first)).toBe('one');

    // What the store does after a rotation: the old record is forgotten, replaced by the new one in the same vault secret.
    await akv.forget(reference, first, { provider: 'azure-key-vault', ...second });
    expect(standIn.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(standIn.isDeleted(vaultSecretName(reference))).toBe(false);
    expect(await akv.unprotect(reference, 2, second)).toBe('two');
    expect(await akv.unprotect(reference, 1, first)).toBe('one');
  });

  it('serves a repeated read from the cache until the TTL ends, keyed by vault version', async () => {
    const akv = provider({ cacheSeconds: 60 });
    const reference = 'cache/one';
    const first = await akv.protect(reference, 1, 'v1');

    expect(await akv.unprotect(reference, 1, first)).toBe('v1');
    expect(reads()).toBe(1);
    clock += 59_999;
    expect(await akv.unprotect(reference, 1, first)).toBe('v1');
    expect(reads()).toBe(1);

    // A rotation is a new vault version, so the new value is read from the vault at once, never served stale.
    const second = await akv.protect(reference, 2, 'v2');
    expect(await akv.unprotect(reference, 2, second)).toBe('v2');
    expect(reads()).toBe(2);

    clock += 1;
    expect(await akv.unprotect(reference, 1, first)).toBe('v1');
    expect(reads()).toBe(3);
  });

  it('reads the vault every time with a TTL of 0, and holds at most cacheMaxEntries values', async () => {
    const uncached = provider({ cacheSeconds: 0 });
    const stored = await uncached.protect('cache/two', 1, 'x');
    await uncached.unprotect('cache/two', 1, stored);
    await uncached.unprotect('cache/two', 1, stored);
    expect(reads()).toBe(2);

    standIn.requests.length = 0;
    const small = provider({ cacheSeconds: 60, cacheMaxEntries: 2 });
    const records = await Promise.all(['cache/a', 'cache/b', 'cache/c'].map((r) => small.protect(r, 1, r)));
    for (const [i, r] of ['cache/a', 'cache/b', 'cache/c'].entries()) await small.unprotect(r, 1, records[i]);
    expect(reads()).toBe(3);
    await small.unprotect('cache/c', 1, records[2]);
    expect(reads()).toBe(3);
    // cache/a was the oldest entry and went when cache/c came in.
    await small.unprotect('cache/a', 1, records[0]);
    expect(reads()).toBe(4);
  });

  it('deletes the vault secret only when the secret is deleted, and a later set brings the soft-deleted name back', async () => {
    const akv = provider({ cacheSeconds: 60 });
    const reference = 'delete/me';
    const name = vaultSecretName(reference);
    const first = await akv.protect(reference, 1, VALUE);
    expect(await akv.unprotect(reference, 1, first)).toBe(VALUE);

    await akv.forget(reference, first);
    expect(standIn.isDeleted(name)).toBe(true);
    expect(standIn.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/secrets/${name}`]);
    // The cached value went with it.
    const gone = await failure(akv.unprotect(reference, 1, first));
    expectClean(gone, reference, 'does not exist', 'az keyvault secret recover', `--name ${name}`, 'secretscli set');
    // Forgetting again (a retried delete) is not an error.
    await akv.forget(reference, first);

    const again = await akv.protect(reference, 1, 'new value');
    expect(standIn.requests.some((r) => r.method === 'POST' && r.path === `/deletedsecrets/${name}/recover` && r.status === 200)).toBe(true);
    expect(standIn.isDeleted(name)).toBe(false);
    expect(standIn.versions(name).map((v) => v.value)).toEqual([VALUE, 'new value']);
    expect(await akv.unprotect(reference, 1, again)).toBe('new value');
  });

  it('deletes the vault secret when a rewrap moved the value to another provider', async () => {
    const akv = provider();
    const stored = await akv.protect('moved/away', 3, 'x');
    await akv.forget('moved/away', stored, { provider: 'shared-key', ciphertext: 'im1.a.b.c', keyId: 'shared:0123456789abcdef' });
    expect(standIn.isDeleted(vaultSecretName('moved/away'))).toBe(true);
  });

  describe('failures', () => {
    let stored: ProtectedSecret;

    beforeEach(async () => {
      stored = await provider().protect(REFERENCE, 1, VALUE);
      standIn.requests.length = 0;
    });

    it('a token the vault rejects: the provider is unusable, and the error says why', async () => {
      const versionsBefore = standIn.versions(vaultSecretName(REFERENCE)).length;
      const wrong = provider({ token: 'not-the-vault-token', cacheSeconds: 0 });
      const reading = await failure(wrong.unprotect(REFERENCE, 1, stored));
      expectClean(reading, `reading ${REFERENCE}`, 'rejected this host', '401', "vault's tenant");
      expect(reading).toBeInstanceOf(SecretProviderUnavailableError);
      const writing = await failure(wrong.protect(REFERENCE, 2, VALUE));
      expectClean(writing, `storing ${REFERENCE}`, '401');
      expect(standIn.requests.every((r) => r.status === 401)).toBe(true);
      expect(standIn.versions(vaultSecretName(REFERENCE))).toHaveLength(versionsBefore);
    });

    it('no Azure identity on this host: the error says which identities work', async () => {
      const noIdentity = provider({
        credential: {
          getToken: async () => {
            throw new CredentialUnavailableError('ManagedIdentityCredential: no managed identity endpoint found.');
          },
        },
      });
      const reading = await failure(noIdentity.unprotect(REFERENCE, 1, stored));
      expectClean(reading, `reading ${REFERENCE}`, 'could not get an Entra ID token', 'CredentialUnavailableError', 'managed identity', 'AZURE_CLIENT_ID');
      // Only the unauthenticated challenge request reached the vault.
      expect(standIn.requests.map((r) => r.authorization)).toEqual(['none']);
    });

    it('no role on the vault (403): reads name the reference and the role to grant, writes the officer role', async () => {
      standIn.behaviour = 'forbidden';
      const akv = provider({ cacheSeconds: 0 });
      const reading = await failure(akv.unprotect(REFERENCE, 1, stored));
      expect(reading).toBeInstanceOf(SecretUnavailableError);
      expectClean(reading, REFERENCE, '403 Forbidden ForbiddenByRbac', 'Key Vault Secrets User');
      const writing = await failure(akv.protect(REFERENCE, 2, VALUE));
      expect(writing).toBeInstanceOf(SecretProviderUnavailableError);
      expectClean(writing, REFERENCE, 'Key Vault Secrets Officer');
      const deleting = await failure(akv.forget(REFERENCE, stored));
      expectClean(deleting, REFERENCE, 'no longer refers to it', 'Key Vault Secrets Officer');
    });

    it('a vault that is down fails fast with the setting to check, and does not hang', async () => {
      const down = provider({ vaultUrl: `https://${STAND_IN_VAULT_HOST}:${await closedPort()}/` });
      const started = Date.now();
      const reading = await failure(down.unprotect(REFERENCE, 1, { ...stored, keyId: await down.currentKeyId() }));
      expectClean(reading, `reading ${REFERENCE}`, 'cannot be reached (ECONNREFUSED)', 'IM_SECRETS_AKV_URL');
      const writing = await failure(down.protect(REFERENCE, 2, VALUE));
      expectClean(writing, `storing ${REFERENCE}`, 'cannot be reached');
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('a vault that accepts connections and never answers fails at the operation timeout', async () => {
      standIn.behaviour = 'hang';
      const slow = provider({ operationTimeoutMs: 300, cacheSeconds: 0 });
      const started = Date.now();
      const reading = await failure(slow.unprotect(REFERENCE, 1, stored));
      expectClean(reading, `reading ${REFERENCE}`, 'cannot be reached (no answer in time)');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('a vault whose certificate is not trusted here is refused', async () => {
      const untrusted = provider({ trustCertificate: false });
      const writing = await failure(untrusted.protect(REFERENCE, 2, VALUE));
      expectClean(writing, `storing ${REFERENCE}`, 'TLS certificate', 'not trusted', 'NODE_EXTRA_CA_CERTS');
      expect(standIn.requests).toEqual([]);
    });

    it('a version the vault does not have, or has disabled', async () => {
      const akv = provider({ cacheSeconds: 0 });
      const missing = { ...stored, ciphertext: formatVaultSecretLocation({ name: vaultSecretName(REFERENCE), version: 'f'.repeat(32) }) };
      expectClean(await failure(akv.unprotect(REFERENCE, 1, missing)), REFERENCE, `version ${'f'.repeat(32)}`, 'does not exist', 'secretscli set');

      const location = parseVaultSecretLocation(stored.ciphertext);
      standIn.disable(location?.name ?? '', location?.version ?? '');
      expectClean(await failure(akv.unprotect(REFERENCE, 1, stored)), REFERENCE, 'is disabled in the vault', 'set-attributes --enabled true');
    });

    it('a record copied to another reference or version, or kept in another vault, does not open', async () => {
      const akv = provider({ cacheSeconds: 0 });
      expectClean(await failure(akv.unprotect('ldap/other/bind-password', 1, stored)), 'ldap/other/bind-password', 'belongs to another reference');
      expectClean(await failure(akv.unprotect(REFERENCE, 2, stored)), REFERENCE, `tagged as version 1 of ${REFERENCE}, not version 2`);
      expectClean(await failure(akv.unprotect(REFERENCE, 1, { ...stored, ciphertext: 'im1.x.y.z' })), REFERENCE, 'not readable');

      standIn.requests.length = 0;
      const elsewhere = { ...stored, keyId: 'akv:contoso.vault.azure.net' };
      expectClean(await failure(akv.unprotect(REFERENCE, 1, elsewhere)), REFERENCE, 'kept in vault contoso.vault.azure.net', 'IM_SECRETS_AKV_URL');
      expect(standIn.requests).toEqual([]);
      // Deleting such a secret can't reach its vault, and says what is left behind.
      expectClean(await failure(akv.forget(REFERENCE, elsewhere)), 'stays in vault contoso.vault.azure.net', 'az keyvault secret delete');
      expect(standIn.requests).toEqual([]);
    });
  });

  describe('under SecretStore', () => {
    it('sets, gets, rotates, lists and deletes with the value only in the vault', async () => {
      const akv = provider({ cacheSeconds: 60 });
      const records = new MemoryRecords();
      const store = new SecretStore(records, source(akv));
      const reference = 'store/corp/bind-password';
      const name = vaultSecretName(reference);

      expect(await store.set(reference, VALUE)).toMatchObject({ provider: 'azure-key-vault', keyId: await akv.currentKeyId(), version: 1 });
      expect(await store.get(reference)).toBe(VALUE);
      expect(await store.rotate(reference, `${VALUE}-2`)).toMatchObject({ version: 2 });
      expect(await store.get(reference)).toBe(`${VALUE}-2`);
      // The rotation forgot version 1 without deleting the vault secret: both versions stay in the vault.
      expect(standIn.isDeleted(name)).toBe(false);
      expect(standIn.versions(name).map((v) => v.tags[AKV_VERSION_TAG])).toEqual(['1', '2']);

      const row = records.rows.get(reference);
      expect(row?.ciphertext).toBe(formatVaultSecretLocation({ name, version: standIn.versions(name)[1].version }));
      expect(JSON.stringify([...records.rows.values()])).not.toContain(VALUE);
      expect(JSON.stringify(await store.list())).not.toContain(VALUE);

      await store.delete(reference);
      expect(standIn.isDeleted(name)).toBe(true);
      await expect(store.get(reference)).rejects.toBeInstanceOf(SecretNotFoundError);

      expect(await store.set(reference, 'after delete')).toMatchObject({ version: 1 });
      expect(await store.get(reference)).toBe('after delete');
    });

    it('rewraps to a shared key and back: the vault secret goes when the value leaves the vault', async () => {
      const akv = provider({ cacheSeconds: 0 });
      const shared = new SharedKeyProvider({ keyBase64: randomBytes(32).toString('base64') });
      const records = new MemoryRecords();
      await new SecretStore(records, source(akv)).set('rewrap/one', 'r1');

      const toShared = await new SecretStore(records, source(shared, [akv])).rewrap(shared);
      expect(toShared).toMatchObject({ provider: 'shared-key', rewrapped: 1 });
      expect(standIn.isDeleted(vaultSecretName('rewrap/one'))).toBe(true);

      const back = new SecretStore(records, source(akv, [shared]));
      expect(await back.rewrap(akv)).toMatchObject({ provider: 'azure-key-vault', keyId: await akv.currentKeyId(), rewrapped: 1 });
      expect(await back.get('rewrap/one')).toBe('r1');
      expect(standIn.versions(vaultSecretName('rewrap/one')).map((v) => v.value)).toEqual(['r1', 'r1']);
    });
  });
});
