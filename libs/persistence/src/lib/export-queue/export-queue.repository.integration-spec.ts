import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { ConnectorSpaceRepository } from '../connector-space/connector-space.repository';
import { insertConnectorWithRun, staged, StatementCounter } from '../testing/connector-space-fixtures';
import { TransactionRunner } from '../transaction/transaction';
import type { ExportChangeBody } from './export-change';
import { ClaimRequest, ExportBackoff, ExportQueueRepository, NewExportItem } from './export-queue.repository';

jest.setTimeout(120_000);

const NO_WAIT: ExportBackoff = { baseMs: 0, maxMs: 0 };

describe.each(TEST_DIALECTS)('export queue on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  const counter = new StatementCounter();
  let queue: ExportQueueRepository;
  let space: ConnectorSpaceRepository;
  let transactions: TransactionRunner;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: counter.onQuery });
    await migrateDatabase(dataSource);
    queue = new ExportQueueRepository(dataSource);
    space = new ConnectorSpaceRepository(dataSource);
    transactions = new TransactionRunner(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** A connector with `count` staged objects P0000…, as the sync finds them. */
  async function connectorWith(count: number): Promise<{ connectorId: string; runId: string; cso: (n: number) => Promise<string> }> {
    const { connectorId, runId } = await insertConnectorWithRun(dataSource);
    const anchors = Array.from({ length: count }, (_, i) => `P${String(i).padStart(4, '0')}`);
    await transactions.run((tx) =>
      space.stageImportBatch(tx, { connectorId, runId, upserts: anchors.map((a) => staged(a, { mail: [`${a}@example.com`] })), deletes: [], unreadable: [], markSeen: false, now: new Date() }),
    );
    const ids = new Map((await space.list(connectorId, { limit: 10_000 })).map((o) => [o.anchor, o.id]));
    return { connectorId, runId, cso: async (n) => ids.get(`P${String(n).padStart(4, '0')}`) as string };
  }

  const item = (connectorId: string, csObjectId: string, runId: string, change: Omit<ExportChangeBody, 'objectType'>): NewExportItem => ({
    connectorId,
    csObjectId,
    runId,
    operation: change.kind,
    change: { objectType: 'person', ...change },
  });
  const enqueue = (items: NewExportItem[], now = new Date()) => transactions.run((tx) => queue.enqueue(tx, items, { now }));
  const claim = (request: Omit<ClaimRequest, 'limit' | 'now'> & { limit?: number; now?: Date }) => transactions.run((tx) => queue.claim(tx, { limit: 100, now: new Date(), ...request }));
  const succeed = (ids: string[]) => transactions.run((tx) => queue.recordResults(tx, { succeeded: ids, failed: [], maxAttempts: 5, backoff: NO_WAIT, now: new Date() }));
  const pendingExportOf = async (connectorId: string, csObjectId: string) => (await space.list(connectorId, { limit: 10_000 })).find((o) => o.id === csObjectId)?.pendingExport;

  it('queues changes set-based and marks each object with the operation it has to send first', async () => {
    const { connectorId, runId, cso } = await connectorWith(2_000);
    const ids = await Promise.all(Array.from({ length: 2_000 }, (_, i) => cso(i)));
    const { statements } = await counter.count(() => enqueue(ids.map((id, i) => item(connectorId, id, runId, { kind: 'add', anchor: `P${i}`, attributes: { mail: { op: 'replace', values: [`p${i}@example.com`] } } }))));
    // BEGIN, lock the objects, read their chains, insert the items, set pendingExport, COMMIT.
    expect(statements).toBeLessThanOrEqual(6);
    expect(await queue.list(connectorId, { status: 'pending', limit: 5_000 })).toHaveLength(2_000);
    expect(await pendingExportOf(connectorId, ids[7])).toBe('add');
    expect((await queue.counts(connectorId)).pending.add).toBe(2_000);
  });

  it('merges a newer change into one never sent: the older is superseded, one new item with a new id keeps its place', async () => {
    const { connectorId, runId, cso } = await connectorWith(3);
    const [a, b] = [await cso(0), await cso(1)];
    const first = new Date(Date.now() - 60_000);
    await enqueue([item(connectorId, a, runId, { kind: 'add', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['old@example.com'] } } })], first);
    const [older] = await queue.list(connectorId, { csObjectId: a });
    // Two changes of b in one call merge as well.
    await enqueue([
      item(connectorId, a, runId, { kind: 'update', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['new@example.com'] }, title: { op: 'add', values: ['Dr'] } } }),
      item(connectorId, b, runId, { kind: 'update', anchor: 'P1', attributes: { mail: { op: 'replace', values: ['b1@example.com'] } } }),
      item(connectorId, b, runId, { kind: 'delete', anchor: 'P1' }),
    ]);

    const chainA = await queue.list(connectorId, { csObjectId: a });
    expect(chainA.map((i) => [i.id === older.id, i.status])).toEqual([
      [true, 'superseded'],
      [false, 'pending'],
    ]);
    const merged = chainA[1];
    expect(merged).toMatchObject({ operation: 'add', attempts: 0, seq: 2, change: { kind: 'add', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['new@example.com'] }, title: { op: 'replace', values: ['Dr'] } } } });
    expect(merged.createdAt.getTime()).toBe(older.createdAt.getTime());
    expect(await pendingExportOf(connectorId, a)).toBe('add');

    const chainB = await queue.list(connectorId, { csObjectId: b });
    expect(chainB.map((i) => `${i.operation}:${i.status}`)).toEqual(['delete:pending']);
    expect(await pendingExportOf(connectorId, b)).toBe('delete');
  });

  it('never rewrites a change once sent: the newer one waits behind it and is claimed only after it finished', async () => {
    const { connectorId, runId, cso } = await connectorWith(2);
    const a = await cso(0);
    await enqueue([item(connectorId, a, runId, { kind: 'update', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['one@example.com'] } } })]);
    const sent = await claim({ connectorId, operation: 'update' });
    expect(sent.items).toHaveLength(1);
    await enqueue([item(connectorId, a, runId, { kind: 'update', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['two@example.com'] } } })]);

    const chain = await queue.list(connectorId, { csObjectId: a });
    expect(chain.map((i) => [i.status, i.seq])).toEqual([
      ['in-flight', 1],
      ['pending', 2],
    ]);
    expect((await claim({ connectorId, operation: 'update' })).items).toEqual([]);
    // An in-flight item is re-sent only when asked for as an orphan of an earlier run.
    expect((await claim({ connectorId, operation: 'update', orphans: true })).items.map((i) => i.id)).toEqual([sent.items[0].id]);

    await succeed([sent.items[0].id]);
    const next = await claim({ connectorId, operation: 'update' });
    expect(next.items.map((i) => i.change.attributes)).toEqual([{ mail: { op: 'replace', values: ['two@example.com'] } }]);
    // A third change finds the second in flight: again its own item.
    await enqueue([item(connectorId, a, runId, { kind: 'update', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['three@example.com'] } } })]);
    expect((await queue.list(connectorId, { csObjectId: a, status: 'pending' })).map((i) => i.seq)).toEqual([3]);
  });

  it('claims due items in keyset-paged batches, in queue order, each once per pass', async () => {
    const { connectorId, runId, cso } = await connectorWith(5);
    const base = Date.now() - 10_000;
    for (let i = 0; i < 5; i++) await enqueue([item(connectorId, await cso(i), runId, { kind: 'add', anchor: `P${i}` })], new Date(base + i * 1_000));
    const seen: string[] = [];
    let page = await claim({ connectorId, operation: 'add', limit: 2 });
    while (page.items.length > 0) {
      seen.push(...page.items.map((i) => i.change.anchor as string));
      if (!page.more) break;
      page = await claim({ connectorId, operation: 'add', limit: 2, after: page.cursor });
    }
    expect(seen).toEqual(['P0', 'P1', 'P2', 'P3', 'P4']);
    expect((await claim({ connectorId, operation: 'update' })).items).toEqual([]);
  });

  it('retries a failure with exponential backoff and jitter, and parks it after the maximum attempts; a parked item blocks nothing', async () => {
    const { connectorId, runId, cso } = await connectorWith(2);
    const a = await cso(0);
    await enqueue([item(connectorId, a, runId, { kind: 'add', anchor: 'P0' })]);
    const backoff: ExportBackoff = { baseMs: 10_000, maxMs: 25_000, random: () => 0.5 };
    let now = new Date();
    const expectedDelays = [7_500, 15_000];
    for (const [attempt, delay] of expectedDelays.entries()) {
      const [claimed] = (await claim({ connectorId, operation: 'add', now })).items;
      expect(claimed).toMatchObject({ id: expect.any(String), attempts: attempt });
      const [recorded] = await transactions.run((tx) =>
        queue.recordResults(tx, { succeeded: [], failed: [{ id: claimed.id, attempts: claimed.attempts, error: 'OBJECT_REJECTED: mail is taken', retryable: true }], maxAttempts: 3, backoff, now }),
      );
      expect(recorded).toEqual({ id: claimed.id, status: 'pending', attempts: attempt + 1, nextAttemptAt: new Date(now.getTime() + delay) });
      // Not due before its time.
      expect((await claim({ connectorId, operation: 'add', now: new Date(now.getTime() + delay - 1_000) })).items).toEqual([]);
      now = new Date(now.getTime() + delay + 1_000);
    }
    const [last] = (await claim({ connectorId, operation: 'add', now })).items;
    await transactions.run((tx) => queue.recordResults(tx, { succeeded: [], failed: [{ id: last.id, attempts: last.attempts, error: 'OBJECT_REJECTED: mail is taken', retryable: true }], maxAttempts: 3, backoff, now }));
    expect(await queue.findById(last.id)).toMatchObject({ status: 'parked', attempts: 3, lastError: 'OBJECT_REJECTED: mail is taken', nextAttemptAt: null });
    expect(await pendingExportOf(connectorId, a)).toBe('add');

    // A newer change of the parked object is not merged into it (it was sent) and is not held up by it.
    await enqueue([item(connectorId, a, runId, { kind: 'update', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['free@example.com'] } } })]);
    expect((await claim({ connectorId, operation: 'update', now })).items).toHaveLength(1);
    expect((await queue.counts(connectorId)).parked).toBe(1);

    // A refusal the connector calls final waits the longest delay.
    const b = await cso(1);
    await enqueue([item(connectorId, b, runId, { kind: 'add', anchor: 'P1' })]);
    const [refused] = (await claim({ connectorId, operation: 'add', now })).items;
    const [recorded] = await transactions.run((tx) => queue.recordResults(tx, { succeeded: [], failed: [{ id: refused.id, attempts: 0, error: 'no', retryable: false }], maxAttempts: 3, backoff, now }));
    expect(recorded.nextAttemptAt).toEqual(new Date(now.getTime() + 25_000));
  });

  it('gives a batch back after a connector failure without counting an attempt, and never merges into it', async () => {
    const { connectorId, runId, cso } = await connectorWith(1);
    const a = await cso(0);
    await enqueue([item(connectorId, a, runId, { kind: 'update', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['x'] } } })]);
    const [sent] = (await claim({ connectorId, operation: 'update' })).items;
    const now = new Date();
    expect(await transactions.run((tx) => queue.returnToPending(tx, [sent.id], { error: 'CONNECTOR_UNREACHABLE: down', backoff: { baseMs: 4_000, maxMs: 60_000, random: () => 1 }, now }))).toBe(1);
    const returned = await queue.findById(sent.id);
    expect(returned).toMatchObject({ status: 'pending', attempts: 0, lastError: 'CONNECTOR_UNREACHABLE: down', lastAttemptAt: expect.any(Date) });
    // MariaDB keeps whole seconds.
    expect(Math.abs((returned?.nextAttemptAt?.getTime() ?? 0) - (now.getTime() + 4_000))).toBeLessThan(1_000);
    await enqueue([item(connectorId, a, runId, { kind: 'update', anchor: 'P0', attributes: { mail: { op: 'replace', values: ['y'] } } })]);
    expect((await queue.list(connectorId, { csObjectId: a })).map((i) => [i.status, i.seq])).toEqual([
      ['pending', 1],
      ['pending', 2],
    ]);
  });

  it('sends a delete only once a run let it through the threshold; holds wait for an approval that releases exactly them', async () => {
    const { connectorId, runId, cso } = await connectorWith(6);
    const holder = randomUUID();
    const other = randomUUID();
    for (let i = 0; i < 3; i++) await enqueue([item(connectorId, await cso(i), runId, { kind: 'delete', anchor: `P${i}` })]);
    expect(await queue.counts(connectorId)).toMatchObject({ uncheckedDeletes: 3, admittedDeletes: 0, heldDeletes: 0 });
    expect((await claim({ connectorId, operation: 'delete' })).items).toEqual([]);

    expect(await transactions.run((tx) => queue.holdDeletes(tx, connectorId, holder, new Date(Date.now() - 5_000)))).toBe(3);
    // Deletes queued after the hold belong to the next check, held by another run.
    await enqueue([item(connectorId, await cso(3), runId, { kind: 'delete', anchor: 'P3' })]);
    expect(await transactions.run((tx) => queue.holdDeletes(tx, connectorId, other, new Date()))).toBe(1);
    expect(await queue.counts(connectorId)).toMatchObject({ uncheckedDeletes: 0, heldDeletes: 4 });
    expect((await claim({ connectorId, operation: 'delete' })).items).toEqual([]);
    // A held delete is never merged with a newer change.
    await enqueue([item(connectorId, await cso(0), runId, { kind: 'delete', anchor: 'P0' })]);
    expect((await queue.list(connectorId, { csObjectId: await cso(0) })).map((i) => i.status)).toEqual(['held-for-approval', 'pending']);

    expect(await transactions.run((tx) => queue.releaseHeldDeletes(tx, connectorId, holder, new Date()))).toBe(3);
    const released = await claim({ connectorId, operation: 'delete' });
    expect(released.items.map((i) => i.change.anchor).sort()).toEqual(['P0', 'P1', 'P2']);
    expect(released.items.every((i) => i.thresholdRunId === holder)).toBe(true);
    expect(await queue.counts(connectorId)).toMatchObject({ heldDeletes: 1, uncheckedDeletes: 1 });

    // An approval given before a hold does not release it.
    expect(await transactions.run((tx) => queue.releaseHeldDeletes(tx, connectorId, other, new Date(), new Date(Date.now() - 60_000)))).toBe(0);

    await enqueue([item(connectorId, await cso(5), runId, { kind: 'delete', anchor: 'P5' })]);
    // Within the threshold: held and let go again in one check.
    const checker = randomUUID();
    expect(await transactions.run(async (tx) => [await queue.holdDeletes(tx, connectorId, checker, new Date()), await queue.releaseHeldDeletes(tx, connectorId, checker, new Date())])).toEqual([2, 2]);
    expect((await claim({ connectorId, operation: 'delete' })).items.map((i) => i.change.anchor)).toEqual(['P5']);
  });

  it('records confirmations once', async () => {
    const { connectorId, runId, cso } = await connectorWith(2);
    const [a, b] = [await cso(0), await cso(1)];
    await enqueue([item(connectorId, a, runId, { kind: 'update', anchor: 'P0' }), item(connectorId, b, runId, { kind: 'update', anchor: 'P1' })]);
    const { items } = await claim({ connectorId, operation: 'update' });
    await succeed(items.map((i) => i.id));
    const waiting = await transactions.run((tx) => queue.awaitingConfirmation(tx, [a, b]));
    expect(waiting).toHaveLength(2);
    await transactions.run((tx) => queue.recordConfirmations(tx, { confirmed: [waiting[0].id], notConfirmed: [waiting[1].id] }, new Date()));
    expect(await transactions.run((tx) => queue.awaitingConfirmation(tx, [a, b]))).toEqual([]);
    expect((await queue.findById(waiting[1].id))?.confirmation).toBe('not-confirmed');
  });
});
