import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { ConnectorSpaceRepository } from '../connector-space/connector-space.repository';
import { ConnectorSpaceObjectEntity } from '../entities/connector-space-object.entity';
import { insertConnectorWithRun, staged } from '../testing/connector-space-fixtures';
import { TransactionRunner } from '../transaction/transaction';
import { LeaseGrant, ConnectorLeaseRepository } from './connector-lease.repository';
import { LeaseLostError } from './connector-lease.errors';

jest.setTimeout(120_000);

const LEASE_MS = 30_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

describe.each(TEST_DIALECTS)('connector leases on %s', (dialect) => {
  let db: ThrowawayDatabase;
  /** Two processes: engine A's and engine B's connections. */
  let a: DataSource;
  let b: DataSource;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    a = await connectDatabase(db.settings);
    b = await connectDatabase(db.settings);
    await migrateDatabase(a);
  });
  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
    await db?.drop();
  });

  /** Engine A's batch: the lease check first, then one object staged. */
  function batchOfA(lease: LeaseGrant, runId: string, anchor: string, now: Date) {
    return new TransactionRunner(a).run(async (tx) => {
      await new ConnectorLeaseRepository(a).assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, now);
      await new ConnectorSpaceRepository(a).stageImportBatch(tx, { connectorId: lease.connectorId, runId, upserts: [staged(anchor, { n: [1] })], deletes: [], unreadable: [], markSeen: true, now });
    });
  }

  const objectsOf = (connectorId: string) => a.getRepository(ConnectorSpaceObjectEntity).countBy({ connectorId });

  it('fences a former holder: B takes over after expiry with the next token, and A’s batch is refused and writes nothing', async () => {
    const { connectorId, runId } = await insertConnectorWithRun(a);
    const t0 = new Date();
    const leaseA = (await new ConnectorLeaseRepository(a).acquire(connectorId, 'engine-a', { now: t0, durationMs: LEASE_MS, takeover: 'when-expired' })) as LeaseGrant;
    expect(leaseA).toMatchObject({ engineInstanceId: 'engine-a', fencingToken: 1, tookOverFrom: null });
    await batchOfA(leaseA, runId, 'E1', at(t0, 1_000));
    expect(await objectsOf(connectorId)).toBe(1);

    const repoB = new ConnectorLeaseRepository(b);
    // Two seconds short of the expiry: MariaDB keeps whole seconds of it.
    expect(await repoB.acquire(connectorId, 'engine-b', { now: at(t0, LEASE_MS - 2_000), durationMs: LEASE_MS, takeover: 'when-expired' })).toBeNull();
    const leaseB = (await repoB.acquire(connectorId, 'engine-b', { now: at(t0, LEASE_MS + 1), durationMs: LEASE_MS, takeover: 'when-expired' })) as LeaseGrant;
    expect(leaseB).toMatchObject({ engineInstanceId: 'engine-b', fencingToken: 2 });

    // A wakes up (its clock still inside its old lease) and tries its next batch.
    const refused = batchOfA(leaseA, runId, 'E2', at(t0, 2_000));
    await expect(refused).rejects.toBeInstanceOf(LeaseLostError);
    await expect(refused).rejects.toMatchObject({
      code: 'LEASE_LOST',
      message: expect.stringContaining('engine engine-b took it over with fencing token 2'),
      details: { connectorId, engineInstanceId: 'engine-a', fencingToken: 1, holder: expect.objectContaining({ engineInstanceId: 'engine-b', fencingToken: 2 }) },
    });
    expect(await objectsOf(connectorId)).toBe(1);

    // Nor can A renew or release what it lost.
    expect(await new ConnectorLeaseRepository(a).renew(connectorId, 'engine-a', 1, { now: at(t0, 2_000), durationMs: LEASE_MS })).toBeNull();
    expect(await new ConnectorLeaseRepository(a).release(connectorId, 'engine-a', 1, at(t0, 2_000))).toBe(false);
    expect(await repoB.current(connectorId)).toMatchObject({ engineInstanceId: 'engine-b', fencingToken: 2 });
  });

  it('refuses a batch of a holder whose lease ran out even when nobody took it over', async () => {
    const { connectorId, runId } = await insertConnectorWithRun(a);
    const t0 = new Date();
    const lease = (await new ConnectorLeaseRepository(a).acquire(connectorId, 'engine-a', { now: t0, durationMs: LEASE_MS, takeover: 'when-expired' })) as LeaseGrant;
    await expect(batchOfA(lease, runId, 'E1', at(t0, LEASE_MS + 1))).rejects.toMatchObject({ code: 'LEASE_LOST', message: expect.stringContaining('it expired at') });
    expect(await new ConnectorLeaseRepository(a).renew(connectorId, 'engine-a', 1, { now: at(t0, LEASE_MS + 1), durationMs: LEASE_MS })).toBeNull();
    expect(await objectsOf(connectorId)).toBe(0);
  });

  it('renews, releases without forgetting the token, and grows the token on every acquisition', async () => {
    const { connectorId } = await insertConnectorWithRun(a);
    const repo = new ConnectorLeaseRepository(a);
    const t0 = new Date();
    const first = (await repo.acquire(connectorId, 'engine-a', { now: t0, durationMs: LEASE_MS, takeover: 'when-expired' })) as LeaseGrant;
    const renewed = await repo.renew(connectorId, 'engine-a', first.fencingToken, { now: at(t0, 10_000), durationMs: LEASE_MS });
    expect(renewed?.getTime()).toBe(at(t0, 10_000 + LEASE_MS).getTime());
    expect(await repo.release(connectorId, 'engine-a', first.fencingToken, at(t0, 11_000))).toBe(true);
    // Released: free for anyone at once, with the next token.
    const second = await new ConnectorLeaseRepository(b).acquire(connectorId, 'engine-b', { now: at(t0, 12_000), durationMs: LEASE_MS, takeover: 'when-expired' });
    expect(second).toMatchObject({ engineInstanceId: 'engine-b', fencingToken: 2, tookOverFrom: null });
    // Single-instance mode takes a lease at once, even an unexpired one, and says from whom.
    const third = await repo.acquire(connectorId, 'engine-a', { now: at(t0, 13_000), durationMs: LEASE_MS, takeover: 'always' });
    expect(third).toMatchObject({ engineInstanceId: 'engine-a', fencingToken: 3, tookOverFrom: 'engine-b' });
  });

  it('lets exactly one of two engines acquiring a free lease at the same moment have it', async () => {
    const { connectorId } = await insertConnectorWithRun(a);
    const now = new Date();
    const grants = await Promise.all([
      new ConnectorLeaseRepository(a).acquire(connectorId, 'engine-a', { now, durationMs: LEASE_MS, takeover: 'when-expired' }),
      new ConnectorLeaseRepository(b).acquire(connectorId, 'engine-b', { now, durationMs: LEASE_MS, takeover: 'when-expired' }),
    ]);
    expect(grants.filter((grant) => grant !== null)).toHaveLength(1);
    expect(grants.find((grant) => grant !== null)?.fencingToken).toBe(1);
  });

  // SQLite has one writer per file and, in one process, one connection: a
  // second connection's takeover would block the event loop the batch needs
  // to finish. Across processes the busy timeout makes it wait the same way.
  if (dialect !== 'sqlite') {
    it('makes a takeover wait for the former holder’s in-flight batch, which commits; its next batch is refused', async () => {
      const { connectorId, runId } = await insertConnectorWithRun(a);
      const t0 = new Date();
      const leaseA = (await new ConnectorLeaseRepository(a).acquire(connectorId, 'engine-a', { now: t0, durationMs: LEASE_MS, takeover: 'when-expired' })) as LeaseGrant;

      let releaseBatch!: () => void;
      const batchMayCommit = new Promise<void>((resolve) => (releaseBatch = resolve));
      let lockTaken!: () => void;
      const lockIsTaken = new Promise<void>((resolve) => (lockTaken = resolve));
      const inFlight = new TransactionRunner(a).run(async (tx) => {
        await new ConnectorLeaseRepository(a).assertLeaseHeld(tx, connectorId, 'engine-a', leaseA.fencingToken, at(t0, 1_000));
        await new ConnectorSpaceRepository(a).stageImportBatch(tx, { connectorId, runId, upserts: [staged('E1', { n: [1] })], deletes: [], unreadable: [], markSeen: true, now: at(t0, 1_000) });
        lockTaken();
        await batchMayCommit;
      });
      await lockIsTaken;

      const events: string[] = [];
      const takeover = new ConnectorLeaseRepository(b)
        .acquire(connectorId, 'engine-b', { now: at(t0, 2_000), durationMs: LEASE_MS, takeover: 'always' })
        .then((grant) => {
          events.push('taken over');
          return grant;
        });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(events).toEqual([]);
      events.push('batch commits');
      releaseBatch();
      await inFlight;
      expect(await takeover).toMatchObject({ engineInstanceId: 'engine-b', fencingToken: 2, tookOverFrom: 'engine-a' });
      expect(events).toEqual(['batch commits', 'taken over']);
      expect(await objectsOf(connectorId)).toBe(1);

      await expect(batchOfA(leaseA, runId, 'E2', at(t0, 3_000))).rejects.toBeInstanceOf(LeaseLostError);
      expect(await objectsOf(connectorId)).toBe(1);
    });
  }
});
