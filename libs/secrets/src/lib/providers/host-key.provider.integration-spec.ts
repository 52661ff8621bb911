import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SecretProviderUnavailableError, SecretUnavailableError } from '../secret.errors';
import { DpapiBinding, dpapiProtector, loadDpapiProtector, plainFileProtector } from './host-key-protector';
import { defaultHostKeyFile, HostKeyProvider, readOrCreateHostKey } from './host-key.provider';

/** File-system tests of the host key: real files in a temp directory (POSIX modes, so not meaningful on Windows). */
describe('HostKeyProvider', () => {
  let dataDir: string;
  let keyFile: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'im-host-key-'));
    keyFile = defaultHostKeyFile(dataDir);
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function providerError(provider: HostKeyProvider): Promise<SecretProviderUnavailableError> {
    const error = await provider.currentKeyId().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretProviderUnavailableError);
    return error as SecretProviderUnavailableError;
  }

  it('creates a 32-byte key on first use, owner-only in an owner-only directory, and keeps using it', async () => {
    const provider = new HostKeyProvider({ keyFile, platform: 'linux' });
    const keyId = await provider.currentKeyId();
    expect(keyId).toMatch(/^host:[0-9a-f]{16}$/);
    expect(keyFile).toBe(join(dataDir, 'keys', 'secrets-host.key'));
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(keyFile))).mode & 0o777).toBe(0o700);
    expect((await readFile(keyFile)).length).toBe(32);
    expect(await readdir(dirname(keyFile))).toEqual(['secrets-host.key']);

    const sealed = await provider.protect('ldap/corp/bind-password', 1, 'v4lue');
    const again = new HostKeyProvider({ keyFile, platform: 'linux' });
    expect(await again.currentKeyId()).toBe(keyId);
    expect(await again.unprotect('ldap/corp/bind-password', 1, sealed)).toBe('v4lue');
  });

  it('refuses a key file that group or others may read, saying how to fix it', async () => {
    await new HostKeyProvider({ keyFile, platform: 'linux' }).currentKeyId();
    for (const mode of [0o640, 0o604, 0o660]) {
      await chmod(keyFile, mode);
      const error = await providerError(new HostKeyProvider({ keyFile, platform: 'linux' }));
      expect(error.code).toBe('SECRET_PROVIDER_UNAVAILABLE');
      expect(error.message).toContain(keyFile);
      expect(error.message).toContain(`0${mode.toString(8)}`);
      expect(error.message).toContain(`chmod 600 ${keyFile}`);
    }
  });

  it('refuses a key file of the wrong length, without creating another', async () => {
    await new HostKeyProvider({ keyFile, platform: 'linux' }).currentKeyId();
    await writeFile(keyFile, Buffer.alloc(20), { mode: 0o600 });
    const error = await providerError(new HostKeyProvider({ keyFile, platform: 'linux' }));
    expect(error.message).toContain('20 bytes');
    expect((await readFile(keyFile)).length).toBe(20);
  });

  it('lets two providers racing to create the key end up with one key', async () => {
    const racers = Array.from({ length: 8 }, () => new HostKeyProvider({ keyFile, platform: 'linux' }));
    const ids = await Promise.all(racers.map((p) => p.currentKeyId()));
    expect(new Set(ids).size).toBe(1);
    expect(await readdir(dirname(keyFile))).toEqual(['secrets-host.key']);
    // A value sealed by any racer opens with any other: they hold the same key.
    const sealed = await racers[3].protect('a/b', 1, 'x');
    expect(await racers[6].unprotect('a/b', 1, sealed)).toBe('x');
  });

  it('keeps the key that reached the file first when another creator links after it, never overwriting it', async () => {
    let loserKey: Buffer | undefined;
    // The loser holds its new key until the winner's file exists, so its link is the one that must fail.
    const loser = {
      ...plainFileProtector,
      protect: async (key: Buffer) => {
        loserKey = Buffer.from(key);
        while (!existsSync(keyFile)) await new Promise((r) => setTimeout(r, 2));
        return Buffer.from(key);
      },
    };
    const [fromLoser, fromWinner] = await Promise.all([readOrCreateHostKey(keyFile, loser), readOrCreateHostKey(keyFile, plainFileProtector)]);
    expect(loserKey).toHaveLength(32);
    expect(fromLoser.equals(fromWinner)).toBe(true);
    expect(fromLoser.equals(loserKey as Buffer)).toBe(false);
    expect((await readFile(keyFile)).equals(fromWinner)).toBe(true);
    expect(await readdir(dirname(keyFile))).toEqual(['secrets-host.key']);
  });

  it('fails a host-A blob under host key B with the host remedy', async () => {
    const a = new HostKeyProvider({ keyFile: join(dataDir, 'a.key'), platform: 'linux' });
    const b = new HostKeyProvider({ keyFile: join(dataDir, 'b.key'), platform: 'linux' });
    const sealed = await a.protect('sql/hr/password', 2, 'pw');
    const error = await b.unprotect('sql/hr/password', 2, sealed).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect((error as Error).message).toContain('sql/hr/password');
    expect((error as Error).message).toContain('re-provision');
  });

  describe('on Windows (DPAPI through an injected fake binding)', () => {
    /** Reversible and recognisable: a marker, then the bytes reversed; records the scope and entropy it was called with. */
    function fakeDpapi(): DpapiBinding & { calls: Array<{ op: string; scope: string; entropy: string | null }> } {
      const MARK = Buffer.from('DPAPI:');
      const calls: Array<{ op: string; scope: string; entropy: string | null }> = [];
      return {
        calls,
        protectData(data, entropy, scope) {
          calls.push({ op: 'protect', scope, entropy: entropy ? Buffer.from(entropy).toString() : null });
          return Buffer.concat([MARK, Buffer.from(data).reverse()]);
        },
        unprotectData(data, entropy, scope) {
          calls.push({ op: 'unprotect', scope, entropy: entropy ? Buffer.from(entropy).toString() : null });
          const bytes = Buffer.from(data);
          if (!bytes.subarray(0, MARK.length).equals(MARK)) throw new Error('The data is invalid.');
          return Buffer.from(bytes.subarray(MARK.length)).reverse();
        },
      };
    }

    it('stores the key DPAPI-protected for the machine and reads it back', async () => {
      const dpapi = fakeDpapi();
      const provider = new HostKeyProvider({ keyFile, platform: 'win32', protector: dpapiProtector(dpapi) });
      const sealed = await provider.protect('ldap/corp/bind-password', 1, 'value');
      const onDisk = await readFile(keyFile);
      expect(onDisk.subarray(0, 6).toString()).toBe('DPAPI:');
      expect(onDisk.length).toBe(38);

      const again = new HostKeyProvider({ keyFile, platform: 'win32', protector: dpapiProtector(dpapi) });
      expect(await again.unprotect('ldap/corp/bind-password', 1, sealed)).toBe('value');
      expect(dpapi.calls.map((c) => c.op)).toEqual(['protect', 'unprotect', 'unprotect']);
      expect(dpapi.calls.every((c) => c.scope === 'LocalMachine' && c.entropy === 'IdentityMesh host secret key v1')).toBe(true);
    });

    it('does not apply POSIX permission checks there (ACLs protect the file)', async () => {
      const dpapi = fakeDpapi();
      await new HostKeyProvider({ keyFile, platform: 'win32', protector: dpapiProtector(dpapi) }).currentKeyId();
      await chmod(keyFile, 0o644);
      await expect(new HostKeyProvider({ keyFile, platform: 'win32', protector: dpapiProtector(dpapi) }).currentKeyId()).resolves.toMatch(
        /^host:/,
      );
    });

    it('reports a key file DPAPI cannot unprotect (made on another machine) as a provider problem', async () => {
      await new HostKeyProvider({ keyFile, platform: 'linux' }).currentKeyId(); // a raw key: not DPAPI output
      const error = await providerError(new HostKeyProvider({ keyFile, platform: 'win32', protector: dpapiProtector(fakeDpapi()) }));
      expect(error.message).toContain('DPAPI cannot unprotect');
      expect(error.message).toContain('another machine');
    });

    it('explains when the DPAPI module cannot be used on this platform', async () => {
      if (process.platform === 'win32') {
        await expect(loadDpapiProtector()).resolves.toMatchObject({ description: 'Windows DPAPI (LocalMachine)' });
        return;
      }
      const error = await loadDpapiProtector().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SecretProviderUnavailableError);
      expect((error as Error).message).toContain('@primno/dpapi');
      expect((error as Error).message).toContain('IM_SECRETS_PROVIDER=shared-key');
    });
  });
});
