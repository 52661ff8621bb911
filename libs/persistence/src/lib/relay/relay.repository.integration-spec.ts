import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { RelayRepository, type RelayRedemption } from './relay.repository';

jest.setTimeout(120_000);

// Whole seconds: MySQL/MariaDB datetime keeps no fraction.
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describe.each(TEST_DIALECTS)('relays and enrollments on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let relays: RelayRepository;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    relays = new RelayRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /**
   * Another hub's connection. On SQLite the same one: in one process a second
   * connection's busy wait would block the event loop the first transaction
   * needs to commit; its gate (and across processes the busy timeout) makes
   * the two take turns.
   */
  async function secondHub(): Promise<DataSource> {
    return dialect === 'sqlite' ? dataSource : connectDatabase(db.settings);
  }

  /** A fresh enrollment of `group`, valid for 15 minutes from T0. */
  async function enrollment(group = 'branch-office'): Promise<{ id: string; tokenHash: string }> {
    const id = randomUUID();
    const tokenHash = randomUUID().replace(/-/g, '').repeat(2);
    await relays.createEnrollment({ id, tokenHash, relayGroup: group, expiresAt: at(900), createdBy: 'jdoe' }, at(0));
    return { id, tokenHash };
  }

  const redemption = (token: { id: string; tokenHash: string }, name: string): RelayRedemption => ({
    enrollmentId: token.id,
    tokenHash: token.tokenHash,
    relayId: randomUUID(),
    name,
    host: 'relay-host-1',
    version: '1.4.0',
    credentialHash: `scrypt$${randomUUID()}`,
  });

  it('redeems a token once, for a relay of its group; a second use is refused as used', async () => {
    const token = await enrollment('paris');
    const first = redemption(token, `paris-1-${dialect}`);
    const redeemed = await relays.redeemEnrollment(first, at(60));
    expect(redeemed).toEqual({
      relay: { id: first.relayId, name: first.name, relayGroup: 'paris', host: 'relay-host-1', version: '1.4.0', status: 'active', enrolledAt: at(60), revokedAt: null, lastSeenAt: null },
    });
    expect(await relays.redeemEnrollment(redemption(token, `paris-2-${dialect}`), at(61))).toEqual({ refused: 'used' });
    expect(await relays.findWithCredential(first.relayId)).toMatchObject({ id: first.relayId, credentialHash: first.credentialHash, relayGroup: 'paris' });
    expect(await relays.find(randomUUID())).toBeNull();
  });

  it('refuses an expired token, an unknown one and one whose hash does not match', async () => {
    const token = await enrollment();
    expect(await relays.redeemEnrollment(redemption(token, `late-${dialect}`), at(900))).toEqual({ refused: 'expired' });
    expect(await relays.redeemEnrollment(redemption({ id: randomUUID(), tokenHash: token.tokenHash }, `ghost-${dialect}`), at(1))).toEqual({ refused: 'unknown' });
    expect(await relays.redeemEnrollment(redemption({ id: token.id, tokenHash: 'f'.repeat(64) }, `forged-${dialect}`), at(1))).toEqual({ refused: 'unknown' });
    // None of the refusals used the token up.
    expect(await relays.redeemEnrollment(redemption(token, `late-${dialect}`), at(899))).toHaveProperty('relay');
  });

  it('refuses a taken name and leaves the token usable for another name', async () => {
    const name = `lyon-${dialect}`;
    expect(await relays.redeemEnrollment(redemption(await enrollment(), name), at(1))).toHaveProperty('relay');
    const token = await enrollment();
    expect(await relays.redeemEnrollment(redemption(token, name), at(2))).toEqual({ refused: 'name-taken' });
    const retried = await relays.redeemEnrollment(redemption(token, `${name}-2`), at(3));
    expect(retried).toMatchObject({ relay: { name: `${name}-2` } });
  });

  it('lets exactly one of two hubs redeem the same token at once', async () => {
    const other = await secondHub();
    try {
      const token = await enrollment('race');
      const outcomes = await Promise.all([
        relays.redeemEnrollment(redemption(token, `race-a-${dialect}`), at(5)),
        new RelayRepository(other).redeemEnrollment(redemption(token, `race-b-${dialect}`), at(5)),
      ]);
      expect(outcomes.filter((outcome) => 'relay' in outcome)).toHaveLength(1);
      expect(outcomes.filter((outcome) => 'refused' in outcome)).toEqual([{ refused: 'used' }]);
    } finally {
      if (other !== dataSource) await other.destroy();
    }
  });

  it('revokes a relay once, lists relays by name and touches many at once', async () => {
    const made = [];
    for (const name of [`zz-c-${dialect}`, `zz-a-${dialect}`, `zz-b-${dialect}`]) {
      const redeemed = await relays.redeemEnrollment(redemption(await enrollment('touch'), name), at(10));
      if (!('relay' in redeemed)) throw new Error(`not enrolled: ${redeemed.refused}`);
      made.push(redeemed.relay);
    }
    const [c, a, b] = made as [(typeof made)[0], (typeof made)[0], (typeof made)[0]];
    const names = (await relays.list()).map((relay) => relay.name).filter((name) => name.startsWith('zz-'));
    expect(names).toEqual([a.name, b.name, c.name]);

    expect(await relays.revoke(a.id, at(20))).toMatchObject({ status: 'revoked', revokedAt: at(20) });
    expect(await relays.revoke(a.id, at(30))).toMatchObject({ status: 'revoked', revokedAt: at(20) });
    expect(await relays.revoke(randomUUID(), at(30))).toBeNull();

    await relays.touch([a.id, b.id, c.id], at(40));
    for (const relay of [a, b, c]) expect(await relays.find(relay.id)).toMatchObject({ lastSeenAt: at(40), host: 'relay-host-1', version: '1.4.0' });
    await relays.touch([b.id], at(50), { version: '1.5.0' });
    expect(await relays.find(b.id)).toMatchObject({ lastSeenAt: at(50), host: 'relay-host-1', version: '1.5.0' });
    await relays.touch([b.id], at(55), { host: null });
    expect(await relays.find(b.id)).toMatchObject({ lastSeenAt: at(55), host: null, version: '1.5.0' });
    expect(await relays.find(c.id)).toMatchObject({ lastSeenAt: at(40) });
    await relays.touch([], at(60));
  });
});
