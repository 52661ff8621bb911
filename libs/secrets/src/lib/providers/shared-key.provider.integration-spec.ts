import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretProviderUnavailableError, SecretUnavailableError } from '../secret.errors';
import { keyFingerprint } from '../envelope/envelope';
import { decodeSharedKey, SharedKeyProvider } from './shared-key.provider';

async function failure(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('SharedKeyProvider', () => {
  const key = randomBytes(32);
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'im-shared-key-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the key from the environment value and names it shared:<fingerprint>', async () => {
    const provider = new SharedKeyProvider({ keyBase64: key.toString('base64') });
    expect(await provider.currentKeyId()).toBe(keyFingerprint('shared', key));
    expect(await provider.currentKeyId()).toMatch(/^shared:[0-9a-f]{16}$/);
  });

  it('reads the same key from a file (base64 text, trailing newline allowed) and opens what the env-configured provider sealed', async () => {
    const file = join(dir, 'shared.key');
    await writeFile(file, `${key.toString('base64')}\n`);
    const fromEnv = new SharedKeyProvider({ keyBase64: key.toString('base64') });
    const fromFile = new SharedKeyProvider({ keyFile: file });
    const sealed = await fromEnv.protect('ldap/corp/bind-password', 1, 'pw');
    expect(sealed.keyId).toBe(await fromFile.currentKeyId());
    expect(await fromFile.unprotect('ldap/corp/bind-password', 1, sealed)).toBe('pw');
  });

  it('fails under another shared key with the shared-key remedy', async () => {
    const sealed = await new SharedKeyProvider({ keyBase64: key.toString('base64') }).protect('a/b', 1, 'pw');
    const error = await failure(new SharedKeyProvider({ keyBase64: randomBytes(32).toString('base64') }).unprotect('a/b', 1, sealed));
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect(error.message).toContain(sealed.keyId);
    expect(error.message).toContain('IM_SECRETS_SHARED_KEY_FILE');
  });

  it.each([
    ['no key at all', {}, 'no shared key is configured'],
    ['both a file and a value', { keyFile: '/x', keyBase64: 'AAAA' }, 'set only one'],
    ['a missing file', { keyFile: '/nonexistent/im-shared.key' }, 'cannot be read (ENOENT)'],
    ['an empty value', { keyBase64: '  ' }, 'is empty'],
    ['text that is not base64', { keyBase64: 'not a key, just a phrase!' }, 'is not base64'],
    ['a 16-byte key', { keyBase64: randomBytes(16).toString('base64') }, 'decodes to 16 bytes'],
    ['a 33-byte key', { keyBase64: randomBytes(33).toString('base64') }, 'decodes to 33 bytes'],
  ] as Array<[string, { keyFile?: string; keyBase64?: string }, string]>)('refuses %s with a clear message that never repeats the value', async (_case, options, expected) => {
    const error = await failure(new SharedKeyProvider(options).currentKeyId());
    expect(error).toBeInstanceOf(SecretProviderUnavailableError);
    expect(error.message).toContain('secret provider shared-key is not usable');
    expect(error.message).toContain(expected);
    if (options.keyBase64?.trim()) expect(error.message).not.toContain(options.keyBase64.trim());
  });

  it('names the setting a bad key came from', () => {
    expect(() => decodeSharedKey('AAAA', 'IM_SECRETS_SHARED_KEY')).toThrow(/IM_SECRETS_SHARED_KEY decodes to 3 bytes/);
    expect(decodeSharedKey(` ${key.toString('base64')} `, 'x').equals(key)).toBe(true);
  });
});
