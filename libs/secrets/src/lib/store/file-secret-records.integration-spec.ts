import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretRecord } from '../secret-provider';
import { HostKeyProvider } from '../providers/host-key.provider';
import { defaultSecretRecordsFile, FileSecretRecords, SecretRecordsFileError } from './file-secret-records';
import { SecretStore } from './secret.store';

function record(reference: string, version = 1, rotatedAt: Date | null = null): SecretRecord {
  return {
    reference,
    provider: 'host',
    ciphertext: `sealed-${reference}-${version}`,
    keyId: 'host:abc123',
    version,
    createdAt: new Date('2026-03-01T10:00:00.000Z'),
    rotatedAt,
  };
}

describe('FileSecretRecords', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-file-secrets-'));
    file = join(dir, 'nested', 'secrets.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty while the file does not exist, and keeps it in the data directory by default', async () => {
    const records = new FileSecretRecords({ file });
    expect(await records.list()).toEqual([]);
    expect(await records.find('a/b')).toBeNull();
    expect(await records.delete('a/b')).toBe(false);
    expect(defaultSecretRecordsFile('/var/lib/identitymesh')).toBe(join('/var/lib/identitymesh', 'secrets.json'));
  });

  it('saves, finds, lists by reference and deletes, with dates intact, as another instance (another process) sees them', async () => {
    const records = new FileSecretRecords({ file });
    await records.save(record('z/last'));
    await records.save(record('a/first', 2, new Date('2026-03-02T11:00:00.000Z')));
    await records.save(record('z/last', 3));

    const other = new FileSecretRecords({ file });
    expect(await other.list()).toEqual([record('a/first', 2, new Date('2026-03-02T11:00:00.000Z')), record('z/last', 3)]);
    expect(await other.find('a/first')).toEqual(record('a/first', 2, new Date('2026-03-02T11:00:00.000Z')));
    expect(await other.delete('a/first')).toBe(true);
    expect(await records.list()).toEqual([record('z/last', 3)]);
  });

  it('replaces many records in one write', async () => {
    const records = new FileSecretRecords({ file });
    await records.save(record('a/one'));
    await records.saveAll([record('a/one', 2), record('b/two', 5)]);
    expect((await records.list()).map((r) => [r.reference, r.version])).toEqual([
      ['a/one', 2],
      ['b/two', 5],
    ]);
  });

  it('keeps the file owner-only and leaves no temp or lock file behind', async () => {
    const records = new FileSecretRecords({ file });
    await records.save(record('a/b'));
    await records.delete('a/b');
    expect(readdirSync(join(dir, 'nested'))).toEqual(['secrets.json']);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('loses no write when two instances write at once', async () => {
    const first = new FileSecretRecords({ file });
    const second = new FileSecretRecords({ file });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second).save(record(`app/secret-${String(i).padStart(2, '0')}`))));
    expect((await first.list()).map((r) => r.reference)).toEqual(Array.from({ length: 20 }, (_, i) => `app/secret-${String(i).padStart(2, '0')}`));
  });

  it('waits for a lock another process holds, then names the lock file', async () => {
    const records = new FileSecretRecords({ file, lockTimeoutMs: 100 });
    await records.save(record('a/b'));
    writeFileSync(`${file}.lock`, '12345');
    const error = await records.save(record('c/d')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretRecordsFileError);
    expect((error as Error).message).toContain(`${file}.lock`);
    expect(await records.find('c/d')).toBeNull();
  });

  it('takes over a lock left behind by a process that died mid-write', async () => {
    const records = new FileSecretRecords({ file, lockTimeoutMs: 100, staleLockMs: 1_000 });
    await records.save(record('a/b'));
    writeFileSync(`${file}.lock`, '12345');
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, longAgo, longAgo);
    await records.save(record('c/d'));
    expect((await records.list()).map((r) => r.reference)).toEqual(['a/b', 'c/d']);
  });

  it.each([
    ['not JSON', '{ "secrets": [', 'not valid JSON'],
    ['not records', '{ "secrets": [{ "reference": "a/b" }] }', 'does not hold secret records'],
    ['an unknown provider', JSON.stringify({ secrets: [{ ...record('a/b'), provider: 'vault', createdAt: '2026-03-01T10:00:00.000Z' }] }), 'secrets.0.provider'],
  ])('refuses a file holding %s, naming the file', async (_what, content, problem) => {
    const records = new FileSecretRecords({ file: join(dir, 'secrets.json') });
    writeFileSync(join(dir, 'secrets.json'), content);
    const error = await records.find('a/b').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretRecordsFileError);
    expect(error).toMatchObject({ code: 'SECRET_PROVIDER_UNAVAILABLE' });
    expect((error as Error).message).toContain(join(dir, 'secrets.json'));
    expect((error as Error).message).toContain(problem);
    await expect(records.save(record('c/d'))).rejects.toBeInstanceOf(SecretRecordsFileError);
  });

  it('serves the secret store: values sealed by the host key, opened by a second store over the same file', async () => {
    const keyFile = join(dir, 'keys', 'secrets-host.key');
    const store = new SecretStore(new FileSecretRecords({ file }), providersOf(new HostKeyProvider({ keyFile })));
    await store.set('ldap/branch/bind-password', 'pa55-w0rd');
    await store.set('ldap/branch/bind-password', 'pa55-w0rd-2');
    expect(readFileSync(file, 'utf8')).not.toContain('pa55-w0rd');

    const again = new SecretStore(new FileSecretRecords({ file }), providersOf(new HostKeyProvider({ keyFile })));
    expect(await again.get('ldap/branch/bind-password')).toBe('pa55-w0rd-2');
    expect(await again.describe('ldap/branch/bind-password')).toMatchObject({ version: 2, provider: 'host' });
  });
});

function providersOf(provider: HostKeyProvider) {
  return { current: () => provider, get: () => provider };
}
