import { decideEngineStart, EngineInstanceView } from '@identitymesh/domain';
import { createThrowawayDatabase, TEST_DIALECTS, ThrowawayDatabase } from '@identitymesh/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { ConnectorEntity } from '../entities/connector.entity';
import { ConnectorLeaseEntity } from '../entities/connector-lease.entity';
import { EngineInstanceEntity } from '../entities/engine-instance.entity';
import { EngineRegistryRepository } from './engine-registry.repository';

const engine = (id: string, at: Date): EngineInstanceView => ({
  id,
  host: 'host-a',
  pid: 100,
  version: '0.1.0',
  status: 'active',
  startedAt: at,
  heartbeatAt: at,
});

describe.each(TEST_DIALECTS)('engine registry on %s', (dialect) => {
  let db: ThrowawayDatabase;
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
    await db.drop();
  });

  const register = (ds: DataSource, id: string, now: Date) =>
    new EngineRegistryRepository(ds).register(
      engine(id, now),
      (others) => decideEngineStart({ self: id, mode: 'single', policy: 'refuse', instances: others, now, staleAfterMs: 30_000 }),
      (d) => (d.kind === 'refuse' ? undefined : d.kind),
    );

  it('lets exactly one of two engines starting at the same moment become active', async () => {
    const now = new Date();
    const decisions = await Promise.all([register(a, 'engine-1', now), register(b, 'engine-2', now)]);
    expect(decisions.map((d) => d.kind).sort()).toEqual(['active', 'refuse']);
    const recent = await new EngineRegistryRepository(a).listRecent(new Date(now.getTime() - 1000));
    expect(recent).toHaveLength(1);
    expect(recent[0].status).toBe('active');
  });

  it('heartbeats a registered engine, and reports a stopped one as gone', async () => {
    const repo = new EngineRegistryRepository(a);
    const [winner] = await repo.listRecent(new Date(0));
    expect(await repo.heartbeat(winner.id, new Date())).toBe(true);
    expect(await repo.heartbeat('never-registered', new Date())).toBe(false);
  });

  it('ends the leases of an engine when it stops, keeping their rows and fencing tokens', async () => {
    const repo = new EngineRegistryRepository(a);
    const [winner] = await repo.listRecent(new Date(0));
    const connectorId = randomUUID();
    const now = new Date();
    await a.getRepository(ConnectorEntity).insert({
      id: connectorId,
      name: `hr-feed-${connectorId}`,
      type: 'csv',
      config: {},
      objectTypes: [],
      createdAt: now,
      updatedAt: now,
    });
    await a.getRepository(ConnectorLeaseEntity).insert({
      connectorId,
      engineInstanceId: winner.id,
      fencingToken: 7,
      acquiredAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
    });
    expect((await repo.listRecent(new Date(0)))[0].leases).toEqual([expect.objectContaining({ connectorId, fencingToken: 7 })]);

    const stoppedAt = new Date();
    await repo.markStopped(winner.id, stoppedAt);
    const [ended] = await a.getRepository(ConnectorLeaseEntity).find();
    expect(ended).toMatchObject({ connectorId, engineInstanceId: winner.id, fencingToken: 7 });
    expect(ended.expiresAt.getTime()).toBeLessThanOrEqual(stoppedAt.getTime());
    expect((await repo.listRecent(new Date(0))).find((e) => e.id === winner.id)?.leases).toEqual([]);
    expect(await repo.heartbeat(winner.id, new Date())).toBe(false);
    // A stopped engine no longer blocks a new one.
    expect((await register(b, 'engine-3', new Date())).kind).toBe('active');
    expect(await repo.pruneStopped(new Date(Date.now() + 1000))).toBe(1);
  });
});

describe.each(TEST_DIALECTS)('promoting a standby on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let ds: DataSource;
  const STALE_MS = 5_000;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    ds = await connectDatabase(db.settings);
    await migrateDatabase(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db.drop();
  });
  beforeEach(() => ds.getRepository(EngineInstanceEntity).clear());

  const row = (id: string, status: 'active' | 'passive', heartbeatAt: Date) =>
    ds.getRepository(EngineInstanceEntity).insert({ ...engine(id, heartbeatAt), status, mode: 'single', stoppedAt: null });

  it('makes a stale active engine passive in the same step, so that it stands by when it resumes', async () => {
    const now = new Date();
    await row('paused', 'active', new Date(now.getTime() - 2 * STALE_MS));
    await row('standby', 'passive', now);
    const repo = new EngineRegistryRepository(ds);
    expect(await repo.promote('standby', now, { staleBefore: new Date(now.getTime() - STALE_MS) })).toBe(true);
    expect(await repo.statusOf('standby')).toBe('active');
    // The paused engine wakes: its heartbeat still counts, and tells it that it is passive now.
    expect(await repo.heartbeat('paused', new Date())).toBe(true);
    expect(await repo.statusOf('paused')).toBe('passive');
    expect(await repo.statusOf('gone')).toBeNull();
  });

  it('is refused while a live active engine is left, and replaces one known to be dead at once', async () => {
    const now = new Date();
    await row('live', 'active', now);
    await row('standby', 'passive', now);
    const repo = new EngineRegistryRepository(ds);
    expect(await repo.promote('standby', now, { staleBefore: new Date(now.getTime() - STALE_MS) })).toBe(false);
    expect([await repo.statusOf('live'), await repo.statusOf('standby')]).toEqual(['active', 'passive']);
    // A process gone from this host (killed with -9) need not go stale first.
    expect(await repo.promote('standby', now, { staleBefore: new Date(now.getTime() - STALE_MS), replacing: ['live'] })).toBe(true);
    expect([await repo.statusOf('live'), await repo.statusOf('standby')]).toEqual(['passive', 'active']);
  });
});
