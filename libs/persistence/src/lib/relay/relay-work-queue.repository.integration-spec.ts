import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { ConnectorRepository } from '../connector/connector.repository';
import { RelayBatchPartEntity } from '../entities/relay-batch-part.entity';
import { RelayItemPartEntity } from '../entities/relay-item-part.entity';
import { RelayResultBatchEntity } from '../entities/relay-result-batch.entity';
import { RelayWorkItemEntity } from '../entities/relay-work-item.entity';
import type { JsonObject } from '../entities/column-types';
import { TransactionRunner } from '../transaction/transaction';
import { RelayBatchNotStagedError } from './relay.errors';
import { BATCH_PART_LENGTH, INLINE_JSON_LENGTH, RelayWorkQueueRepository, splitJson, type NewRelayWorkItem, type RelayWorkItemView } from './relay-work-queue.repository';
import { RelayRepository, type RelayView } from './relay.repository';

jest.setTimeout(120_000);

// Whole seconds: MySQL/MariaDB datetime keeps no fraction.
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const HOUR = 3600;

describe.each(TEST_DIALECTS)('relay work queue on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let relays: RelayRepository;
  let queue: RelayWorkQueueRepository;
  let transactions: TransactionRunner;
  let connectorId: string;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    relays = new RelayRepository(dataSource);
    queue = new RelayWorkQueueRepository(dataSource);
    transactions = new TransactionRunner(dataSource);
    const connector = await transactions.run((tx) =>
      new ConnectorRepository(dataSource).insertRecord(
        tx,
        {
          name: 'branch directory',
          type: 'ldap',
          description: null,
          config: { url: 'ldap://branch' },
          objectTypes: [],
          schedule: null,
          relayGroup: 'branch',
          batchSize: 500,
          deletionThresholdCount: 500,
          deletionThresholdPercent: 10,
          errorThreshold: null,
          exportMaxAttempts: 5,
          enabled: true,
        },
        at(0),
      ),
    );
    connectorId = connector.id;
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** Another hub's connection; on SQLite the same one (see relay.repository.integration-spec.ts). */
  async function secondHub(): Promise<DataSource> {
    return dialect === 'sqlite' ? dataSource : connectDatabase(db.settings);
  }

  /** An enrolled relay of `group` (a group of its own per test unless given), last seen at `seenAt`. */
  async function relay(group: string, seenAt: Date | null = at(0)): Promise<RelayView> {
    const enrollment = { id: randomUUID(), tokenHash: randomUUID(), relayGroup: group, expiresAt: at(HOUR), createdBy: 'jdoe' };
    await relays.createEnrollment(enrollment, at(0));
    const redeemed = await relays.redeemEnrollment(
      { enrollmentId: enrollment.id, tokenHash: enrollment.tokenHash, relayId: randomUUID(), name: `relay-${randomUUID()}`, host: null, version: null, credentialHash: 'scrypt$x' },
      at(0),
    );
    if (!('relay' in redeemed)) throw new Error(`not enrolled: ${redeemed.refused}`);
    if (seenAt) await relays.touch([redeemed.relay.id], seenAt);
    return redeemed.relay;
  }

  const group = () => `group-${randomUUID().slice(0, 8)}`;

  function item(relayGroup: string, extra: Partial<NewRelayWorkItem> = {}): NewRelayWorkItem {
    return { relayGroup, connectorId, runId: null, workKey: null, kind: 'import', payload: { mode: 'full', batchSize: 500 }, deadlineAt: at(HOUR), ...extra };
  }

  const ids = (items: RelayWorkItemView[]) => items.map((i) => i.id);

  /** An export batch of 500 changes with long values, non-ASCII and emoji among them: over 2 MB of JSON text. */
  function largeExportPayload(): JsonObject {
    const changes = Array.from({ length: 500 }, (_, i) => ({
      id: `change-${i}`,
      operation: 'update',
      objectType: 'user',
      anchor: `E-${i}`,
      dn: `CN=Łukasz Żółć ${i} 山田 😀,OU=People,DC=example,DC=com`,
      // Emoji runs of varying length, so pieces end at varying places within them.
      attributes: { description: ['"quoted"\\ \u0001 ' + '😀'.repeat(200 + (i % 7)) + 'é'.repeat(1000) + 'x'.repeat(2800 + i)] },
    }));
    return { changes };
  }

  /** One result per change of {@link largeExportPayload}: over 1 MB of JSON text. */
  function largeExportResult(): JsonObject {
    const results = Array.from({ length: 500 }, (_, i) => ({ id: `change-${i}`, outcome: 'failed', error: { code: 'LDAP_ERROR', message: `Ünïcödé 😀 ${i} ` + 'm'.repeat(2000) } }));
    return { export: { results } };
  }

  /** What the item's payload and result columns hold, as stored. */
  async function rawColumns(itemId: string): Promise<{ payload: string; result: string | null }> {
    const row = await dataSource
      .getRepository(RelayWorkItemEntity)
      .createQueryBuilder('i')
      .select('i.payload', 'payload')
      .addSelect('i.result', 'result')
      .where('i.id = :itemId', { itemId })
      .getRawOne<{ payload: string; result: string | null }>();
    if (!row) throw new Error(`no item ${itemId}`);
    return row;
  }

  const pieces = (workItemId: string, field?: 'payload' | 'result') => dataSource.getRepository(RelayItemPartEntity).countBy(field ? { workItemId, field } : { workItemId });

  describe('claims', () => {
    it('claims queued work once, replays it to the same relay after a reconnect, and moves it from a relay that is gone', async () => {
      const g = group();
      const a = await relay(g, at(100));
      const b = await relay(g, at(100));
      const stranger = await relay(group(), at(100));
      const first = await queue.enqueue(item(g), at(10));
      const second = await queue.enqueue(item(g, { kind: 'test-connection', payload: {} }), at(11));
      expect(first).toMatchObject({ status: 'queued', attempts: 0, relayId: null, payload: { mode: 'full', batchSize: 500 }, createdAt: at(10) });

      const claimed = await queue.claim(a.id, g, { max: 1, staleBefore: at(50) }, at(110));
      expect(claimed).toEqual([{ ...first, status: 'delivered', relayId: a.id, attempts: 1, updatedAt: at(110) }]);
      // A relay of another group, and a relay claiming for a group it is not of, get nothing.
      expect(await queue.claim(stranger.id, stranger.relayGroup, { max: 5, staleBefore: at(50) }, at(110))).toEqual([]);
      expect(await queue.claim(stranger.id, g, { max: 5, staleBefore: at(50) }, at(110))).toEqual([]);

      // A's reconnect: its own item first, attempts unchanged, then the next queued one.
      const again = await queue.claim(a.id, g, { max: 5, staleBefore: at(50) }, at(120));
      expect(again.map((i) => [i.id, i.attempts, i.relayId])).toEqual([
        [first.id, 1, a.id],
        [second.id, 1, a.id],
      ]);
      // B, live too, finds nothing to take while A is seen.
      expect(await queue.claim(b.id, g, { max: 5, staleBefore: at(50) }, at(120))).toEqual([]);

      // A not seen since 100; with staleBefore past it, its items move to B, one attempt more.
      await queue.markRunning(second.id, a.id, 1, at(121));
      await relays.touch([b.id], at(300));
      const moved = await queue.claim(b.id, g, { max: 5, staleBefore: at(200) }, at(301));
      expect(moved.map((i) => [i.id, i.attempts, i.relayId, i.status])).toEqual([
        [first.id, 2, b.id, 'delivered'],
        [second.id, 2, b.id, 'delivered'],
      ]);
      // A, back, has lost them: no replay, and its attempt is refused.
      expect(await queue.claim(a.id, g, { max: 5, staleBefore: at(200) }, at(302))).toEqual([]);
      expect(await queue.markRunning(first.id, a.id, 1, at(302))).toBe(false);
      expect(await queue.markRunning(first.id, b.id, 2, at(302))).toBe(true);
      expect(await queue.markRunning(first.id, b.id, 2, at(303))).toBe(false);
      expect(await queue.get(first.id)).toMatchObject({ status: 'running', relayId: b.id, attempts: 2 });
    });

    it('moves the claims of a revoked relay and gives a revoked relay nothing', async () => {
      const g = group();
      const a = await relay(g, at(100));
      const b = await relay(g, at(100));
      const work = await queue.enqueue(item(g), at(10));
      expect(ids(await queue.claim(a.id, g, { max: 5, staleBefore: at(50) }, at(110)))).toEqual([work.id]);
      await relays.revoke(a.id, at(120));
      expect(await queue.claim(a.id, g, { max: 5, staleBefore: at(50) }, at(121))).toEqual([]);
      expect(await queue.claim(b.id, g, { max: 5, staleBefore: at(50) }, at(121))).toMatchObject([{ id: work.id, relayId: b.id, attempts: 2 }]);
    });

    it('never claims, replays, starts or expires twice an item past its deadline', async () => {
      const g = group();
      const a = await relay(g, at(100));
      const late = await queue.enqueue(item(g, { deadlineAt: at(200) }), at(10));
      const held = await queue.enqueue(item(g, { deadlineAt: at(150) }), at(11));
      const onTime = await queue.enqueue(item(g, { deadlineAt: at(HOUR) }), at(12));
      expect(ids(await queue.claim(a.id, g, { max: 1, staleBefore: at(50) }, at(120)))).toEqual([late.id]);
      expect(ids(await queue.claim(a.id, g, { max: 2, staleBefore: at(50) }, at(120)))).toEqual([late.id, held.id]);
      // At 200 both are due: neither replays, and the one still queued is not claimed.
      expect(ids(await queue.claim(a.id, g, { max: 5, staleBefore: at(50) }, at(200)))).toEqual([onTime.id]);
      expect(await queue.markRunning(late.id, a.id, 1, at(200))).toBe(false);

      const expired = await queue.expireOverdue(at(200));
      expect(expired).toBeGreaterThanOrEqual(2);
      expect((await queue.get(late.id))?.status).toBe('expired');
      expect((await queue.get(held.id))?.status).toBe('expired');
      expect((await queue.get(onTime.id))?.status).toBe('delivered');
      expect(await queue.expireOverdue(at(200))).toBe(0);
    });

    it('gives each item to exactly one of two relays claiming at once through two hubs', async () => {
      const g = group();
      const a = await relay(g, at(100));
      const b = await relay(g, at(100));
      const other = await secondHub();
      try {
        const hubB = new RelayWorkQueueRepository(other);
        for (let round = 0; round < 3; round++) {
          const queued: string[] = [];
          for (let i = 0; i < 12; i++) queued.push((await queue.enqueue(item(g, { kind: 'test-connection', payload: { round, i } }), at(10 + round))).id);
          const now = at(110 + round);
          const [forA, forB] = await Promise.all([queue.claim(a.id, g, { max: 16, staleBefore: at(50) }, now), hubB.claim(b.id, g, { max: 16, staleBefore: at(50) }, now)]);
          const claimedA = ids(forA).filter((id) => queued.includes(id));
          const claimedB = ids(forB).filter((id) => queued.includes(id));
          expect(claimedA.filter((id) => claimedB.includes(id))).toEqual([]);
          expect([...claimedA, ...claimedB].sort()).toEqual([...queued].sort());
          for (const id of queued) expect((await queue.get(id))?.attempts).toBe(1);
          // Close this round's items so the next round starts from queued work only.
          for (const view of [...forA, ...forB]) await queue.complete(view.id, view.relayId as string, view.attempts, 'done', {}, now);
        }

        // A gone relay's item, taken over by two live relays at once: one wins, attempts grows by one.
        const gone = await relay(g, at(100));
        const c = await relay(g, at(100));
        const orphan = await queue.enqueue(item(g), at(20));
        expect(ids(await queue.claim(gone.id, g, { max: 1, staleBefore: at(50) }, at(120)))).toEqual([orphan.id]);
        await relays.touch([a.id, c.id], at(500));
        const [takenA, takenC] = await Promise.all([queue.claim(a.id, g, { max: 4, staleBefore: at(400) }, at(501)), hubB.claim(c.id, g, { max: 4, staleBefore: at(400) }, at(501))]);
        const winners = [...takenA, ...takenC].filter((view) => view.id === orphan.id);
        expect(winners).toHaveLength(1);
        expect(winners[0]?.attempts).toBe(2);
        expect(await queue.get(orphan.id)).toMatchObject({ attempts: 2, relayId: winners[0]?.relayId });
      } finally {
        if (other !== dataSource) await other.destroy();
      }
    });

    it('names the groups with claimable work and counts open items by group and status', async () => {
      const [g1, g2, g3] = [group(), group(), group()];
      const live = await relay(g2, at(300));
      const gone = await relay(g3, at(100));
      await queue.enqueue(item(g1), at(10));
      await queue.enqueue(item(g1, { deadlineAt: at(150) }), at(10));
      await queue.enqueue(item(g2), at(10));
      await queue.enqueue(item(g3), at(10));
      await queue.claim(live.id, g2, { max: 5, staleBefore: at(50) }, at(301));
      await queue.claim(gone.id, g3, { max: 5, staleBefore: at(50) }, at(120));

      // g1 has queued work, g2's is held by a live relay, g3's by one not seen since 100.
      expect(await queue.groupsWithClaimableWork([g1, g2, g3, group()], at(200), at(302))).toEqual([g1, g3]);
      expect(await queue.groupsWithClaimableWork([g2], at(200), at(302))).toEqual([]);
      expect(await queue.groupsWithClaimableWork([], at(200), at(302))).toEqual([]);

      const counts = (await queue.openCounts()).filter((row) => [g1, g2, g3].includes(row.relayGroup));
      expect(counts).toEqual(
        [
          { relayGroup: g1, status: 'queued', count: 2 },
          { relayGroup: g2, status: 'delivered', count: 1 },
          { relayGroup: g3, status: 'delivered', count: 1 },
        ].sort((x, y) => (x.relayGroup < y.relayGroup ? -1 : 1)),
      );
    });
  });

  describe('import batches', () => {
    /** An import item claimed by a fresh relay: [item, relay]. */
    async function claimedImport(extra: Partial<NewRelayWorkItem> = {}): Promise<[RelayWorkItemView, RelayView]> {
      const g = group();
      const r = await relay(g, at(100));
      const work = await queue.enqueue(item(g, extra), at(10));
      const [claimed] = await queue.claim(r.id, g, { max: 1, staleBefore: at(50) }, at(110));
      if (!claimed || claimed.id !== work.id) throw new Error('not claimed');
      return [claimed, r];
    }

    const batch = (seq: number, isLast = false, payload: JsonObject = { changes: [{ kind: 'upsert', anchor: `E-${seq}` }], errors: [] }) => ({ seq, isLast, payload });

    it('stages a batch once: a resent seq is a duplicate, another relay or attempt is refused', async () => {
      const [work, r] = await claimedImport();
      const other = await relay(work.relayGroup, at(100));
      expect(await queue.stageImportBatch(work.id, r.id, 1, batch(1), at(120))).toBe('staged');
      expect(await queue.stageImportBatch(work.id, r.id, 1, batch(1, false, { changes: ['different'] }), at(121))).toBe('duplicate');
      expect(await queue.stagedBatch(work.id, 1)).toEqual(batch(1));
      expect(await queue.stageImportBatch(work.id, other.id, 1, batch(2), at(121))).toBe('not-yours');
      expect(await queue.stageImportBatch(randomUUID(), r.id, 1, batch(2), at(121))).toBe('not-yours');
      expect(await queue.stageImportBatch(work.id, r.id, 2, batch(2), at(121))).toBe('closed');
      expect(await queue.unappliedBatchCount(work.id)).toBe(1);

      // Not claimed by anyone yet.
      const queued = await queue.enqueue(item(work.relayGroup), at(10));
      expect(await queue.stageImportBatch(queued.id, r.id, 0, batch(1), at(121))).toBe('not-yours');
    });

    it('refuses batches for an item that is finished or past its deadline', async () => {
      const [work, r] = await claimedImport({ deadlineAt: at(200) });
      expect(await queue.stageImportBatch(work.id, r.id, 1, batch(1), at(200))).toBe('closed');
      expect(await queue.unappliedBatchCount(work.id)).toBe(0);

      const [done, r2] = await claimedImport();
      expect(await queue.stageImportBatch(done.id, r2.id, 1, batch(1, true), at(120))).toBe('staged');
      expect(await queue.complete(done.id, r2.id, 1, 'done', {}, at(121))).toBe('completed');
      expect(await queue.stageImportBatch(done.id, r2.id, 1, batch(2), at(122))).toBe('closed');
    });

    it('keeps a batch of megabytes intact, Unicode cut across pieces included', async () => {
      const [work, r] = await claimedImport();
      const entries = Array.from({ length: 500 }, (_, i) => ({
        kind: 'upsert',
        objectType: 'user',
        anchor: `E-${i}`,
        dn: `CN=Łukasz Żółć ${i} 山田 😀,OU=People,DC=example,DC=com`,
        attributes: { description: ['"quoted"\\ \u0001 ' + '😀'.repeat(600) + 'x'.repeat(4000 + i)], member: Array.from({ length: 20 }, (_, m) => `CN=group ${m},DC=example`) },
      }));
      const payload: JsonObject = { changes: entries, errors: [], watermark: 'usn:1234' };
      expect(JSON.stringify(payload).length).toBeGreaterThan(3_000_000);
      // Some piece ends in the first half of a surrogate pair: the cut splits an emoji.
      expect(splitJson(payload).some((piece) => /[\uD800-\uDBFF]$/.test(piece))).toBe(true);
      expect(await queue.stageImportBatch(work.id, r.id, 1, { seq: 1, isLast: true, payload }, at(120))).toBe('staged');
      const parts = await dataSource.getRepository(RelayBatchPartEntity).countBy({ workItemId: work.id });
      expect(parts).toBe(Math.ceil(JSON.stringify(payload).length / BATCH_PART_LENGTH));
      expect(await queue.stagedBatch(work.id, 1)).toEqual({ seq: 1, isLast: true, payload });
    });

    it('applies each batch once: a second apply throws and rolls the whole transaction back', async () => {
      const [work, r] = await claimedImport();
      for (const seq of [1, 2, 3]) expect(await queue.stageImportBatch(work.id, r.id, 1, batch(seq, seq === 3), at(120 + seq))).toBe('staged');
      expect(await queue.batchProgress(work.id)).toEqual({ lastApplied: 0, lastStaged: 3, lastIsApplied: false });
      expect(await queue.unappliedBatchCount(work.id)).toBe(3);

      await transactions.run((tx) => queue.markBatchApplied(tx, work.id, 1, at(130)));
      expect(await queue.stagedBatch(work.id, 1)).toBeNull();
      expect(await dataSource.getRepository(RelayBatchPartEntity).countBy({ workItemId: work.id, batchSeq: 1 })).toBe(0);
      expect(await queue.unappliedBatchCount(work.id)).toBe(2);

      // Batch 2 and batch 1 again in one transaction: the second throws, so batch 2 is not applied either.
      const twice = transactions.run(async (tx) => {
        await queue.markBatchApplied(tx, work.id, 2, at(131));
        await queue.markBatchApplied(tx, work.id, 1, at(131));
      });
      await expect(twice).rejects.toBeInstanceOf(RelayBatchNotStagedError);
      await expect(twice).rejects.toMatchObject({ code: 'RELAY_BATCH_NOT_STAGED', state: 'applied', seq: 1 });
      expect(await queue.stagedBatch(work.id, 2)).toEqual(batch(2));
      expect(await queue.batchProgress(work.id)).toEqual({ lastApplied: 1, lastStaged: 3, lastIsApplied: false });

      await expect(transactions.run((tx) => queue.markBatchApplied(tx, work.id, 9, at(132)))).rejects.toMatchObject({ state: 'missing' });

      await transactions.run(async (tx) => {
        await queue.markBatchApplied(tx, work.id, 2, at(133));
        await queue.markBatchApplied(tx, work.id, 3, at(133));
      });
      expect(await queue.batchProgress(work.id)).toEqual({ lastApplied: 3, lastStaged: 3, lastIsApplied: true });
      expect(await queue.unappliedBatchCount(work.id)).toBe(0);
      // A batch resent after it was applied is still a duplicate, not staged again.
      expect(await queue.stageImportBatch(work.id, r.id, 1, batch(3, true), at(134))).toBe('duplicate');
      expect(await queue.unappliedBatchCount(work.id)).toBe(0);
    });

    it('reports no progress for an item without batches', async () => {
      const [work] = await claimedImport();
      expect(await queue.batchProgress(work.id)).toEqual({ lastApplied: 0, lastStaged: 0, lastIsApplied: false });
      expect(await queue.stagedBatch(work.id, 1)).toBeNull();
    });
  });

  describe('results', () => {
    it('completes an item once for the relay and attempt that hold it, and applies its result once', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const other = await relay(g, at(100));
      const work = await queue.enqueue(item(g, { kind: 'export', workKey: 'k'.repeat(64), payload: { changes: [] } }), at(10));
      await queue.claim(r.id, g, { max: 1, staleBefore: at(50) }, at(110));
      expect(await queue.complete(work.id, other.id, 1, 'done', {}, at(120))).toBe('not-yours');
      expect(await queue.complete(work.id, r.id, 2, 'done', {}, at(120))).toBe('closed');
      expect(await queue.complete(randomUUID(), r.id, 1, 'done', {}, at(120))).toBe('not-yours');
      const result = { export: { results: [{ id: 'c1', outcome: 'applied' }] } };
      expect(await queue.complete(work.id, r.id, 1, 'done', result, at(121))).toBe('completed');
      expect(await queue.complete(work.id, r.id, 1, 'failed', { error: 'late' }, at(122))).toBe('duplicate');
      expect(await queue.get(work.id)).toMatchObject({ status: 'done', result, updatedAt: at(121), resultAppliedAt: null });

      expect(await queue.markResultApplied(work.id, at(130))).toBe(true);
      expect(await queue.markResultApplied(work.id, at(131))).toBe(false);
      expect((await queue.get(work.id))?.resultAppliedAt).toEqual(at(130));
    });

    it('refuses a result past the deadline', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const work = await queue.enqueue(item(g, { kind: 'test-connection', payload: {}, deadlineAt: at(200) }), at(10));
      await queue.claim(r.id, g, { max: 1, staleBefore: at(50) }, at(110));
      expect(await queue.complete(work.id, r.id, 1, 'done', { ok: true }, at(200))).toBe('closed');
      expect((await queue.get(work.id))?.status).toBe('delivered');
    });
  });

  describe('payloads and results of any size', () => {
    it('keeps an export payload of megabytes intact through enqueue, claim, get and the lookup by key', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const payload = largeExportPayload();
      const text = JSON.stringify(payload);
      expect(text.length).toBeGreaterThan(2_000_000);
      const key = randomUUID().replace(/-/g, '');
      const large = await queue.enqueue(item(g, { kind: 'export', workKey: key, payload }), at(10));
      const small = await queue.enqueue(item(g), at(11));
      const another = await queue.enqueue(item(g, { kind: 'export', workKey: randomUUID(), payload: largeExportPayload() }), at(12));
      expect(large.payload).toEqual(payload);

      // The column holds a marker; the text is in pieces, some of which end in the middle of an emoji.
      const count = Math.ceil(text.length / BATCH_PART_LENGTH);
      expect(JSON.parse((await rawColumns(large.id)).payload)).toEqual({ $parts: count });
      expect(await pieces(large.id, 'payload')).toBe(count);
      const stored = await dataSource.getRepository(RelayItemPartEntity).findBy({ workItemId: large.id, field: 'payload' });
      expect(stored.some((piece) => /[\uD800-\uDBFF]$/.test(piece.content))).toBe(true);

      // Several large items in one claim, between small ones.
      const claimed = await queue.claim(r.id, g, { max: 5, staleBefore: at(50) }, at(110));
      expect(ids(claimed)).toEqual([large.id, small.id, another.id]);
      expect(claimed[0]?.payload).toEqual(payload);
      expect(claimed[1]?.payload).toEqual({ mode: 'full', batchSize: 500 });
      expect(claimed[2]?.payload).toEqual(another.payload);
      // Replayed after a reconnect: read again from the pieces.
      expect((await queue.claim(r.id, g, { max: 5, staleBefore: at(50) }, at(111)))[0]?.payload).toEqual(payload);

      expect(await queue.get(large.id)).toEqual({ ...large, status: 'delivered', relayId: r.id, attempts: 1, updatedAt: at(110) });
      expect(await queue.findUnappliedByKey(connectorId, key)).toMatchObject({ id: large.id, payload });
    });

    it('writes a result of megabytes with the completion only, and reads it back intact', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const other = await relay(g, at(100));
      const key = randomUUID().replace(/-/g, '');
      const work = await queue.enqueue(item(g, { kind: 'export', workKey: key, payload: { changes: [] } }), at(10));
      await queue.claim(r.id, g, { max: 1, staleBefore: at(50) }, at(110));
      const result = largeExportResult();
      const text = JSON.stringify(result);
      expect(text.length).toBeGreaterThan(1_000_000);

      // Refused results leave no pieces behind.
      expect(await queue.complete(work.id, other.id, 1, 'done', result, at(120))).toBe('not-yours');
      expect(await queue.complete(work.id, r.id, 2, 'done', result, at(120))).toBe('closed');
      expect(await pieces(work.id)).toBe(0);
      expect(await queue.get(work.id)).toMatchObject({ status: 'delivered', result: null });

      expect(await queue.complete(work.id, r.id, 1, 'done', result, at(121))).toBe('completed');
      const count = Math.ceil(text.length / BATCH_PART_LENGTH);
      expect(await pieces(work.id, 'result')).toBe(count);
      expect(JSON.parse((await rawColumns(work.id)).result ?? 'null')).toEqual({ $parts: count });
      // The same delivery's result again changes nothing.
      expect(await queue.complete(work.id, r.id, 1, 'done', result, at(122))).toBe('duplicate');
      expect(await pieces(work.id)).toBe(count);

      expect(await queue.get(work.id)).toMatchObject({ status: 'done', payload: { changes: [] }, result, updatedAt: at(121) });
      expect((await queue.findUnappliedByKey(connectorId, key))?.result).toEqual(result);
    });

    it('keeps payloads and results up to the inline length in their columns', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const payload: JsonObject = { changes: [{ id: 'c1', value: 'Ünïcödé 😀' }] };
      const filler = { changes: [] as string[], pad: '' };
      filler.pad = 'é'.repeat(INLINE_JSON_LENGTH - JSON.stringify(filler).length);
      expect(JSON.stringify(filler)).toHaveLength(INLINE_JSON_LENGTH);
      const small = await queue.enqueue(item(g, { kind: 'export', workKey: randomUUID(), payload }), at(10));
      const atLimit = await queue.enqueue(item(g, { kind: 'export', workKey: randomUUID(), payload: filler }), at(11));
      // A caller's value shaped like the marker is kept in pieces, so it is never mistaken for one.
      const lookalike = await queue.enqueue(item(g, { kind: 'test-connection', payload: { $parts: 2 } }), at(12));

      expect((await rawColumns(small.id)).payload).toBe(JSON.stringify(payload));
      expect((await rawColumns(atLimit.id)).payload).toBe(JSON.stringify(filler));
      expect(await pieces(small.id)).toBe(0);
      expect(await pieces(atLimit.id)).toBe(0);
      expect(await pieces(lookalike.id, 'payload')).toBe(1);

      const claimed = await queue.claim(r.id, g, { max: 5, staleBefore: at(50) }, at(110));
      expect(claimed.map((view) => view.payload)).toEqual([payload, filler, { $parts: 2 }]);
      const result = { export: { results: [{ id: 'c1', outcome: 'applied' }] } };
      expect(await queue.complete(small.id, r.id, 1, 'done', result, at(120))).toBe('completed');
      expect((await rawColumns(small.id)).result).toBe(JSON.stringify(result));
      expect(await pieces(small.id)).toBe(0);
      expect(await queue.get(small.id)).toMatchObject({ payload, result });
      expect(await queue.get(lookalike.id)).toMatchObject({ payload: { $parts: 2 } });
    });
  });

  describe('finding the item of a run or an export batch', () => {
    it('finds the newest unexpired import of a run that is not fully applied', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const runId = randomUUID();
      expect(await queue.findForRun(connectorId, runId, 'import')).toBeNull();
      const expired = await queue.enqueue(item(g, { runId, deadlineAt: at(150) }), at(10));
      await queue.expireOverdue(at(150));
      expect(await queue.findForRun(connectorId, runId, 'import')).toBeNull();

      const current = await queue.enqueue(item(g, { runId }), at(20));
      await queue.enqueue(item(g, { runId: randomUUID() }), at(30));
      await queue.enqueue(item(g, { runId, kind: 'export', payload: { changes: [] } }), at(30));
      expect((await queue.findForRun(connectorId, runId, 'import'))?.id).toBe(current.id);
      expect(expired.id).not.toBe(current.id);

      await queue.claim(r.id, g, { max: 5, staleBefore: at(50) }, at(160));
      expect(await queue.stageImportBatch(current.id, r.id, 1, { seq: 1, isLast: false, payload: {} }, at(161))).toBe('staged');
      expect(await queue.stageImportBatch(current.id, r.id, 1, { seq: 2, isLast: true, payload: {} }, at(162))).toBe('staged');
      await transactions.run((tx) => queue.markBatchApplied(tx, current.id, 1, at(163)));
      expect((await queue.findForRun(connectorId, runId, 'import'))?.id).toBe(current.id);
      await transactions.run((tx) => queue.markBatchApplied(tx, current.id, 2, at(164)));
      expect(await queue.findForRun(connectorId, runId, 'import')).toBeNull();
      expect((await queue.findForRun(connectorId, runId, 'export'))?.kind).toBe('export');
    });

    it('finds an export batch by its key until its result is applied', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const key = randomUUID().replace(/-/g, '');
      expect(await queue.findUnappliedByKey(connectorId, key)).toBeNull();
      const work = await queue.enqueue(item(g, { kind: 'export', workKey: key, payload: { changes: [] } }), at(10));
      await queue.enqueue(item(g, { kind: 'export', workKey: 'another', payload: { changes: [] } }), at(11));
      expect((await queue.findUnappliedByKey(connectorId, key))?.id).toBe(work.id);
      await queue.claim(r.id, g, { max: 1, staleBefore: at(50) }, at(110));
      expect(await queue.complete(work.id, r.id, 1, 'done', { export: { results: [] } }, at(120))).toBe('completed');
      expect((await queue.findUnappliedByKey(connectorId, key))?.status).toBe('done');
      await queue.markResultApplied(work.id, at(130));
      expect(await queue.findUnappliedByKey(connectorId, key)).toBeNull();

      // Neither a failed nor an expired item can still deliver results.
      const failed = await queue.enqueue(item(g, { kind: 'export', workKey: key, payload: { changes: [] } }), at(140));
      await queue.claim(r.id, g, { max: 5, staleBefore: at(50) }, at(141));
      expect(await queue.complete(failed.id, r.id, 1, 'failed', { error: 'unreachable' }, at(142))).toBe('completed');
      await queue.enqueue(item(g, { kind: 'export', workKey: key, payload: { changes: [] }, deadlineAt: at(150) }), at(143));
      await queue.expireOverdue(at(150));
      expect(await queue.findUnappliedByKey(connectorId, key)).toBeNull();
    });
  });

  describe('purge', () => {
    // Purge works on the whole table: this test's items live a year before every other test's, so a cut-off finds only them.
    const early = (seconds: number) => at(seconds - 365 * 24 * HOUR);

    it('deletes items closed before the cut-off with their staged batches and pieces, and never an open one', async () => {
      const g = group();
      const r = await relay(g, at(100));
      const done = await queue.enqueue(item(g), early(10));
      const open = await queue.enqueue(item(g), early(11));
      const expired = await queue.enqueue(item(g, { deadlineAt: early(150) }), early(12));
      const recent = await queue.enqueue(item(g, { kind: 'test-connection', payload: {} }), early(13));
      const large = await queue.enqueue(item(g, { kind: 'export', workKey: randomUUID(), payload: largeExportPayload() }), early(14));
      await queue.claim(r.id, g, { max: 2, staleBefore: early(50) }, early(110));
      await queue.stageImportBatch(done.id, r.id, 1, { seq: 1, payload: { changes: ['x'.repeat(25_000)] }, isLast: true }, early(111));
      expect(await queue.complete(done.id, r.id, 1, 'done', {}, early(112))).toBe('completed');
      await queue.expireOverdue(early(200));
      expect(ids(await queue.claim(r.id, g, { max: 5, staleBefore: early(50) }, early(300)))).toEqual(expect.arrayContaining([recent.id, large.id]));
      expect(await queue.complete(large.id, r.id, 1, 'done', largeExportResult(), early(301))).toBe('completed');
      expect(await pieces(large.id, 'payload')).toBeGreaterThan(0);
      expect(await pieces(large.id, 'result')).toBeGreaterThan(0);
      expect(await queue.complete(recent.id, r.id, 1, 'done', {}, early(3_000))).toBe('completed');

      expect(await queue.purgeClosed(early(1_000))).toBe(3);
      expect(await queue.get(done.id)).toBeNull();
      expect(await queue.get(expired.id)).toBeNull();
      expect(await queue.get(large.id)).toBeNull();
      expect(await dataSource.getRepository(RelayBatchPartEntity).countBy({ workItemId: done.id })).toBe(0);
      expect(await dataSource.getRepository(RelayResultBatchEntity).countBy({ workItemId: done.id })).toBe(0);
      expect(await pieces(large.id)).toBe(0);
      // Open work stays whatever its age; a recently closed item stays until it is old enough.
      expect(await queue.get(open.id)).toMatchObject({ status: 'delivered' });
      expect(await queue.get(recent.id)).toMatchObject({ status: 'done' });
      expect(await queue.purgeClosed(early(1_000))).toBe(0);
      expect(await queue.purgeClosed(early(3_001), 1)).toBe(1);
      expect(await queue.get(recent.id)).toBeNull();
    });
  });
});
