import { DomainError, DomainErrorCode, KeyRingPurpose } from '@identitymesh/domain';
import { KeyRingTokenInvalidError } from './key-ring.errors';
import type { KeyMaterialProtector, ProtectedKeyMaterial } from './key-ring.port';
import { RotatingKeyRing, RotatingKeyRingOptions } from './rotating-key-ring';
import { InMemoryKeyRingKeys } from './support/in-memory-key-ring-keys';
import { TestProtector } from './support/test-protector';

const SECOND = 1000;
const DAY = 86_400_000;

/** A clock the test moves; every ring of one test reads the same one. */
function testClock(start = '2026-01-01T00:00:00.000Z') {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** What a refused call threw; fails the test when it did not throw a DomainError. */
async function refusal(work: Promise<unknown>): Promise<DomainError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  // Refusals are ours, never the crypto library's.
  expect((error as Error).stack ?? '').not.toMatch(/node:internal\/crypto|Unsupported state or unable to authenticate/);
  return error as DomainError;
}

async function refusedWith(work: Promise<unknown>, code: DomainErrorCode, problem?: string): Promise<DomainError> {
  const error = await refusal(work);
  expect(error.code).toBe(code);
  if (problem) expect((error as KeyRingTokenInvalidError).problem).toBe(problem);
  return error;
}

const kidOf = (token: string) => token.split('.')[1];

describe('RotatingKeyRing', () => {
  let clock: ReturnType<typeof testClock>;
  let store: InMemoryKeyRingKeys;
  let protector: TestProtector;
  let warnings: string[];

  beforeEach(() => {
    clock = testClock();
    store = new InMemoryKeyRingKeys();
    protector = new TestProtector();
    warnings = [];
  });

  /** A ring as one process would hold it; several on one store behave like several processes on one database. */
  const ringOn = (overrides: Partial<RotatingKeyRingOptions> = {}) =>
    new RotatingKeyRing({
      keys: store,
      protector,
      now: clock.now,
      log: { info: () => undefined, warn: (message) => warnings.push(message) },
      ...overrides,
    });

  const rowsOf = (purpose: KeyRingPurpose) => [...store.rows.values()].filter((r) => r.purpose === purpose);

  describe('a fresh ring', () => {
    it('creates one key per purpose, current at once, with its material sealed by the protector', async () => {
      const ring = ringOn();
      await ring.ensureKeys();
      const keys = await ring.list();
      expect(keys.map((k) => [k.purpose, k.state, k.readable])).toEqual([
        ['session', 'current', true],
        ['csrf', 'current', true],
        ['relay-token', 'current', true],
      ]);
      expect(keys[0]).toMatchObject({
        algorithm: 'A256GCM+HKDF-SHA256',
        activatesAt: new Date('2026-01-01T00:00:00.000Z'),
        expiresAt: new Date('2026-04-15T00:00:00.000Z'), // 90 days of turn + 14 of grace
        revokedAt: null,
      });
      expect(keys[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

      for (const row of store.rows.values()) {
        const stored = JSON.parse(row.material) as ProtectedKeyMaterial & { provider: string };
        expect(stored).toEqual({ provider: 'shared-key', keyId: protector.keyId, ciphertext: expect.any(String) });
        // Open it as the provider would, and prove the raw key is nowhere in the row, in any spelling.
        const raw = Buffer.from(await protector.unprotect(`key-ring/${row.purpose}/${row.id}`, 1, stored), 'base64');
        expect(raw).toHaveLength(32);
        for (const spelling of [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')]) {
          expect(row.material).not.toContain(spelling);
        }
      }
    });

    it('creates exactly one key per purpose when several processes start on it at once', async () => {
      const rings = [ringOn(), ringOn(), ringOn(), ringOn()];
      const tokens = await Promise.all(rings.map((ring, i) => (i % 2 ? ring.ensureKeys().then(() => ring.protect('session', 'x')) : ring.protect('session', 'x'))));
      expect(store.rows.size).toBe(3);
      expect(rowsOf('session')).toHaveLength(1);
      expect(new Set(tokens.map(kidOf))).toEqual(new Set([rowsOf('session')[0].id]));
      // And every one of them validates what any other protected.
      for (const ring of rings) for (const token of tokens) expect((await ring.unprotect('session', token)).toString()).toBe('x');
    });
  });

  describe('protect and unprotect', () => {
    it('round-trips strings and bytes, with the token confidential', async () => {
      const ring = ringOn();
      const token = await ring.protect('session', '{"operator":"alice@example.com"}');
      expect(token).toMatch(/^v1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(token).not.toContain('alice');
      expect((await ring.unprotect('session', token)).toString('utf8')).toBe('{"operator":"alice@example.com"}');
      const bytes = Buffer.from([0, 1, 2, 255]);
      expect(await ring.unprotect('relay-token', await ring.protect('relay-token', bytes))).toEqual(bytes);
    });

    it('keeps purposes apart: a token made for one purpose never validates for another', async () => {
      const ring = ringOn();
      const csrf = await ring.protect('csrf', 'csrf-secret');
      await refusedWith(ring.unprotect('session', csrf), 'KEY_RING_TOKEN_INVALID', 'wrong-purpose');
      await refusedWith(ring.unprotect('relay-token', csrf), 'KEY_RING_TOKEN_INVALID', 'wrong-purpose');
      // Pointing the token at the session key does not help: the key, the purpose and the id are all bound in.
      const sessionKid = rowsOf('session')[0].id;
      const forged = csrf.replace(kidOf(csrf), sessionKid);
      await refusedWith(ring.unprotect('session', forged), 'KEY_RING_TOKEN_INVALID', 'tampered');
      expect((await ring.unprotect('csrf', csrf)).toString()).toBe('csrf-secret');
    });

    it('detects a byte changed in any part of the token', async () => {
      const ring = ringOn();
      const token = await ring.protect('session', 'operator:alice');
      const parts = token.split('.');
      const flipped = (index: number, at: 'first' | 'last') => {
        const edited = [...parts];
        if (index <= 1) {
          const position = at === 'first' ? 0 : edited[index].length - 1;
          const char = edited[index][position];
          edited[index] = edited[index].slice(0, position) + (char === 'a' ? 'b' : 'a') + edited[index].slice(position + 1);
        } else {
          const bytes = Buffer.from(edited[index], 'base64url');
          bytes[at === 'first' ? 0 : bytes.length - 1] ^= 0x80;
          edited[index] = bytes.toString('base64url');
        }
        return edited.join('.');
      };
      for (const at of ['first', 'last'] as const) {
        expect((await refusal(ring.unprotect('session', flipped(0, at)))).code).toBe('KEY_RING_TOKEN_INVALID');
        await refusedWith(ring.unprotect('session', flipped(1, at)), 'KEY_RING_KEY_UNKNOWN');
        for (const part of [2, 3, 4]) await refusedWith(ring.unprotect('session', flipped(part, at)), 'KEY_RING_TOKEN_INVALID', 'tampered');
      }
      await refusedWith(ring.unprotect('session', token.slice(0, -1)), 'KEY_RING_TOKEN_INVALID', 'malformed');
      await refusedWith(ring.unprotect('session', `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3].slice(4)}.${parts[4]}`), 'KEY_RING_TOKEN_INVALID', 'tampered');
      expect((await ring.unprotect('session', token)).toString()).toBe('operator:alice');
    });

    it('refuses garbage and other format versions with a coded error', async () => {
      const ring = ringOn();
      const token = await ring.protect('session', 'x');
      await refusedWith(ring.unprotect('session', token.replace(/^v1\./, 'v2.')), 'KEY_RING_TOKEN_INVALID', 'unsupported-version');
      for (const garbage of ['', 'garbage', 'v1.....', '....', 'eyJhbGciOiJIUzI1NiJ9.e30.sig', 'v1.x.y.z.w', `${token}.`, 'v1.' + 'A'.repeat(10_000)]) {
        await refusedWith(ring.unprotect('session', garbage), 'KEY_RING_TOKEN_INVALID', 'malformed');
      }
      await refusedWith(ring.unprotect('session', null as unknown as string), 'KEY_RING_TOKEN_INVALID', 'malformed');
      // A well-formed token naming a key that never existed.
      await refusedWith(ring.unprotect('session', token.replace(kidOf(token), '00000000-0000-7000-8000-000000000000')), 'KEY_RING_KEY_UNKNOWN');
    });

    it('honours an expiry carried in the token', async () => {
      const ring = ringOn();
      const token = await ring.protect('csrf', 'x', { expiresAt: new Date(clock.now().getTime() + 60 * 60 * SECOND) });
      clock.advance(60 * 60 * SECOND - 1);
      expect((await ring.unprotect('csrf', token)).toString()).toBe('x');
      clock.advance(1);
      await refusedWith(ring.unprotect('csrf', token), 'KEY_RING_TOKEN_INVALID', 'expired');
    });

    it('refuses to make a token that could outlive its key, or one already expired', async () => {
      const ring = ringOn({ settings: { validationGraceMs: 7 * DAY } });
      await expect(ring.protect('session', 'x', { expiresAt: new Date(clock.now().getTime() + 7 * DAY + 1) })).rejects.toThrow(/beyond validationGraceMs/);
      await expect(ring.protect('session', 'x', { expiresAt: clock.now() })).rejects.toThrow(/in the future/);
      await expect(ring.protect('session', 'x', { expiresAt: new Date(Number.NaN) })).rejects.toThrow(RangeError);
      expect(await ring.protect('session', 'x', { expiresAt: new Date(clock.now().getTime() + 7 * DAY) })).toMatch(/^v1\./);
    });

    it('treats an unknown purpose as a programming error', async () => {
      const ring = ringOn();
      await expect(ring.protect('cookie' as KeyRingPurpose, 'x')).rejects.toThrow(TypeError);
      await expect(ring.unprotect('cookie' as KeyRingPurpose, 'v1.a.b.c.d')).rejects.toThrow(/unknown purpose "cookie"/);
    });
  });

  describe('rotation', () => {
    it('rotates on schedule without invalidating live tokens, and fails cleanly once a key is expired and then removed', async () => {
      const a = ringOn();
      const b = ringOn();
      const first = await a.protect('session', 'minted on day 0');
      const firstKid = kidOf(first);

      // Day 88: the next key is created two days ahead of its turn…
      clock.advance(88 * DAY);
      expect(kidOf(await a.protect('session', 'day 88'))).toBe(firstKid);
      const sessionKeys = (await a.list()).filter((k) => k.purpose === 'session');
      expect(sessionKeys.map((k) => k.state)).toEqual(['current', 'next']);
      const next = sessionKeys[1];
      expect(next.activatesAt).toEqual(new Date('2026-04-01T00:00:00.000Z'));
      // …and the other process knows it before anyone protects with it.
      await b.ensureKeys();
      expect((await b.list()).find((k) => k.id === next.id)?.state).toBe('next');

      // Day 90: new tokens use the new key; day-0 tokens still validate, on both.
      clock.advance(2 * DAY);
      const second = await a.protect('session', 'minted on day 90');
      expect(kidOf(second)).toBe(next.id);
      for (const ring of [a, b]) {
        expect((await ring.unprotect('session', first)).toString()).toBe('minted on day 0');
        expect((await ring.unprotect('session', second)).toString()).toBe('minted on day 90');
      }
      expect((await a.list()).filter((k) => k.purpose === 'session').map((k) => k.state)).toEqual(['validating', 'current']);

      // Day 104: the first key's grace is over.
      clock.advance(14 * DAY);
      await refusedWith(a.unprotect('session', first), 'KEY_RING_KEY_EXPIRED');
      expect((await a.unprotect('session', second)).toString()).toBe('minted on day 90');

      // Day 134: retention over, the key is removed; its tokens now name a key nobody knows.
      clock.advance(30 * DAY);
      await a.ensureKeys();
      expect(store.rows.has(firstKid)).toBe(false);
      expect(protector.calls.forget).toContain(`key-ring/session/${firstKid}`);
      for (const ring of [a, b]) await refusedWith(ring.unprotect('session', first), 'KEY_RING_KEY_UNKNOWN');
      expect((await b.unprotect('session', second)).toString()).toBe('minted on day 90');
    });

    it('rotateNow makes a new current key at once; older tokens keep validating, and other processes pick the key up', async () => {
      const a = ringOn();
      const b = ringOn();
      const before = await a.protect('relay-token', 'before');
      await b.ensureKeys();
      const rotated = await a.rotateNow('relay-token');
      expect(rotated).toMatchObject({ purpose: 'relay-token', state: 'current' });
      const after = await a.protect('relay-token', 'after');
      expect(kidOf(after)).toBe(rotated.id);
      expect((await a.unprotect('relay-token', before)).toString()).toBe('before');
      // B reads again at once for a key it has not seen, at most once a second.
      clock.advance(SECOND);
      expect((await b.unprotect('relay-token', after)).toString()).toBe('after');
      expect((await b.unprotect('relay-token', before)).toString()).toBe('before');
      expect(rowsOf('session')).toHaveLength(1);
    });

    it('reads the ring at most once per refresh interval, and once a second for unknown keys', async () => {
      const ring = ringOn();
      const token = await ring.protect('session', 'x');
      const reads = store.reads;
      for (let i = 0; i < 20; i++) await ring.unprotect('session', token);
      await refusedWith(ring.unprotect('session', token.replace(kidOf(token), '00000000-0000-7000-8000-000000000000')), 'KEY_RING_KEY_UNKNOWN');
      expect(store.reads - reads).toBe(0);
      clock.advance(SECOND);
      for (let i = 0; i < 5; i++) {
        await refusedWith(ring.unprotect('session', token.replace(kidOf(token), '00000000-0000-7000-8000-00000000000' + i)), 'KEY_RING_KEY_UNKNOWN');
      }
      expect(store.reads - reads).toBe(1);
      clock.advance(30 * SECOND);
      await ring.unprotect('session', token);
      expect(store.reads - reads).toBe(2);
    });
  });

  describe('revocation', () => {
    it('is immediate in the revoking process, replaces a revoked current key, and reaches other processes within the refresh interval', async () => {
      const a = ringOn();
      const b = ringOn();
      const token = await a.protect('session', 'stolen?');
      const other = await a.protect('csrf', 'unaffected');
      expect((await b.unprotect('session', token)).toString()).toBe('stolen?');

      clock.advance(SECOND);
      const revoked = await a.revoke(kidOf(token));
      expect(revoked).toMatchObject({ id: kidOf(token), state: 'revoked', revokedAt: clock.now() });
      await refusedWith(a.unprotect('session', token), 'KEY_RING_KEY_REVOKED');
      expect((await a.unprotect('csrf', other)).toString()).toBe('unaffected');
      // B still holds the ring it read before the revocation, for at most the refresh interval.
      expect((await b.unprotect('session', token)).toString()).toBe('stolen?');

      const fresh = await a.protect('session', 'fresh');
      expect(kidOf(fresh)).not.toBe(kidOf(token));
      expect((await a.list()).filter((k) => k.purpose === 'session').map((k) => k.state)).toEqual(['revoked', 'current']);

      clock.advance(30 * SECOND);
      await refusedWith(b.unprotect('session', token), 'KEY_RING_KEY_REVOKED');
      expect((await b.unprotect('session', fresh)).toString()).toBe('fresh');
      expect(rowsOf('session')).toHaveLength(2);
    });

    it('keeps the first revocation time, and names a key that does not exist', async () => {
      const ring = ringOn();
      const kid = kidOf(await ring.protect('csrf', 'x'));
      const first = await ring.revoke(kid);
      clock.advance(5 * SECOND);
      expect((await ring.revoke(kid)).revokedAt).toEqual(first.revokedAt);
      await refusedWith(ring.revoke('00000000-0000-7000-8000-000000000000'), 'KEY_RING_KEY_UNKNOWN');
    });
  });

  describe('when the secret provider changes', () => {
    it('recreates keys whose material no longer opens, and refuses their tokens as unknown', async () => {
      const before = ringOn();
      const token = await before.protect('session', 'x');
      const oldKid = kidOf(token);

      // Same provider, another key (a shared key replaced, a host key lost).
      const after = ringOn({ protector: new TestProtector() });
      const error = await refusedWith(after.unprotect('session', token), 'KEY_RING_KEY_UNKNOWN');
      expect(error.message).toContain(`its material is sealed under ${protector.keyId}, and the shared-key key here is `);
      const keys = await after.list();
      expect(keys.filter((k) => k.readable).map((k) => [k.purpose, k.state])).toEqual([
        ['session', 'current'],
        ['csrf', 'current'],
        ['relay-token', 'current'],
      ]);
      expect(keys.find((k) => k.id === oldKid)).toMatchObject({ readable: false, state: 'validating' });
      expect(warnings.some((w) => w.includes(oldKid) && w.includes('does not open here'))).toBe(true);
      expect((await after.unprotect('session', await after.protect('session', 'y'))).toString()).toBe('y');

      // Another provider altogether: refused by name, without asking the provider to open a value it never sealed.
      const vault = new TestProtector('azure-key-vault');
      const third = ringOn({ protector: vault });
      await refusedWith(third.unprotect('session', token), 'KEY_RING_KEY_UNKNOWN');
      expect(vault.calls.unprotect).toBe(0);
      expect(warnings.some((w) => w.includes('sealed by the shared-key secret provider, and this process uses azure-key-vault'))).toBe(true);
    });

    it('mints nothing while the provider itself is unusable, and says why', async () => {
      await ringOn().ensureKeys();
      const broken: KeyMaterialProtector = {
        name: 'shared-key',
        currentKeyId: () => Promise.resolve('shared:0000000000000000'),
        protect: () => Promise.reject(new DomainError('SECRET_PROVIDER_UNAVAILABLE', 'secret provider shared-key is not usable: key file unreadable')),
        unprotect: () => Promise.reject(new DomainError('SECRET_PROVIDER_UNAVAILABLE', 'secret provider shared-key is not usable: key file unreadable')),
      };
      const ring = ringOn({ protector: broken });
      await expect(ring.ensureKeys()).rejects.toThrow(/key file unreadable/);
      await expect(ring.protect('session', 'x')).rejects.toThrow(/key file unreadable/);
      expect(store.rows.size).toBe(3);
    });
  });

  describe('when the store fails', () => {
    it('keeps serving the last ring it read, and mints nothing', async () => {
      const ring = ringOn();
      const token = await ring.protect('session', 'x');
      store.failReads = true;
      clock.advance(31 * SECOND);
      expect((await ring.unprotect('session', token)).toString()).toBe('x');
      expect(kidOf(await ring.protect('session', 'y'))).toBe(kidOf(token));
      expect(warnings.some((w) => w.includes('ECONNREFUSED') && w.includes('still using the ring read at 2026-01-01T00:00:00.000Z'))).toBe(true);
      expect(store.rows.size).toBe(3);
      // A process that never read the ring has nothing to fall back on, and says so.
      await expect(ringOn().unprotect('session', token)).rejects.toThrow(/ECONNREFUSED/);

      store.failReads = false;
      clock.advance(31 * SECOND);
      expect((await ring.unprotect('session', token)).toString()).toBe('x');
    });

    it('protects with the last current key when a new one is due but cannot be created', async () => {
      const ring = ringOn();
      const token = await ring.protect('csrf', 'x');
      // Stopped past a whole turn: the key is still valid, but too close to its expiry to be current.
      clock.advance(95 * DAY);
      store.failReads = true;
      const late = await ring.protect('csrf', 'late');
      expect(kidOf(late)).toBe(kidOf(token));
      expect(warnings.some((w) => w.includes(`protecting with key ${kidOf(token)} until it can`))).toBe(true);
      store.failReads = false;
      clock.advance(31 * SECOND);
      expect(kidOf(await ring.protect('csrf', 'fresh'))).not.toBe(kidOf(token));
      expect((await ring.unprotect('csrf', late)).toString()).toBe('late');
    });
  });

  it('refuses a schedule that could protect with a key another process has not loaded', () => {
    expect(() => ringOn({ settings: { activationLeadMs: 10 * SECOND } })).toThrow(/IM_KEY_RING_ACTIVATION_LEAD_HOURS: must be longer than IM_KEY_RING_REFRESH_SECONDS/);
  });
});
