import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { ConnectorError, ConnectorFactory, sqlConnectorFactory } from '@identitymesh/connector-sdk';
import { MetricsRegistry } from '@identitymesh/platform';
import {
  AuditRepository,
  connectDatabase,
  ConnectorDefinition,
  ConnectorEntity,
  ConnectorLeaseRepository,
  ConnectorRepository,
  ConnectorSpaceObjectEntity,
  ConnectorSpaceRepository,
  ExportChangeBody,
  ExportQueueItemEntity,
  ExportQueueRepository,
  JsonObject,
  LeaseGrant,
  migrateDatabase,
  RunChangeRepository,
  RunRepository,
  RunView,
  TransactionRunner,
  WatermarkRepository,
} from '@identitymesh/persistence';
import type { RunProfile } from '@identitymesh/domain';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { ConnectorHost } from '../connectors/connector-host.service';
import { hashObject } from '../import/import-staging';
import { ImportRunner } from '../import/import-runner.service';
import { RunContext, RunOutcome } from '../runs/run-context';
import { InMemorySystem } from '../testing/in-memory-connector';
import { ConfirmingImportRunner } from './confirming-import-runner.service';
import { ExportRunner } from './export-runner.service';

jest.setTimeout(120_000);

const ENGINE = 'engine-under-test';

describe.each(['sqlite', 'postgres'] as const)('export runs on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let dataDir: string;
  let statements = 0;
  let counting = false;
  let connectors: ConnectorRepository;
  let runs: RunRepository;
  let leases: ConnectorLeaseRepository;
  let space: ConnectorSpaceRepository;
  let queue: ExportQueueRepository;
  let audit: AuditRepository;
  let changes: RunChangeRepository;
  let transactions: TransactionRunner;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    dataDir = mkdtempSync(join(tmpdir(), 'im-export-'));
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: () => void (counting && statements++) });
    await migrateDatabase(dataSource);
    connectors = new ConnectorRepository(dataSource);
    runs = new RunRepository(dataSource);
    leases = new ConnectorLeaseRepository(dataSource);
    space = new ConnectorSpaceRepository(dataSource);
    queue = new ExportQueueRepository(dataSource);
    audit = new AuditRepository(dataSource);
    changes = new RunChangeRepository(dataSource);
    transactions = new TransactionRunner(dataSource);
  });
  afterAll(async () => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await dataSource?.destroy();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  interface Limits {
    batchSize?: number;
    errorThreshold?: number | null;
    deletionThresholdCount?: number;
    deletionThresholdPercent?: number;
    exportMaxAttempts?: number;
  }

  /** Runners as the engine wires them, over one connector of `factory`'s type. Retries are due at once (no timed waits). */
  async function setUp(limits: Limits = {}, factory?: ConnectorFactory, config: JsonObject = {}) {
    const system = new InMemorySystem();
    const metrics = new MetricsRegistry();
    const host = new ConnectorHost([factory ?? system.factory('scim')], { resolve: async () => 'unused' });
    const settings = SyncEngineConfig.load({ IM_DATA_DIR: dataDir, IM_ENGINE_EXPORT_RETRY_SECONDS: '0', IM_ENGINE_EXPORT_RETRY_MAX_SECONDS: '0' }, '/');
    const exporter = new ExportRunner(host, transactions, leases, queue, space, runs, changes, audit, settings, metrics);
    const importer = new ImportRunner(host, transactions, leases, space, runs, new WatermarkRepository(dataSource), metrics);
    const confirmer = new ConfirmingImportRunner(importer, queue);
    const created = await connectors.create({ name: `target ${randomUUID()}`, type: (factory?.type ?? 'scim') as 'scim', config, batchSize: limits.batchSize ?? 500, errorThreshold: limits.errorThreshold ?? null });
    const safety = { deletionThresholdCount: limits.deletionThresholdCount, deletionThresholdPercent: limits.deletionThresholdPercent, exportMaxAttempts: limits.exportMaxAttempts };
    const given = Object.fromEntries(Object.entries(safety).filter(([, value]) => value !== undefined));
    // The Admin API sets these limits; connectors.create takes only what an import needs.
    if (Object.keys(given).length > 0) await dataSource.getRepository(ConnectorEntity).update({ id: created.id }, given);
    const connector = (await connectors.findById(created.id)) as ConnectorDefinition;
    return { system, metrics, exporter, importer, confirmer, connector };
  }

  /** What the run queue and the executor do around a run: lease, claim, run, record, release. */
  async function runOnce(runner: { run(context: RunContext): Promise<RunOutcome> }, connector: ConnectorDefinition, profile: RunProfile, options: { preview?: boolean; existing?: RunView; controller?: AbortController } = {}) {
    if (!options.existing) await runs.queue({ connectorId: connector.id, profile, trigger: 'manual', preview: options.preview ?? false });
    const lease = (await leases.acquire(connector.id, ENGINE, { now: new Date(), durationMs: 60_000, takeover: 'always' })) as LeaseGrant;
    await runs.recoverInterrupted(connector.id, { now: new Date(), maxRecoveries: 5 });
    const run = (await runs.claimNext(ENGINE, { now: new Date(), connectorId: connector.id, fencingToken: lease.fencingToken })) as RunView;
    const outcome = await runner.run({ run, connector, lease, engineInstanceId: ENGINE, signal: (options.controller ?? new AbortController()).signal });
    if (outcome.kind === 'finished') await runs.finish(run.id, ENGINE, lease.fencingToken, { status: outcome.status, message: outcome.message, now: new Date() });
    if (outcome.kind === 'interrupted') await runs.requeue(run.id, ENGINE, lease.fencingToken, outcome.message);
    await leases.release(connector.id, ENGINE, lease.fencingToken, new Date());
    return { outcome, run: (await runs.findById(run.id)) as RunView };
  }

  /** Objects a provisioning rule created in the target: staged before they exist in the system, their add queued. */
  async function provision(connector: ConnectorDefinition, count: number, options: { provisionalAnchors?: boolean; from?: number } = {}) {
    const now = new Date();
    const rows: ConnectorSpaceObjectEntity[] = [];
    const items: Array<{ csObjectId: string; change: ExportChangeBody }> = [];
    for (let i = options.from ?? 0; i < (options.from ?? 0) + count; i++) {
      const id = `E${String(i).padStart(5, '0')}`;
      const dn = `uid=${id},ou=People,dc=example,dc=com`;
      const attributes = { employeeId: [id], mail: [`${id.toLowerCase()}@example.com`] };
      const anchor = options.provisionalAnchors ? `provisional:${randomUUID()}` : id;
      const row: ConnectorSpaceObjectEntity = {
        id: randomUUID(),
        connectorId: connector.id,
        objectType: 'person',
        anchor,
        distinguishedName: dn,
        dnHash: null,
        attributes,
        attributeHash: hashObject(dn, attributes),
        meshObjectId: null,
        isDisconnector: false,
        pendingImport: 'none',
        pendingImportDelta: null,
        pendingExport: null,
        lastRunId: null,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      rows.push(row);
      const change: ExportChangeBody = { kind: 'add', objectType: 'person', dn, attributes: { employeeId: { op: 'replace', values: [id] }, mail: { op: 'replace', values: attributes.mail } } };
      if (!options.provisionalAnchors) change.anchor = id;
      items.push({ csObjectId: row.id, change });
    }
    for (let i = 0; i < rows.length; i += 500) await dataSource.getRepository(ConnectorSpaceObjectEntity).insert(rows.slice(i, i + 500).map((row) => ({ ...row })));
    await enqueue(connector, items);
    return rows;
  }

  async function enqueue(connector: ConnectorDefinition, items: Array<{ csObjectId: string; change: ExportChangeBody }>) {
    const runId = randomUUID();
    await transactions.run((tx) => queue.enqueue(tx, items.map((item) => ({ connectorId: connector.id, csObjectId: item.csObjectId, operation: item.change.kind, change: item.change, runId }))));
  }

  /** People already in the system and staged by a full import, as a sync finds its targets. */
  async function existing(setup: Awaited<ReturnType<typeof setUp>>, count: number) {
    for (let i = 0; i < count; i++) {
      const id = `E${String(i).padStart(5, '0')}`;
      setup.system.upsert('person', id, { employeeId: [id], mail: [`${id.toLowerCase()}@example.com`] }, `uid=${id},ou=People,dc=example,dc=com`);
    }
    const { run } = await runOnce(setup.importer, setup.connector, 'full-import');
    expect(run.status).toBe('succeeded');
    return new Map((await space.list(setup.connector.id, { limit: 10_000 })).map((object) => [object.anchor, object]));
  }

  const update = (anchor: string, mail: string): ExportChangeBody => ({ kind: 'update', objectType: 'person', anchor, attributes: { mail: { op: 'replace', values: [mail] } } });
  const remove = (anchor: string): ExportChangeBody => ({ kind: 'delete', objectType: 'person', anchor });
  const exportsOf = (system: InMemorySystem) => system.exportBatches.flat();
  const auditOf = async (csObjectId: string) => (await audit.recent(100, { targetType: 'connector-space-object', targetId: csObjectId })).filter((event) => event.action.startsWith('export.'));

  it('exports 2,000 adds in batches within the statement budget: one audit entry each, objects hold what was written', async () => {
    const { system, exporter, connector } = await setUp();
    const rows = await provision(connector, 2_000);

    counting = true;
    statements = 0;
    const { outcome, run } = await runOnce(exporter, connector, 'export');
    counting = false;

    expect(outcome).toEqual({ kind: 'finished', status: 'succeeded', message: 'export succeeded: 2000 change(s) sent in 4 batch(es): 2000 added, 0 updated, 0 renamed, 0 deleted (0 of them already in place), 0 failed (0 parked)' });
    expect(run).toMatchObject({ status: 'succeeded', exported: 2_000, added: 2_000, errors: 0 });
    expect(system.exportBatches.map((batch) => batch.length)).toEqual([500, 500, 500, 500]);
    expect(system.all()).toHaveLength(2_000);
    expect(system.closed).toBe(1);
    // Everything the engine sends for the run: queueing, lease, claim, four claims and four result commits, the end. A count, not a time.
    expect(statements / 2_000).toBeLessThanOrEqual(0.05);
    process.stdout.write(`${dialect}: export run of 2,000 adds: ${statements} statements\n`);

    const sample = (await space.list(connector.id, { limit: 10_000 })).find((object) => object.id === rows[7].id);
    expect(sample).toMatchObject({ pendingExport: null, attributes: { employeeId: ['E00007'], mail: ['e00007@example.com'] }, attributeHash: rows[7].attributeHash });
    expect(await queue.list(connector.id, { status: 'succeeded', limit: 5_000 })).toHaveLength(2_000);
    const [entry] = await auditOf(rows[7].id);
    expect(entry).toMatchObject({ actorType: 'engine', actor: ENGINE, action: 'export.add', runId: run.id, before: null, after: { anchor: 'E00007', outcome: 'applied', attributes: { mail: ['e00007@example.com'] } } });
  });

  it('R6: one object that always fails never blocks the rest; it is parked after the maximum attempts with its error', async () => {
    const { system, exporter, connector } = await setUp({ exportMaxAttempts: 3, batchSize: 4 });
    const rows = await provision(connector, 10);
    system.exportFailures.set('E00005', { code: 'OBJECT_CONSTRAINT_VIOLATION', message: 'mail e00005@example.com is taken', retryable: true });

    const first = await runOnce(exporter, connector, 'export');
    expect(first.run).toMatchObject({ status: 'completed-with-errors', exported: 9, errors: 1 });
    expect(system.all().map((o) => o.anchor).sort()).toEqual(['E00000', 'E00001', 'E00002', 'E00003', 'E00004', 'E00006', 'E00007', 'E00008', 'E00009']);
    const [poison] = await queue.list(connector.id, { csObjectId: rows[5].id });
    expect(poison).toMatchObject({ status: 'pending', attempts: 1, lastError: 'OBJECT_CONSTRAINT_VIOLATION: mail e00005@example.com is taken' });
    expect((await runs.listObjectErrors(first.run.id))[0]).toMatchObject({ code: 'OBJECT_CONSTRAINT_VIOLATION', csObjectId: rows[5].id, message: expect.stringContaining('attempt 1 of 3; retried later') });

    // Other changes keep flowing while it fails.
    await enqueue(connector, [{ csObjectId: rows[1].id, change: update('E00001', 'new1@example.com') }]);
    const second = await runOnce(exporter, connector, 'export');
    expect(second.run).toMatchObject({ status: 'completed-with-errors', exported: 1, errors: 1 });
    expect(system.get('person', 'E00001')?.attributes['mail']).toEqual(['new1@example.com']);

    const third = await runOnce(exporter, connector, 'export');
    expect(third.run).toMatchObject({ status: 'completed-with-errors', exported: 0, errors: 1 });
    expect(await queue.findById(poison.id)).toMatchObject({ status: 'parked', attempts: 3, lastError: 'OBJECT_CONSTRAINT_VIOLATION: mail e00005@example.com is taken' });
    expect((await runs.listObjectErrors(third.run.id))[0].message).toContain('parked after 3 failed attempt(s)');

    // Parked: not sent again, and nothing else waits for it.
    const sentBefore = exportsOf(system).length;
    await enqueue(connector, [{ csObjectId: rows[2].id, change: update('E00002', 'new2@example.com') }]);
    const fourth = await runOnce(exporter, connector, 'export');
    expect(fourth.run).toMatchObject({ status: 'succeeded', exported: 1, errors: 0 });
    expect(exportsOf(system).slice(sentBefore).map((change) => change.anchor)).toEqual(['E00002']);
    expect((await space.list(connector.id)).find((object) => object.id === rows[5].id)?.pendingExport).toBe('add');
  });

  it('R7: deletes above the threshold delete nothing until approved; the approval releases exactly the held deletes', async () => {
    const setup = await setUp({ deletionThresholdCount: 5, deletionThresholdPercent: 100 });
    const { system, exporter, connector } = setup;
    const staged = await existing(setup, 20);
    const doomed = ['E00000', 'E00001', 'E00002', 'E00003', 'E00004', 'E00005'];
    await enqueue(connector, [...doomed.map((anchor) => ({ csObjectId: staged.get(anchor)?.id as string, change: remove(anchor) })), { csObjectId: staged.get('E00010')?.id as string, change: update('E00010', 'moved@example.com') }]);

    const held = await runOnce(exporter, connector, 'export');
    expect(held.run).toMatchObject({ status: 'held-for-approval', heldDeletes: 6, deleted: 0, exported: 1 });
    expect(held.run.message).toContain("6 delete(s) held for approval, none of them sent (the connector's deletion threshold is 5 objects or 100 % of its 20 staged objects); the other changes went out");
    expect(exportsOf(system).filter((change) => change.kind === 'delete')).toEqual([]);
    expect(system.all()).toHaveLength(20);
    expect(system.get('person', 'E00010')?.attributes['mail']).toEqual(['moved@example.com']);

    // Another run, before any approval: still nothing deleted; a delete queued since is held by that run.
    await enqueue(connector, [{ csObjectId: staged.get('E00019')?.id as string, change: remove('E00019') }]);
    const later = await runOnce(exporter, connector, 'export');
    expect(later.run).toMatchObject({ status: 'held-for-approval', heldDeletes: 1, deleted: 0 });
    expect(system.all()).toHaveLength(20);

    expect(await runs.approveHeldDeletes(held.run.id, 'ops@example.com', new Date())).toBe(true);
    const approved = (await runs.findById(held.run.id)) as RunView;
    expect(approved).toMatchObject({ status: 'queued', deletesApprovedBy: 'ops@example.com' });
    const released = await runOnce(exporter, connector, 'export', { existing: approved });
    expect(released.run.id).toBe(held.run.id);
    expect(released.run).toMatchObject({ status: 'succeeded', deleted: 6, heldDeletes: 6 });
    expect(released.run.message).toContain('6 held delete(s) approved by ops@example.com were released');
    expect(exportsOf(system).filter((change) => change.kind === 'delete').map((change) => change.anchor).sort()).toEqual(doomed);
    expect(system.all().map((object) => object.anchor)).not.toEqual(expect.arrayContaining(['E00000']));
    expect(system.get('person', 'E00019')).toBeDefined();
    const left = new Set((await space.list(connector.id, { limit: 100 })).map((object) => object.anchor));
    expect(doomed.filter((anchor) => left.has(anchor))).toEqual([]);
    expect(left.has('E00019')).toBe(true);
    expect((await queue.counts(connector.id)).heldDeletes).toBe(1);
    // A run not waiting for an approval cannot be approved.
    expect(await runs.approveHeldDeletes(held.run.id, 'ops@example.com', new Date())).toBe(false);
  });

  it('R7: a share of the connector above the percentage is held as well', async () => {
    const setup = await setUp({ deletionThresholdPercent: 10 });
    const staged = await existing(setup, 20);
    await enqueue(setup.connector, [
      { csObjectId: staged.get('E00000')?.id as string, change: remove('E00000') },
      { csObjectId: staged.get('E00001')?.id as string, change: remove('E00001') },
      { csObjectId: staged.get('E00002')?.id as string, change: remove('E00002') },
    ]);
    const { run } = await runOnce(setup.exporter, setup.connector, 'export');
    expect(run).toMatchObject({ status: 'held-for-approval', heldDeletes: 3, deleted: 0 });
    expect(setup.system.all()).toHaveLength(20);

    const small = await setUp({ deletionThresholdPercent: 10 });
    const smallStaged = await existing(small, 20);
    await enqueue(small.connector, [{ csObjectId: smallStaged.get('E00003')?.id as string, change: remove('E00003') }, { csObjectId: smallStaged.get('E00004')?.id as string, change: remove('E00004') }]);
    expect((await runOnce(small.exporter, small.connector, 'export')).run).toMatchObject({ status: 'succeeded', deleted: 2, heldDeletes: 0 });
    expect(small.system.all()).toHaveLength(18);
  });

  it('sends a batch again after the engine died between the connector call and the commit: reconciled, applied once, recorded once', async () => {
    const { system, exporter, connector } = await setUp({ batchSize: 50 });
    const rows = await provision(connector, 120);
    let calls = 0;
    system.afterExport = async () => {
      // The second batch reached the system; then its engine is gone (here: another engine takes the connector over) before the results commit.
      if (++calls === 2) await leases.acquire(connector.id, 'other-engine', { now: new Date(), durationMs: 60_000, takeover: 'always' });
    };
    const crashed = await runOnce(exporter, connector, 'export');
    expect(crashed.outcome).toMatchObject({ kind: 'lease-lost' });
    expect(crashed.run).toMatchObject({ status: 'running', exported: 50 });
    expect(system.all()).toHaveLength(100);
    const inFlight = await queue.list(connector.id, { status: 'in-flight', limit: 500 });
    expect(inFlight).toHaveLength(50);

    system.afterExport = undefined;
    const resumed = await runOnce(exporter, connector, 'export', { existing: crashed.run });
    expect(resumed.run.id).toBe(crashed.run.id);
    expect(resumed.run).toMatchObject({ status: 'succeeded', exported: 120, added: 120, recoveries: 1 });
    expect(resumed.run.message).toContain('(50 of them already in place)');
    expect(system.all()).toHaveLength(120);
    expect([...system.appliedTimes.values()].every((times) => times === 1)).toBe(true);
    expect(system.appliedTimes.size).toBe(120);
    expect(await queue.list(connector.id, { status: 'succeeded', limit: 500 })).toHaveLength(120);
    for (const row of rows) expect(await auditOf(row.id)).toHaveLength(1);
    expect((await auditOf(inFlight[0].csObjectId))[0].after).toMatchObject({ outcome: 'already-applied' });
  });

  it('stops after the batch in hand on shutdown and resumes after it', async () => {
    const { system, exporter, connector } = await setUp({ batchSize: 10 });
    await provision(connector, 25);
    const controller = new AbortController();
    system.afterExport = async () => controller.abort({ kind: 'shutdown' });
    const stopped = await runOnce(exporter, connector, 'export', { controller });
    expect(stopped.outcome).toMatchObject({ kind: 'interrupted', message: expect.stringMatching(/^interrupted: the engine is shutting down; 10 change\(s\) sent in 1 batch\(es\)/) });
    expect(stopped.run).toMatchObject({ status: 'queued', exported: 10 });

    system.afterExport = undefined;
    const resumed = await runOnce(exporter, connector, 'export', { existing: stopped.run });
    expect(resumed.run).toMatchObject({ id: stopped.run.id, status: 'succeeded', exported: 25 });
    expect(system.exportBatches.map((batch) => batch.length)).toEqual([10, 10, 5]);
  });

  it('gives the batch back when the system cannot be reached and fails the run with the reason; the next run sends everything', async () => {
    const { system, exporter, connector } = await setUp({ batchSize: 5 });
    await provision(connector, 12);
    system.exportOutage = new ConnectorError('CONNECTOR_UNREACHABLE', 'connection refused by scim.example.com', true);
    const down = await runOnce(exporter, connector, 'export');
    expect(down.run).toMatchObject({ status: 'failed', exported: 0, errors: 0 });
    expect(down.run.message).toMatch(/^export failed: CONNECTOR_UNREACHABLE: connection refused by scim.example.com; the batch of 5 change\(s\) in hand went back to the queue/);
    const items = await queue.list(connector.id, { limit: 100 });
    expect(items.filter((item) => item.lastError !== null).map((item) => [item.status, item.attempts, item.lastError])).toEqual(Array(5).fill(['pending', 0, 'CONNECTOR_UNREACHABLE: connection refused by scim.example.com']));
    expect(items.filter((item) => item.lastAttemptAt === null)).toHaveLength(7);

    system.exportOutage = undefined;
    const up = await runOnce(exporter, connector, 'export');
    expect(up.run).toMatchObject({ status: 'succeeded', exported: 12 });
    expect(system.all()).toHaveLength(12);
  });

  it('stops at the error threshold after the batch in hand; the rest stays queued', async () => {
    const { system, exporter, connector } = await setUp({ batchSize: 5, errorThreshold: 1 });
    await provision(connector, 15);
    for (let i = 0; i < 15; i++) system.exportFailures.set(`E${String(i).padStart(5, '0')}`, { code: 'OBJECT_REJECTED', message: 'no', retryable: false });
    const { outcome, run } = await runOnce(exporter, connector, 'export');
    expect(outcome).toMatchObject({ kind: 'finished', status: 'stopped-error-threshold', message: expect.stringMatching(/^stopped: 5 objects failed, more than the connector's error threshold of 1; 5 change\(s\) sent/) });
    expect(run).toMatchObject({ errors: 5, exported: 0 });
    expect(system.exportBatches).toHaveLength(1);
    expect(await queue.list(connector.id, { status: 'pending', limit: 100 })).toHaveLength(15);
  });

  it('previews an export: every change attribute by attribute, secrets redacted, and nothing written anywhere else', async () => {
    const setup = await setUp({ deletionThresholdCount: 1, deletionThresholdPercent: 100 });
    const { system, exporter, connector } = setup;
    const staged = await existing(setup, 3);
    const [added] = await provision(connector, 1, { from: 7 });
    await enqueue(connector, [
      { csObjectId: staged.get('E00000')?.id as string, change: { ...update('E00000', 'new0@example.com'), attributes: { mail: { op: 'replace', values: ['new0@example.com'] }, userPassword: { op: 'replace', values: ['hunter2'] } } } },
      { csObjectId: staged.get('E00001')?.id as string, change: remove('E00001') },
      { csObjectId: staged.get('E00002')?.id as string, change: remove('E00002') },
    ]);
    const queueBefore = await queue.list(connector.id, { limit: 100 });
    const spaceBefore = await space.list(connector.id, { limit: 100 });

    const { outcome, run } = await runOnce(exporter, connector, 'export', { preview: true });
    expect(outcome).toMatchObject({ kind: 'finished', status: 'succeeded', message: expect.stringMatching(/^preview: an export run would send 2 change\(s\) \(1 add\(s\), 1 update\(s\), 0 rename\(s\), 0 delete\(s\)\) and hold 2 delete\(s\) for approval/) });
    const report = await changes.list(run.id);
    // In the order a run sends them: adds, updates, then deletes.
    const lines = report.map((line) => `${line.changeType} ${line.objectRef}`);
    expect(lines.slice(0, 2)).toEqual([`add uid=E00007,ou=People,dc=example,dc=com`, `update uid=E00000,ou=People,dc=example,dc=com`]);
    expect(lines.slice(2).sort()).toEqual([`delete-held uid=E00001,ou=People,dc=example,dc=com`, `delete-held uid=E00002,ou=People,dc=example,dc=com`]);
    const line = (objectRef: string) => report.find((l) => l.objectRef === objectRef)?.attributes ?? {};
    expect(line('uid=E00000,ou=People,dc=example,dc=com')).toEqual({ mail: { before: ['e00000@example.com'], after: ['new0@example.com'] }, userPassword: { before: null, after: '[redacted]' } });
    expect(line('uid=E00007,ou=People,dc=example,dc=com')['mail']).toEqual({ before: null, after: ['e00007@example.com'] });
    expect(line('uid=E00001,ou=People,dc=example,dc=com')['mail']).toEqual({ before: ['e00001@example.com'], after: null });
    expect(JSON.stringify(report)).not.toContain('hunter2');

    expect(system.exportBatches).toEqual([]);
    expect(await queue.list(connector.id, { limit: 100 })).toEqual(queueBefore);
    expect(await space.list(connector.id, { limit: 100 })).toEqual(spaceBefore);
    expect(run).toMatchObject({ exported: 0, added: 0, deleted: 0, heldDeletes: 0, errors: 0 });
    expect(await auditOf(added.id)).toEqual([]);
  });

  it('replaces a provisional anchor with the one the system assigned; a confirming import then confirms the add', async () => {
    const setup = await setUp();
    setup.system.assignsAnchors = true;
    const [row] = await provision(setup.connector, 1, { provisionalAnchors: true });
    const { run } = await runOnce(setup.exporter, setup.connector, 'export');
    expect(run).toMatchObject({ status: 'succeeded', added: 1 });
    expect(setup.system.exportBatches[0][0].anchor).toBeUndefined();
    const [object] = await space.list(setup.connector.id);
    expect(object).toMatchObject({ id: row.id, anchor: 'assigned-1', pendingExport: null });

    const confirming = await runOnce(setup.confirmer, setup.connector, 'confirming-import');
    expect(confirming.run).toMatchObject({ status: 'succeeded', added: 0, updated: 0, deleted: 0, errors: 0 });
    expect((await queue.list(setup.connector.id))[0].confirmation).toBe('confirmed');
  });

  it('sends a change queued behind another change of its object in the same run (a group’s removed members, then its added ones), and tries a failed one only once', async () => {
    const setup = await setUp();
    const { system, exporter, connector } = setup;
    const dn = (id: string) => `uid=${id},ou=People,dc=example,dc=com`;
    for (const name of ['G1', 'G2']) system.upsert('group', name, { cn: [name], member: [dn('E1'), dn('E2')] }, `cn=${name},ou=Groups,dc=example,dc=com`);
    expect((await runOnce(setup.importer, connector, 'full-import')).run.status).toBe('succeeded');
    const groups = new Map((await space.list(connector.id)).map((object) => [object.anchor, object]));
    // What a sync queues for a group that lost one member and gained another: two items, the removes first.
    const memberChange = (group: string, op: 'add' | 'remove', id: string): ExportChangeBody => ({ kind: 'update', objectType: 'group', anchor: group, attributes: { member: { op, values: [dn(id)] } } });
    for (const group of ['G1', 'G2']) {
      await enqueue(connector, [
        { csObjectId: groups.get(group)?.id as string, change: memberChange(group, 'remove', 'E1') },
        { csObjectId: groups.get(group)?.id as string, change: memberChange(group, 'add', 'E3') },
      ]);
    }
    // G2's first change fails and is due again at once (no backoff here): this run must not try it twice, nor send what waits behind it.
    system.exportFailures.set('G2', { code: 'SYSTEM_BUSY', message: 'try later', retryable: true });

    const { run } = await runOnce(exporter, connector, 'export');
    expect(run).toMatchObject({ status: 'completed-with-errors', exported: 2, updated: 2, errors: 1 });
    expect(system.get('group', 'G1')?.attributes['member']).toEqual([dn('E2'), dn('E3')]);
    expect(exportsOf(system).map((change) => `${change.anchor} ${Object.values(change.attributes ?? {})[0]?.op}`)).toEqual(['G1 remove', 'G2 remove', 'G1 add']);
    const g2 = await queue.list(connector.id, { csObjectId: groups.get('G2')?.id as string });
    expect(g2.map((item) => [item.status, item.attempts])).toEqual([
      ['pending', 1],
      ['pending', 0],
    ]);

    system.exportFailures.delete('G2');
    const next = await runOnce(exporter, connector, 'export');
    expect(next.run).toMatchObject({ status: 'succeeded', exported: 2, errors: 0 });
    expect(system.get('group', 'G2')?.attributes['member']).toEqual([dn('E2'), dn('E3')]);
  });

  it('records an added object as an import stages it, its anchor attribute included, so the confirming import finds it unchanged', async () => {
    // A directory that makes up the anchor of an added entry and shows it as an attribute, as LDAP's entryUUID.
    const directory = new InMemorySystem({
      objectTypes: [
        {
          name: 'person',
          anchorAttribute: 'entryUUID',
          attributes: [
            { name: 'entryUUID', type: 'string', readOnly: true },
            { name: 'employeeId', type: 'string' },
            { name: 'mail', type: 'string' },
          ],
        },
      ],
    });
    directory.assignsAnchors = true;
    directory.afterExport = async (changes, results) => {
      for (const result of results) {
        const added = result.anchor !== undefined ? directory.get('person', result.anchor) : undefined;
        if (added) directory.upsert('person', added.anchor, { ...added.attributes, entryUUID: [added.anchor] }, added.dn);
      }
    };
    const setup = await setUp({}, directory.factory('ldap'));
    const [row] = await provision(setup.connector, 1, { provisionalAnchors: true });
    expect((await runOnce(setup.exporter, setup.connector, 'export')).run).toMatchObject({ status: 'succeeded', added: 1 });
    const [object] = await space.list(setup.connector.id);
    expect(object).toMatchObject({ id: row.id, anchor: 'assigned-1', attributes: { entryUUID: ['assigned-1'], employeeId: ['E00000'], mail: ['e00000@example.com'] } });

    const confirming = await runOnce(setup.confirmer, setup.connector, 'confirming-import');
    expect(confirming.run).toMatchObject({ status: 'succeeded', added: 0, updated: 0, deleted: 0, errors: 0 });
    expect((await space.list(setup.connector.id))[0]).toMatchObject({ pendingImport: 'none', attributeHash: object.attributeHash });
  });

  it('a confirming import confirms exports that arrived and flags those that did not', async () => {
    const setup = await setUp();
    const { system, exporter, confirmer, connector } = setup;
    const staged = await existing(setup, 5);
    await enqueue(connector, [
      { csObjectId: staged.get('E00000')?.id as string, change: update('E00000', 'kept@example.com') },
      { csObjectId: staged.get('E00001')?.id as string, change: update('E00001', 'lost@example.com') },
      { csObjectId: staged.get('E00002')?.id as string, change: update('E00002', 'gone@example.com') },
    ]);
    await runOnce(exporter, connector, 'export');
    // Behind the engine's back: the system reverts one value and loses one object.
    system.upsert('person', 'E00001', { employeeId: ['E00001'], mail: ['e00001@example.com'] }, 'uid=E00001,ou=People,dc=example,dc=com');
    system.remove('person', 'E00002');

    const { run } = await runOnce(confirmer, connector, 'confirming-import');
    expect(run).toMatchObject({ status: 'completed-with-errors', errors: 2, updated: 1, deleted: 1 });
    const errors = await runs.listObjectErrors(run.id);
    expect(errors.map((error) => [error.code, error.anchor]).sort()).toEqual([
      ['EXPORT_NOT_CONFIRMED', 'E00001'],
      ['EXPORT_NOT_CONFIRMED', 'E00002'],
    ]);
    expect(errors.find((error) => error.anchor === 'E00001')?.message).toContain('mail: the export wrote [lost@example.com], the system holds [e00001@example.com]');
    expect(errors.find((error) => error.anchor === 'E00002')?.message).toContain('the system no longer shows the object');
    const verdicts = new Map((await queue.list(connector.id, { status: 'succeeded' })).map((item) => [item.change.anchor, item.confirmation]));
    expect(Object.fromEntries(verdicts)).toEqual({ E00000: 'confirmed', E00001: 'not-confirmed', E00002: 'not-confirmed' });
    // The import staged what the system holds, for the next sync to see.
    expect((await space.findByAnchor(connector.id, 'person', 'E00001'))?.attributes['mail']).toEqual(['e00001@example.com']);

    const again = await runOnce(confirmer, connector, 'confirming-import');
    expect(again.run).toMatchObject({ status: 'succeeded', errors: 0 });
  });

  it('exports to the real SQL connector on SQLite: adds, an update, a delete, and a retried add reconciled', async () => {
    const file = join(dataDir, `people-${randomUUID()}.sqlite`);
    const target = new Database(file);
    target.exec('CREATE TABLE people (employee_id TEXT NOT NULL PRIMARY KEY, mail TEXT, display_name TEXT)');
    target.close();
    const config = {
      dialect: 'sqlite',
      connection: { file },
      objectTypes: [{ name: 'person', table: 'people', anchor: { column: 'employee_id', attribute: 'employeeId' }, dnColumn: 'display_name', attributes: [{ column: 'mail' }] }],
    };
    const setup = await setUp({ deletionThresholdPercent: 100 }, sqlConnectorFactory as ConnectorFactory, config);
    const { exporter, confirmer, connector } = setup;
    const rows = await provision(connector, 3);
    const adds = await queue.list(connector.id);
    const first = await runOnce(exporter, connector, 'export');
    expect(first.run).toMatchObject({ status: 'succeeded', added: 3 });

    await enqueue(connector, [
      { csObjectId: rows[0].id, change: update('E00000', 'changed@example.com') },
      { csObjectId: rows[1].id, change: remove('E00001') },
    ]);
    // The same add handed over again (as after a crash) finds its row with the desired values.
    await dataSource.getRepository(ExportQueueItemEntity).update({ id: adds[2].id }, { status: 'in-flight' });
    const second = await runOnce(exporter, connector, 'export');
    expect(second.run).toMatchObject({ status: 'succeeded', exported: 3, updated: 1, deleted: 1 });
    expect(second.run.message).toContain('(1 of them already in place)');

    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT employee_id, mail, display_name FROM people ORDER BY employee_id').all()).toEqual([
      { employee_id: 'E00000', mail: 'changed@example.com', display_name: 'uid=E00000,ou=People,dc=example,dc=com' },
      { employee_id: 'E00002', mail: 'e00002@example.com', display_name: 'uid=E00002,ou=People,dc=example,dc=com' },
    ]);
    check.close();
    expect((await space.list(connector.id)).map((object) => object.anchor)).toEqual(['E00000', 'E00002']);

    const confirming = await runOnce(confirmer, connector, 'confirming-import');
    expect(confirming.run).toMatchObject({ status: 'succeeded', errors: 0 });
  });
});
