import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { RunEntity } from '../entities/run.entity';
import { insertConnectorWithRun } from '../testing/connector-space-fixtures';
import { TransactionRunner } from '../transaction/transaction';
import { RunRepository, RunView } from './run.repository';

jest.setTimeout(120_000);

describe.each(TEST_DIALECTS)('run queue on %s', (dialect) => {
  let db: ThrowawayDatabase;
  /** Two engines' connections. */
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

  /** Connectors with no run yet. */
  async function connectors(count: number, options: { enabled?: boolean; relayGroup?: string | null } = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { connectorId, runId } = await insertConnectorWithRun(a, options);
      await a.getRepository(RunEntity).delete({ id: runId });
      ids.push(connectorId);
    }
    return ids;
  }

  it('gives every queued run to exactly one of two engines claiming at the same time', async () => {
    const ids = await connectors(5);
    const runs = new RunRepository(a);
    const queued: RunView[] = [];
    const base = Date.now();
    for (let i = 0; i < 40; i++) queued.push(await runs.queue({ connectorId: ids[i % ids.length], profile: 'full-import', trigger: 'manual', at: new Date(base + i * 1000) }));

    async function claimAll(dataSource: DataSource, engine: string): Promise<string[]> {
      const repo = new RunRepository(dataSource);
      const claimed: string[] = [];
      for (let run = await repo.claimNext(engine, { now: new Date() }); run; run = await repo.claimNext(engine, { now: new Date() })) {
        expect(run).toMatchObject({ status: 'running', engineInstanceId: engine });
        claimed.push(run.id);
      }
      return claimed;
    }
    const [byA, byB] = await Promise.all([claimAll(a, 'engine-a'), claimAll(b, 'engine-b')]);
    expect([...byA, ...byB].sort()).toEqual(queued.map((run) => run.id).sort());
    expect(new Set([...byA, ...byB]).size).toBe(40);
    const rows = await a.getRepository(RunEntity).findBy({ connectorId: ids[0] });
    expect(rows.every((row) => row.status === 'running' && (row.engineInstanceId === 'engine-a' || row.engineInstanceId === 'engine-b'))).toBe(true);
  });

  it('offers the oldest waiting run of each connector an engine may run, and claims the oldest of one connector with the lease’s token', async () => {
    const [first, second] = await connectors(2);
    const [disabled] = await connectors(1, { enabled: false });
    const [relayed] = await connectors(1, { relayGroup: 'branch-office' });
    const runs = new RunRepository(a);
    const t = Date.now() - 60_000;
    const older = await runs.queue({ connectorId: second, profile: 'delta-import', trigger: 'schedule', at: new Date(t) });
    await runs.queue({ connectorId: second, profile: 'delta-sync', trigger: 'schedule', at: new Date(t + 1_000) });
    const firstRun = await runs.queue({ connectorId: first, profile: 'full-import', trigger: 'manual', at: new Date(t + 2_000) });
    await runs.queue({ connectorId: disabled, profile: 'full-import', trigger: 'manual', at: new Date(t - 5_000) });
    // A relay group's connector is run by the engine too; only its work goes through the relay work queue.
    const relayedRun = await runs.queue({ connectorId: relayed, profile: 'full-import', trigger: 'manual', at: new Date(t - 5_000) });

    const candidates = (await runs.candidates()).filter((c) => [first, second, disabled, relayed].includes(c.connectorId));
    expect(candidates.map((c) => [c.connectorId, c.runId, c.status])).toEqual([
      [relayed, relayedRun.id, 'queued'],
      [second, older.id, 'queued'],
      [first, firstRun.id, 'queued'],
    ]);
    expect((await runs.candidates({ excludeConnectorIds: [second] })).some((c) => c.connectorId === second)).toBe(false);

    const claimed = await runs.claimNext('engine-a', { now: new Date(), connectorId: second, fencingToken: 7 });
    expect(claimed).toMatchObject({ id: older.id, status: 'running', engineInstanceId: 'engine-a', fencingToken: 7 });
    expect(claimed?.startedAt).toBeInstanceOf(Date);
    // Its connector now offers the running run first: it is the oldest, and whoever gets the lease recovers it if its engine is gone.
    expect((await runs.candidates()).find((c) => c.connectorId === second)).toMatchObject({ runId: older.id, status: 'running' });
  });

  it('queues a run left running by a dead engine again, keeping its counters, and fails it after too many recoveries', async () => {
    const [connectorId] = await connectors(1);
    const runs = new RunRepository(a);
    const queued = await runs.queue({ connectorId, profile: 'full-import', trigger: 'manual' });
    const claimed = (await runs.claimNext('engine-dead', { now: new Date(), connectorId, fencingToken: 1 })) as RunView;
    await new TransactionRunner(a).run((tx) => runs.addCounters(tx, claimed.id, { added: 500, errors: 2 }));

    const recovered = await runs.recoverInterrupted(connectorId, { now: new Date(), maxRecoveries: 2 });
    expect(recovered.failed).toEqual([]);
    expect(recovered.requeued.map((r) => r.id)).toEqual([queued.id]);
    const requeued = (await runs.findById(queued.id)) as RunView;
    expect(requeued).toMatchObject({ status: 'queued', engineInstanceId: null, fencingToken: null, recoveries: 1, added: 500, errors: 2 });
    expect(requeued.message).toMatch(/^interrupted: the engine running it \(engine-dead\) stopped without finishing it; queued again to resume after its last committed batch \(recovery 1 of at most 2\)$/);
    // The engine that died never writes again: its fenced finish changes nothing.
    expect(await runs.finish(queued.id, 'engine-dead', 1, { status: 'succeeded', message: null, now: new Date() })).toBe(false);

    // Resumed: the same run, started when it first started.
    const resumed = (await runs.claimNext('engine-b', { now: new Date(), connectorId, fencingToken: 2 })) as RunView;
    expect(resumed).toMatchObject({ id: queued.id, recoveries: 1, added: 500 });
    expect(resumed.startedAt?.getTime()).toBe(claimed.startedAt?.getTime());
    await runs.recoverInterrupted(connectorId, { now: new Date(), maxRecoveries: 2 });
    await runs.claimNext('engine-c', { now: new Date(), connectorId, fencingToken: 3 });
    const last = await runs.recoverInterrupted(connectorId, { now: new Date(), maxRecoveries: 2 });
    expect(last.requeued).toEqual([]);
    expect(last.failed.map((r) => r.id)).toEqual([queued.id]);
    expect(await runs.findById(queued.id)).toMatchObject({ status: 'failed', recoveries: 2, message: expect.stringContaining('stopped without finishing it 3 times; it is not resumed again') });
  });

  it('ends a run only for the engine and token running it, and gives it back to the queue on shutdown', async () => {
    const [connectorId] = await connectors(1);
    const runs = new RunRepository(a);
    const queued = await runs.queue({ connectorId, profile: 'delta-import', trigger: 'manual' });
    await runs.claimNext('engine-a', { now: new Date(), connectorId, fencingToken: 4 });
    expect(await runs.requeue(queued.id, 'engine-a', 4, 'interrupted by engine shutdown')).toBe(true);
    expect(await runs.findById(queued.id)).toMatchObject({ status: 'queued', engineInstanceId: null, message: 'interrupted by engine shutdown' });

    await runs.claimNext('engine-a', { now: new Date(), connectorId, fencingToken: 5 });
    expect(await runs.finish(queued.id, 'engine-a', 4, { status: 'succeeded', message: null, now: new Date() })).toBe(false);
    expect(await runs.finish(queued.id, 'engine-a', 5, { status: 'completed-with-errors', message: '3 objects failed', now: new Date() })).toBe(true);
    expect(await runs.findById(queued.id)).toMatchObject({ status: 'completed-with-errors', message: '3 objects failed', finishedAt: expect.any(Date) });
  });

  it('records per-object errors in bulk, each once however often its batch is committed', async () => {
    const { runId } = await insertConnectorWithRun(a);
    const runs = new RunRepository(a);
    const errors = Array.from({ length: 300 }, (_, i) => ({
      code: 'OBJECT_MALFORMED',
      message: `line ${i + 2}: ${'x'.repeat(i === 0 ? 3_000 : 10)}`,
      objectType: 'person',
      anchor: i % 2 === 0 ? `E${i}` : undefined,
      position: `line ${i + 2}`,
    }));
    const record = () =>
      new TransactionRunner(a).run(async (tx) => {
        const fresh = await runs.recordObjectErrors(tx, runId, errors, new Date());
        await runs.addCounters(tx, runId, { errors: fresh });
        return fresh;
      });
    expect(await record()).toBe(300);
    expect(await record()).toBe(0);
    expect((await runs.findById(runId))?.errors).toBe(300);
    const listed = await runs.listObjectErrors(runId, 500);
    expect(listed).toHaveLength(300);
    const first = listed.find((e) => e.detail?.['position'] === 'line 2');
    expect(first).toMatchObject({ anchor: 'E0', code: 'OBJECT_MALFORMED', detail: { objectType: 'person', position: 'line 2' } });
    expect(first?.message).toHaveLength(2000);
  });

  it('claims nothing when nothing is queued', async () => {
    const runs = new RunRepository(a);
    expect(await runs.claimNext(randomUUID(), { now: new Date(), connectorId: randomUUID() })).toBeNull();
  });
});
