import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DomainError } from '@identitymesh/domain';
import { createThrowawayDatabase, TEST_DIALECTS, ThrowawayDatabase } from '@identitymesh/testing';
import { HostKeyProvider, SharedKeyProvider } from '@identitymesh/secrets';
import { KeyMaterialProtector, KeyRingKeyRecord, RotatingKeyRing } from '@identitymesh/key-ring';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { KeyRingKeyEntity } from '../entities/key-ring-key.entity';
import { KeyRingRepository } from './key-ring.repository';

// Migrating MariaDB takes a few seconds.
jest.setTimeout(120_000);

const SECOND = 1000;
const DAY = 86_400_000;
const kidOf = (token: string) => token.split('.')[1];

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return (error as DomainError).code;
}

describe.each(TEST_DIALECTS)('key ring in IM_KeyRingKeys on %s', (dialect) => {
  let db: ThrowawayDatabase;
  /** Two connection pools on one database: two processes, as the Admin API and the Sync Engine are. */
  let processA: DataSource;
  let processB: DataSource;
  let keys: string;
  let now: number;
  const clock = () => new Date(now);
  const sharedKey = randomBytes(32).toString('base64');
  const shared = () => new SharedKeyProvider({ keyBase64: sharedKey });

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    processA = await connectDatabase(db.settings);
    await migrateDatabase(processA);
    processB = await connectDatabase(db.settings);
    keys = await mkdtemp(join(tmpdir(), 'im-key-ring-keys-'));
  });
  afterAll(async () => {
    await processA?.destroy();
    await processB?.destroy();
    await db?.drop();
    await rm(keys, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await processA.getRepository(KeyRingKeyEntity).clear();
    now = Date.parse('2026-03-01T08:00:00.000Z');
  });

  // A SecretProvider is what the apps hand in; this line is also the compile-time proof that it fits.
  const ringOn = (dataSource: DataSource, protector: KeyMaterialProtector = shared()) =>
    new RotatingKeyRing({ keys: new KeyRingRepository(dataSource), protector, now: clock });
  const rows = () => processA.getRepository(KeyRingKeyEntity).find({ order: { purpose: 'ASC', activatesAt: 'ASC' } });

  it('creates exactly one key per purpose when two processes start on an empty ring at once', async () => {
    const rings = [ringOn(processA), ringOn(processB), ringOn(processA), ringOn(processB)];
    await Promise.all(rings.map((ring) => ring.ensureKeys()));
    const stored = await rows();
    expect(stored.map((r) => r.purpose).sort()).toEqual(['csrf', 'relay-token', 'session']);
    expect(stored.every((r) => r.activatesAt.getTime() === now && r.revokedAt === null)).toBe(true);
    // Whichever process minted it, every one protects with and validates the same key.
    const tokens = await Promise.all(rings.map((ring, i) => ring.protect('session', `from ${i}`)));
    expect(new Set(tokens.map(kidOf)).size).toBe(1);
    for (const ring of rings) expect((await ring.unprotect('session', tokens[3])).toString()).toBe('from 3');
  });

  it('keeps only sealed material in the table, under the key-ring/<purpose>/<kid> reference', async () => {
    const provider = shared();
    await ringOn(processA, provider).ensureKeys();
    for (const row of await rows()) {
      const stored = JSON.parse(row.material) as { provider: string; keyId: string; ciphertext: string };
      expect(stored.provider).toBe('shared-key');
      expect(stored.keyId).toBe(await provider.currentKeyId());
      expect(stored.ciphertext.startsWith('im1.')).toBe(true);
      expect(row.algorithm).toBe('A256GCM+HKDF-SHA256');
      const raw = Buffer.from(await provider.unprotect(`key-ring/${row.purpose}/${row.id}`, 1, stored), 'base64');
      expect(raw).toHaveLength(32);
      for (const spelling of [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')]) expect(row.material).not.toContain(spelling);
      // Bound to its own row: the same blob does not open as another key's material.
      await expect(provider.unprotect(`key-ring/${row.purpose}/00000000-0000-7000-8000-000000000000`, 1, stored)).rejects.toMatchObject({
        code: 'SECRET_UNAVAILABLE',
      });
    }
  });

  it('rotates, revokes and removes across processes without logging anyone out early', async () => {
    const a = ringOn(processA);
    const b = ringOn(processB);
    const first = await a.protect('session', 'day 0');
    expect((await b.unprotect('session', first)).toString()).toBe('day 0');

    now += 88 * DAY;
    await a.ensureKeys();
    const next = (await a.list()).find((k) => k.purpose === 'session' && k.state === 'next');
    expect(next?.activatesAt.getTime()).toBe(Date.parse('2026-05-30T08:00:00.000Z'));
    now += 2 * DAY;
    const second = await b.protect('session', 'day 90');
    expect(kidOf(second)).toBe(next?.id);
    expect((await a.unprotect('session', first)).toString()).toBe('day 0');
    expect((await a.unprotect('session', second)).toString()).toBe('day 90');

    // Revocation: immediate in A, stored for B, which sees it at its next refresh.
    const csrf = await b.protect('csrf', 'csrf');
    await a.revoke(kidOf(csrf));
    expect(await codeOf(a.unprotect('csrf', csrf))).toBe('KEY_RING_KEY_REVOKED');
    now += 30 * SECOND;
    expect(await codeOf(b.unprotect('csrf', csrf))).toBe('KEY_RING_KEY_REVOKED');
    expect((await rows()).find((r) => r.id === kidOf(csrf))?.revokedAt).toBeInstanceOf(Date);
    expect(kidOf(await b.protect('csrf', 'x'))).not.toBe(kidOf(csrf));

    // Day 104: the first key expired; day 134: removed from the table, and its tokens fail as unknown.
    now += 14 * DAY;
    expect(await codeOf(b.unprotect('session', first))).toBe('KEY_RING_KEY_EXPIRED');
    now += 30 * DAY;
    await a.ensureKeys();
    expect((await rows()).some((r) => r.id === kidOf(first))).toBe(false);
    expect(await codeOf(a.unprotect('session', first))).toBe('KEY_RING_KEY_UNKNOWN');
    expect(await codeOf(b.unprotect('session', first))).toBe('KEY_RING_KEY_UNKNOWN');
    expect((await b.unprotect('session', second)).toString()).toBe('day 90');
  });

  it('recreates the keys when the secret provider key changes, refusing older tokens cleanly', async () => {
    const hostA = new HostKeyProvider({ keyFile: join(keys, `${dialect}-a`, 'secrets-host.key') });
    const hostB = new HostKeyProvider({ keyFile: join(keys, `${dialect}-b`, 'secrets-host.key') });
    const onA = ringOn(processA, hostA);
    const token = await onA.protect('relay-token', 'relay r1');

    const onB = ringOn(processB, hostB);
    const error = await onB.unprotect('relay-token', token).then(
      () => undefined,
      (e: unknown) => e as DomainError,
    );
    expect(error?.code).toBe('KEY_RING_KEY_UNKNOWN');
    expect(error?.message).toContain(`its material is sealed under ${await hostA.currentKeyId()}, and the host key here is ${await hostB.currentKeyId()}`);
    expect(error?.stack).not.toMatch(/node:internal\/crypto/);
    const mine = await onB.protect('relay-token', 'relay r2');
    expect((await onB.unprotect('relay-token', mine)).toString()).toBe('relay r2');
    expect((await rows()).filter((r) => r.purpose === 'relay-token')).toHaveLength(2);
    // Each host holds its own three keys and reports the other's as unreadable: nothing is overwritten.
    const readableOn = async (ring: RotatingKeyRing, readable: boolean) =>
      (await ring.list()).filter((k) => k.readable === readable).map((k) => k.id).sort();
    expect(await readableOn(onB, false)).toEqual(await readableOn(onA, true));
    expect(await readableOn(onA, false)).toEqual(await readableOn(onB, true));
    expect(await readableOn(onA, true)).toHaveLength(3);
  });

  describe('the repository', () => {
    const record = (id: string, overrides: Partial<KeyRingKeyRecord> = {}): KeyRingKeyRecord => ({
      id,
      purpose: 'session',
      material: '{"provider":"shared-key","keyId":"shared:0","ciphertext":"im1.x"}',
      algorithm: 'A256GCM+HKDF-SHA256',
      createdAt: new Date('2026-03-01T08:00:00.000Z'),
      activatesAt: new Date('2026-03-03T08:00:00.000Z'),
      expiresAt: new Date('2038-02-01T00:00:00.000Z'),
      revokedAt: null,
      ...overrides,
    });

    it('round-trips records, keeps the first revocation time, and removes by id', async () => {
      const repo = new KeyRingRepository(processA);
      await repo.insert(record('k1'));
      await repo.insert(record('k2', { purpose: 'csrf' }));
      await repo.insert(record('k3'));
      expect(await repo.list()).toEqual([record('k2', { purpose: 'csrf' }), record('k1'), record('k3')]);

      const first = new Date('2026-03-04T00:00:00.000Z');
      expect(await repo.revoke('k1', first)).toBe(true);
      expect(await repo.revoke('k1', new Date('2026-03-05T00:00:00.000Z'))).toBe(true);
      expect(await repo.revoke('missing', first)).toBe(false);
      expect((await repo.list()).find((r) => r.id === 'k1')?.revokedAt).toEqual(first);

      expect(await repo.remove([])).toBe(0);
      expect(await repo.remove(['k1', 'k3', 'missing'])).toBe(2);
      expect((await repo.list()).map((r) => r.id)).toEqual(['k2']);
    });

    it('runs exclusive work one process at a time', async () => {
      const events: string[] = [];
      const work = (name: string, repo: KeyRingRepository) =>
        repo.exclusive(async () => {
          events.push(`${name} in`);
          await new Promise((resolve) => setTimeout(resolve, 150));
          events.push(`${name} out`);
        });
      await Promise.all([work('a', new KeyRingRepository(processA)), work('b', new KeyRingRepository(processB))]);
      expect([
        ['a in', 'a out', 'b in', 'b out'],
        ['b in', 'b out', 'a in', 'a out'],
      ]).toContainEqual(events);
    });
  });
});
