import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { SecretProviders, SecretRecord, SecretSettings, SecretStore, SecretUnavailableError } from '@identitymesh/secrets';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { SecretEntity } from '../entities/secret.entity';
import { SecretRepository } from './secret.repository';

describe.each(['sqlite', 'postgres'] as const)('secrets in IM_Secrets on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let keys: string;
  let hostA: SecretSettings;
  let hostB: SecretSettings;
  const sharedKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    keys = await mkdtemp(join(tmpdir(), 'im-secret-keys-'));
    // Two hosts sharing one database: each has its own host key file, both may be given the same shared key.
    hostA = { provider: 'host', hostKeyFile: join(keys, 'a', 'secrets-host.key'), sharedKey };
    hostB = { provider: 'host', hostKeyFile: join(keys, 'b', 'secrets-host.key'), sharedKey };
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
    await rm(keys, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await dataSource.getRepository(SecretEntity).clear();
  });

  const storeOn = (settings: SecretSettings) => new SecretStore(new SecretRepository(dataSource), new SecretProviders(settings));

  it('round-trips set, get, rotate, list and delete', async () => {
    const store = storeOn(hostA);
    const created = await store.set('ldap/corp/bind-password', 'pässwörd-1');
    expect(created).toMatchObject({ provider: 'host', version: 1, rotatedAt: null });
    expect(created.keyId).toMatch(/^host:[0-9a-f]{16}$/);
    expect(await store.get('ldap/corp/bind-password')).toBe('pässwörd-1');

    const rotated = await store.rotate('ldap/corp/bind-password', 'pässwörd-2');
    expect(rotated.version).toBe(2);
    expect(rotated.rotatedAt).toBeInstanceOf(Date);
    expect(await store.get('ldap/corp/bind-password')).toBe('pässwörd-2');

    await store.set('sql/hr/password', 'hr');
    const listed = await store.list();
    expect(listed.map((d) => [d.reference, d.version])).toEqual([
      ['ldap/corp/bind-password', 2],
      ['sql/hr/password', 1],
    ]);
    expect(listed[0].createdAt.getTime()).toBe(created.createdAt.getTime());

    const row = await dataSource.getRepository(SecretEntity).findOneByOrFail({ reference: 'ldap/corp/bind-password' });
    expect(row.ciphertext.startsWith('im1.')).toBe(true);
    expect(row.ciphertext).not.toContain('pässwörd');
    expect(row.keyId).toBe(created.keyId);

    await store.delete('sql/hr/password');
    expect((await store.list()).map((d) => d.reference)).toEqual(['ldap/corp/bind-password']);
  });

  it('fails cleanly on host B for a secret sealed on host A, and reads it after a rewrap to the shared key', async () => {
    await storeOn(hostA).set('ldap/corp/bind-password', 'from-host-a');
    await storeOn(hostA).set('sql/hr/password', 'hr-from-host-a');

    const onB = storeOn(hostB);
    const error = await onB.get('ldap/corp/bind-password').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain('ldap/corp/bind-password');
    expect(message).toContain('re-provision it on this host');
    expect(message).toContain('rewrap --to shared-key');
    expect((error as Error).stack).not.toMatch(/node:internal\/crypto/);
    // B cannot rewrap what it cannot open, and writes nothing trying.
    await expect(onB.rewrap(new SecretProviders(hostB).get('shared-key'))).rejects.toThrow(/rewrap changed nothing: 2 secret/);
    expect((await onB.list()).every((d) => d.provider === 'host')).toBe(true);

    // On host A, which holds the host key, move everything to the shared key both hosts have.
    const result = await storeOn(hostA).rewrap(new SecretProviders(hostA).get('shared-key'));
    expect(result).toMatchObject({ provider: 'shared-key', rewrapped: 2, unchanged: 0 });

    // B, still configured for its own host key, reads the shared-key records through the provider each names…
    expect(await onB.get('ldap/corp/bind-password')).toBe('from-host-a');
    // …and can make them its own host's.
    const toB = await onB.rewrap(new SecretProviders(hostB).get('host'));
    expect(toB).toMatchObject({ provider: 'host', rewrapped: 2 });
    expect(toB.keyId).not.toBe(await new SecretProviders(hostA).current().currentKeyId());
    expect(await storeOn({ ...hostB, sharedKey: undefined }).get('sql/hr/password')).toBe('hr-from-host-a');
    expect((await onB.list()).map((d) => d.keyId)).toEqual([toB.keyId, toB.keyId]);
    await expect(storeOn(hostA).get('sql/hr/password')).rejects.toBeInstanceOf(SecretUnavailableError);
  });

  it('saves many records in one transaction: all of them or none', async () => {
    const repo = new SecretRepository(dataSource);
    const now = new Date();
    const record = (reference: string): SecretRecord => ({
      reference,
      provider: 'shared-key',
      ciphertext: `im1.${reference}`,
      keyId: 'shared:0000000000000000',
      version: 1,
      createdAt: now,
      rotatedAt: null,
    });
    const many = Array.from({ length: 600 }, (_, i) => record(`bulk/item-${String(i).padStart(4, '0')}`));
    await repo.saveAll(many);
    expect(await dataSource.getRepository(SecretEntity).count()).toBe(600);
    await repo.saveAll(many.map((r) => ({ ...r, version: 2, ciphertext: `${r.ciphertext}.v2` })));
    const listed = await repo.list();
    expect(listed).toHaveLength(600);
    expect(listed.every((r) => r.version === 2 && r.ciphertext.endsWith('.v2'))).toBe(true);

    // The last chunk fails (a reference longer than the column, or a null the column refuses): nothing of the earlier chunks stays.
    const broken = [...many.map((r) => ({ ...r, version: 3 })), { ...record('bulk/zz-broken'), ciphertext: null as unknown as string }];
    await expect(repo.saveAll(broken)).rejects.toThrow();
    expect((await repo.list()).every((r) => r.version === 2)).toBe(true);
    expect(await repo.find('bulk/zz-broken')).toBeNull();
  });
});
