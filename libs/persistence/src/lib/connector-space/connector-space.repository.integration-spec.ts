import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { ConnectorLeaseRepository, LeaseGrant } from '../connector-lease/connector-lease.repository';
import { ConnectorSpaceObjectEntity } from '../entities/connector-space-object.entity';
import { CsReferenceEntity } from '../entities/cs-reference.entity';
import { RunEntity } from '../entities/run.entity';
import { WatermarkEntity } from '../entities/watermark.entity';
import { RunRepository } from '../run/run.repository';
import { insertConnectorWithRun, staged, StatementCounter } from '../testing/connector-space-fixtures';
import { TransactionRunner } from '../transaction/transaction';
import { WatermarkRepository } from '../watermark/watermark.repository';
import { ConnectorSpaceRepository, ImportBatchInput, StagedObject } from './connector-space.repository';

jest.setTimeout(120_000);

const LEASE_MS = 60_000;

describe.each(TEST_DIALECTS)('connector space staging on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  const counter = new StatementCounter();
  let space: ConnectorSpaceRepository;
  let runs: RunRepository;
  let leases: ConnectorLeaseRepository;
  let watermarks: WatermarkRepository;
  let transactions: TransactionRunner;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: counter.onQuery });
    await migrateDatabase(dataSource);
    space = new ConnectorSpaceRepository(dataSource);
    runs = new RunRepository(dataSource);
    leases = new ConnectorLeaseRepository(dataSource);
    watermarks = new WatermarkRepository(dataSource);
    transactions = new TransactionRunner(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** A connector with a running run of it and this engine's lease, as the engine has them when a run starts. */
  async function startRun(): Promise<{ connectorId: string; runId: string; lease: LeaseGrant }> {
    const { connectorId, runId } = await insertConnectorWithRun(dataSource);
    const lease = (await leases.acquire(connectorId, 'engine-a', { now: new Date(), durationMs: LEASE_MS, takeover: 'always' })) as LeaseGrant;
    return { connectorId, runId, lease };
  }

  /** What the import runner does per batch: one transaction with the lease check, the objects, the counters and the watermark. */
  function commitBatch(lease: LeaseGrant, runId: string, batch: Omit<ImportBatchInput, 'connectorId' | 'runId' | 'now'>, watermark?: string) {
    const now = new Date();
    return transactions.runIdempotent('import batch', async (tx) => {
      await leases.assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, now);
      const result = await space.stageImportBatch(tx, { ...batch, connectorId: lease.connectorId, runId, now });
      await runs.addCounters(tx, runId, { added: result.added, updated: result.updated, deleted: result.deleted });
      if (watermark) await watermarks.write(tx, lease.connectorId, watermark, runId, now);
      return result;
    });
  }

  function completeFullImport(lease: LeaseGrant, runId: string) {
    return transactions.run(async (tx) => {
      await leases.assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, new Date());
      const deleted = await space.markUnseenAsDeleted(tx, lease.connectorId, runId, null, new Date());
      await runs.addCounters(tx, runId, { deleted });
      return deleted;
    });
  }

  const rowsOf = (connectorId: string) => dataSource.getRepository(ConnectorSpaceObjectEntity).find({ where: { connectorId }, order: { anchor: 'ASC' } });
  const full = (upserts: StagedObject[], unreadable: ImportBatchInput['unreadable'] = []) => ({ upserts, deletes: [], unreadable, markSeen: true });

  it('adds new objects, updates changed ones, writes nothing for unchanged ones and marks the unseen deleted after a full import', async () => {
    const first = await startRun();
    const result = await commitBatch(first.lease, first.runId, full([staged('E1', { mail: ['a@x'] }), staged('E2', { mail: ['b@x'] }), staged('E3', { mail: ['c@x'] })]));
    expect(result).toMatchObject({ added: 3, updated: 0, deleted: 0, unchanged: 0 });
    expect(await completeFullImport(first.lease, first.runId)).toBe(0);
    const before = await rowsOf(first.connectorId);
    expect(before.map((r) => [r.anchor, r.pendingImport, r.version])).toEqual([
      ['E1', 'add', 1],
      ['E2', 'add', 1],
      ['E3', 'add', 1],
    ]);
    // The sync would have taken them in.
    await dataSource.getRepository(ConnectorSpaceObjectEntity).update({ connectorId: first.connectorId }, { pendingImport: 'none' });

    const secondRunId = randomUUID();
    await dataSource.getRepository(RunEntity).insert({ id: secondRunId, connectorId: first.connectorId, profile: 'full-import', status: 'running', trigger: 'manual', queuedAt: new Date() });
    const second = await commitBatch(first.lease, secondRunId, full([staged('E1', { mail: ['a@x'] }), staged('E2', { mail: ['b2@x'] }), staged('E4', { mail: ['d@x'] })]));
    expect(second).toMatchObject({ added: 1, updated: 1, deleted: 0, unchanged: 1 });
    expect(await completeFullImport(first.lease, secondRunId)).toBe(1);

    const after = new Map((await rowsOf(first.connectorId)).map((r) => [r.anchor, r]));
    const e1Before = before.find((r) => r.anchor === 'E1') as ConnectorSpaceObjectEntity;
    expect(after.get('E1')).toMatchObject({ pendingImport: 'none', version: 1, lastRunId: secondRunId, updatedAt: e1Before.updatedAt, attributes: { mail: ['a@x'] } });
    expect(after.get('E2')).toMatchObject({ pendingImport: 'update', version: 2, lastRunId: secondRunId, attributes: { mail: ['b2@x'] } });
    expect(after.get('E3')).toMatchObject({ pendingImport: 'delete', version: 2, lastRunId: first.runId });
    expect(after.get('E4')).toMatchObject({ pendingImport: 'add', version: 1, lastRunId: secondRunId });
    const counters = await dataSource.getRepository(RunEntity).findOneByOrFail({ id: secondRunId });
    expect([counters.added, counters.updated, counters.deleted]).toEqual([1, 1, 1]);
  });

  it('keeps an object the source could not read this time, and brings a pending delete back when it reappears', async () => {
    const { lease, runId } = await startRun();
    await commitBatch(lease, runId, full([staged('E1', { n: [1] }), staged('E2', { n: [2] }), staged('E3', { n: [3] })]));
    await completeFullImport(lease, runId);

    const secondRunId = randomUUID();
    await dataSource.getRepository(RunEntity).insert({ id: secondRunId, connectorId: lease.connectorId, profile: 'full-import', status: 'running', trigger: 'manual', queuedAt: new Date() });
    // E2's row was malformed this time (an error naming its anchor), E3 is gone.
    await commitBatch(lease, secondRunId, full([staged('E1', { n: [1] })], [{ anchor: 'E2' }]));
    expect(await completeFullImport(lease, secondRunId)).toBe(1);
    expect((await rowsOf(lease.connectorId)).map((r) => [r.anchor, r.pendingImport])).toEqual([
      ['E1', 'add'],
      ['E2', 'add'],
      ['E3', 'delete'],
    ]);

    // A delta: E3 is back unchanged, E1 is deleted, a delete of an anchor never staged changes nothing.
    const delta = await commitBatch(lease, secondRunId, {
      upserts: [staged('E3', { n: [3] })],
      deletes: [
        { objectType: 'person', anchor: 'E1' },
        { objectType: 'person', anchor: 'never-staged' },
      ],
      unreadable: [],
      markSeen: false,
    });
    expect(delta).toMatchObject({ added: 0, updated: 1, deleted: 1, unchanged: 0 });
    expect((await rowsOf(lease.connectorId)).map((r) => [r.anchor, r.pendingImport])).toEqual([
      ['E1', 'delete'],
      ['E2', 'add'],
      ['E3', 'update'],
    ]);
  });

  it('writes reference rows, diffs them when an object changes, and resolves them to the objects they name', async () => {
    const { lease, runId } = await startRun();
    const member = (anchor: string) => ({ attributeName: 'member', targetKey: anchor });
    await commitBatch(
      lease,
      runId,
      full([
        staged('G1', { cn: ['staff'] }, { objectType: 'group', references: [member('E1'), member('E2'), member('E9')] }),
        staged('E1', { cn: ['one'] }, { references: [{ attributeName: 'manager', targetKey: 'E2' }] }),
      ]),
    );
    await commitBatch(lease, runId, full([staged('E2', { cn: ['two'] })]));
    const group = (await space.findByAnchor(lease.connectorId, 'group', 'G1')) as { id: string };
    const referenceRows = () => dataSource.getRepository(CsReferenceEntity).find({ where: { csObjectId: group.id }, order: { targetKey: 'ASC' } });
    expect((await referenceRows()).map((r) => r.targetKey)).toEqual(['E1', 'E2', 'E9']);

    const resolved = await transactions.run((tx) =>
      space.resolveReferences(tx, lease.connectorId, { byAnchor: { attributeNames: ['member', 'manager'], objectTypes: ['person', 'group'] }, byDn: { attributeNames: [] } }),
    );
    expect(resolved).toBe(3);
    const e1 = (await space.findByAnchor(lease.connectorId, 'person', 'E1')) as { id: string };
    const e2 = (await space.findByAnchor(lease.connectorId, 'person', 'E2')) as { id: string };
    expect((await referenceRows()).map((r) => [r.targetKey, r.targetCsObjectId])).toEqual([
      ['E1', e1.id],
      ['E2', e2.id],
      ['E9', null],
    ]);

    // One member leaves, one joins: the rows of the others stay as they are (still resolved).
    const { result, statements } = await counter.count(() =>
      commitBatch(lease, runId, full([staged('G1', { cn: ['staff'] }, { objectType: 'group', references: [member('E1'), member('E2'), member('E3')] })])),
    );
    expect(result).toMatchObject({ updated: 1 });
    // BEGIN, lease, read objects, update, read references, delete one, insert one, counters, COMMIT.
    expect(statements).toBe(9);
    expect((await referenceRows()).map((r) => [r.targetKey, r.targetCsObjectId])).toEqual([
      ['E1', e1.id],
      ['E2', e2.id],
      ['E3', null],
    ]);
    expect(await space.referencesOf(e1.id)).toEqual([{ attributeName: 'manager', targetKey: 'E2', targetCsObjectId: e2.id }]);
  });

  it('commits nothing of a batch whose transaction fails after staging: no objects, no references, no counters, no watermark', async () => {
    const { lease, runId } = await startRun();
    const referencesBefore = await dataSource.getRepository(CsReferenceEntity).count();
    const failure = new Error('injected after staging, before commit');
    await expect(
      transactions.run(async (tx) => {
        const now = new Date();
        await leases.assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, now);
        await space.stageImportBatch(tx, { ...full([staged('E1', { n: [1] }, { references: [{ attributeName: 'manager', targetKey: 'E2' }] }), staged('E2', { n: [2] })]), connectorId: lease.connectorId, runId, now });
        await runs.addCounters(tx, runId, { added: 2 });
        await watermarks.write(tx, lease.connectorId, 'usn:42', runId, now);
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(await rowsOf(lease.connectorId)).toEqual([]);
    expect(await dataSource.getRepository(CsReferenceEntity).count()).toBe(referencesBefore);
    expect(await dataSource.getRepository(WatermarkEntity).findOneBy({ connectorId: lease.connectorId })).toBeNull();
    expect(await watermarks.read(lease.connectorId)).toBeUndefined();
    expect((await dataSource.getRepository(RunEntity).findOneByOrFail({ id: runId })).added).toBe(0);

    // The same batch committed: objects and watermark together.
    await commitBatch(lease, runId, full([staged('E1', { n: [1] }), staged('E2', { n: [2] })]), 'usn:42');
    expect((await rowsOf(lease.connectorId)).map((r) => r.anchor)).toEqual(['E1', 'E2']);
    expect(await watermarks.read(lease.connectorId)).toBe('usn:42');
  });

  it('stages a 2,000-object full import within 0.05 statements per object, and an unchanged re-import too', async () => {
    const { lease, runId } = await startRun();
    const objects = Array.from({ length: 2_000 }, (_, i) =>
      staged(`E${String(i).padStart(5, '0')}`, { givenName: [`Given ${i}`], sn: [`Surname ${i}`], mail: [`user${i}@example.com`], active: [true] }, { references: i > 0 ? [{ attributeName: 'manager', targetKey: 'E00000' }] : [] }),
    );
    const importAll = async (id: string) => {
      for (let i = 0; i < objects.length; i += 500) await commitBatch(lease, id, full(objects.slice(i, i + 500)), i + 500 >= objects.length ? `hash:${id}` : undefined);
      return completeFullImport(lease, id);
    };

    const first = await counter.count(() => importAll(runId));
    expect(first.result).toBe(0);
    expect(await dataSource.getRepository(ConnectorSpaceObjectEntity).countBy({ connectorId: lease.connectorId })).toBe(2_000);
    expect(first.statements / objects.length).toBeLessThanOrEqual(0.05);
    // Per batch: BEGIN, lease check, read existing, insert objects, insert references, counters, COMMIT;
    // the watermark on the last; then BEGIN, lease check, unseen deletes, COMMIT. Counts are stable, times are not.
    expect(first.statements).toBe(4 * 7 + 1 + 4);

    const secondRunId = randomUUID();
    await dataSource.getRepository(RunEntity).insert({ id: secondRunId, connectorId: lease.connectorId, profile: 'full-import', status: 'running', trigger: 'manual', queuedAt: new Date() });
    const second = await counter.count(() => importAll(secondRunId));
    expect(second.result).toBe(0);
    expect(second.statements / objects.length).toBeLessThanOrEqual(0.05);
    // Per batch: BEGIN, lease check, read existing, mark seen, COMMIT (no counter changes); watermark; completion.
    expect(second.statements).toBe(4 * 5 + 1 + 4);
    const run = await dataSource.getRepository(RunEntity).findOneByOrFail({ id: secondRunId });
    expect([run.added, run.updated, run.deleted]).toEqual([0, 0, 0]);
    process.stdout.write(`${dialect}: 2,000-object full import ${first.statements} statements, unchanged re-import ${second.statements}\n`);
  });
});
