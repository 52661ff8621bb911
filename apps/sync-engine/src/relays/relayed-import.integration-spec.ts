import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { MetricsRegistry } from '@identitymesh/platform';
import {
  AuditRepository,
  connectDatabase,
  ConnectorDefinition,
  ConnectorLeaseRepository,
  ConnectorRepository,
  ConnectorSpaceRepository,
  ExportQueueRepository,
  JsonObject,
  LeaseGrant,
  MeshRepository,
  migrateDatabase,
  RelayRepository,
  RelayWorkItemView,
  RelayWorkQueueRepository,
  RunChangeRepository,
  RunRepository,
  RunView,
  SyncRuleRepository,
  TransactionRunner,
  UniqueValueRepository,
  WatermarkRepository,
} from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { ConnectorHost } from '../connectors/connector-host.service';
import { ConfirmingImportRunner } from '../export/confirming-import-runner.service';
import { ExportRunner } from '../export/export-runner.service';
import { ImportRunner } from '../import/import-runner.service';
import { LeaseService } from '../leases/lease.service';
import type { LicenseGateService } from '../license/license-gate.service';
import type { EngineIdentity } from '../registry/engine-identity';
import { RunExecutor } from '../runs/run-executor.service';
import type { RunContext, RunOutcome, StopReason } from '../runs/run-context';
import { RunQueueService } from '../runs/run-queue.service';
import { SyncRunner } from '../sync/sync-runner.service';
import { inMemoryConnectorFactory, InMemorySystem } from '../testing/in-memory-connector';
import type { RelayHubLink } from './relay-hub-link.service';
import { RelayProgressSignals } from '@identitymesh/connector-sdk';
import { RelayedConnectors } from './relayed-connectors.service';

jest.setTimeout(120_000);

const ENGINE = 'engine-under-test';
const GROUP = 'branch-office';

/**
 * Imports of a connector on a relay, through the real work queue: the test
 * plays the hub and the relay (claims the item, stages batches with the
 * repository the hub uses, finishes the item) while the engine's import
 * runner applies what was staged.
 */
describe.each(['sqlite', 'postgres'] as const)('imports through a relay on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let dataDir: string;
  let config: SyncEngineConfig;
  let connectors: ConnectorRepository;
  let runs: RunRepository;
  let leaseRows: ConnectorLeaseRepository;
  let space: ConnectorSpaceRepository;
  let watermarks: WatermarkRepository;
  let work: RelayWorkQueueRepository;
  let relayId: string;
  const systems = new Map<string, InMemorySystem>();
  const systemOf = (connectorId: string) => {
    let system = systems.get(connectorId);
    if (!system) systems.set(connectorId, (system = new InMemorySystem()));
    return system;
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    dataDir = mkdtempSync(join(tmpdir(), 'im-relayed-import-'));
    config = SyncEngineConfig.load({ IM_DATA_DIR: dataDir, IM_ENGINE_MAX_CONCURRENT_RUNS: '1', IM_ENGINE_LEASE_SECONDS: '30' }, '/');
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    connectors = new ConnectorRepository(dataSource);
    runs = new RunRepository(dataSource);
    leaseRows = new ConnectorLeaseRepository(dataSource);
    space = new ConnectorSpaceRepository(dataSource);
    watermarks = new WatermarkRepository(dataSource);
    work = new RelayWorkQueueRepository(dataSource);
    const relays = new RelayRepository(dataSource);
    const now = new Date();
    await relays.createEnrollment({ id: 'enrollment-1', tokenHash: 'hash-1', relayGroup: GROUP, expiresAt: new Date(now.getTime() + 60_000), createdBy: 'test' }, now);
    const redeemed = await relays.redeemEnrollment({ enrollmentId: 'enrollment-1', tokenHash: 'hash-1', relayId: 'relay-1', name: 'branch-1', host: null, version: null, credentialHash: 'x' }, now);
    if (!('relay' in redeemed)) throw new Error(`the test relay was not enrolled: ${redeemed.refused}`);
    relayId = redeemed.relay.id;
  });
  afterAll(async () => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await dataSource?.destroy();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The engine's connector host and import runner, relays included, as the Nest modules wire them. */
  function engineParts() {
    const metrics = new MetricsRegistry();
    const notified: string[] = [];
    const wakeUps = new RelayProgressSignals();
    const hub = { notifyEnqueued: (group: string) => notified.push(group), watch: (itemId: string) => wakeUps.watch(itemId) } as unknown as RelayHubLink;
    const host = new ConnectorHost([inMemoryConnectorFactory(systemOf)], { resolve: async () => 'unused' }, new RelayedConnectors(config, work, hub, metrics));
    const imports = new ImportRunner(host, new TransactionRunner(dataSource), leaseRows, space, runs, watermarks, metrics);
    return { metrics, notified, host, imports };
  }

  /**
   * A connector of the relay group as a run gets it. The row itself has no
   * group: the run repository claims runs only of connectors without one so
   * far, and the engine goes by the definition the run carries.
   */
  async function relayConnector(batchSize = 2): Promise<ConnectorDefinition> {
    const row = await connectors.create({ name: `directory ${Math.random()}`, type: 'scim', config: {}, batchSize });
    return { ...row, relayGroup: GROUP };
  }

  /** What the run queue does before a run: the lease, then the claim. */
  async function claim(connector: ConnectorDefinition, options: { queue: boolean } = { queue: true }) {
    if (options.queue) await runs.queue({ connectorId: connector.id, profile: 'full-import', trigger: 'manual' });
    const lease = (await leaseRows.acquire(connector.id, ENGINE, { now: new Date(), durationMs: 60_000, takeover: 'always' })) as LeaseGrant;
    const run = (await runs.claimNext(ENGINE, { now: new Date(), connectorId: connector.id, fencingToken: lease.fencingToken })) as RunView;
    const controller = new AbortController();
    const context: RunContext = { run, connector, lease, engineInstanceId: ENGINE, signal: controller.signal };
    return { run, lease, controller, context };
  }

  /** What the executor does after a run. */
  async function record(claimed: { run: RunView; lease: LeaseGrant }, outcome: RunOutcome): Promise<RunView> {
    if (outcome.kind === 'finished') await runs.finish(claimed.run.id, ENGINE, claimed.lease.fencingToken, { status: outcome.status, message: outcome.message, now: new Date() });
    if (outcome.kind === 'interrupted') await runs.requeue(claimed.run.id, ENGINE, claimed.lease.fencingToken, outcome.message);
    await leaseRows.release(claimed.lease.connectorId, ENGINE, claimed.lease.fencingToken, new Date());
    return (await runs.findById(claimed.run.id)) as RunView;
  }

  async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 2_000; i++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`${what} did not happen`);
  }

  /** The relay's side: claims the connector's next item through the queue, as a work:pull does, and starts it. */
  async function relayTakes(connectorId: string): Promise<RelayWorkItemView> {
    let taken: RelayWorkItemView | undefined;
    await until('a work item for the relay', async () => {
      const claimed = await work.claim(relayId, GROUP, { max: 16, staleBefore: new Date(0) }, new Date());
      taken = claimed.find((item) => item.connectorId === connectorId);
      return taken !== undefined;
    });
    const item = taken as RelayWorkItemView;
    expect(await work.markRunning(item.id, relayId, item.attempts, new Date())).toBe(true);
    return item;
  }

  function people(from: number, count: number): JsonObject[] {
    return Array.from({ length: count }, (_, i) => {
      const id = `E${from + i}`;
      return { kind: 'upsert', objectType: 'person', anchor: id, attributes: { employeeId: [id], mail: [`${id.toLowerCase()}@example.com`] } };
    });
  }

  async function stage(item: RelayWorkItemView, seq: number, changes: JsonObject[], watermark: string, last = false): Promise<void> {
    const outcome = await work.stageImportBatch(item.id, relayId, item.attempts, { seq, payload: { changes, errors: [], watermark }, isLast: last }, new Date());
    expect(outcome).toBe('staged');
  }

  const applied = async (item: RelayWorkItemView) => (await work.batchProgress(item.id)).lastApplied;

  it('applies each staged batch once, in its own transaction with its watermark; an interrupted run resumes after the last batch applied', async () => {
    const { imports, notified, metrics } = engineParts();
    const connector = await relayConnector();
    const first = await claim(connector);
    const running = imports.run(first.context);

    const item = await relayTakes(connector.id);
    expect(item).toMatchObject({ kind: 'import', runId: first.run.id, relayGroup: GROUP, payload: { mode: 'full', batchSize: 2 } });
    expect(notified).toEqual([GROUP]);
    await stage(item, 1, people(1, 2), 'w1');
    await stage(item, 2, people(3, 2), 'w2');
    await until('batch 2 applied', async () => (await applied(item)) === 2);
    // What a batch committed is whole: its objects, the run's counters and its watermark.
    expect(await watermarks.read(connector.id)).toBe('w2');
    expect(await space.list(connector.id, { limit: 100 })).toHaveLength(4);

    // The engine stops while it waits for batch 3.
    first.controller.abort({ kind: 'shutdown' } satisfies StopReason);
    const interrupted = await running;
    expect(interrupted.kind).toBe('interrupted');
    expect(await record(first, interrupted)).toMatchObject({ status: 'queued', added: 4 });
    expect(await work.batchProgress(item.id)).toEqual({ lastApplied: 2, lastStaged: 2, lastIsApplied: false });

    // The relay goes on meanwhile; the resumed run takes up the same item after batch 2.
    await stage(item, 3, people(5, 1), 'w3');
    const second = await claim(connector, { queue: false });
    expect(second.run.id).toBe(first.run.id);
    const resumed = imports.run(second.context);
    await until('batch 3 applied', async () => (await applied(item)) === 3);
    await stage(item, 4, [], 'w4', true);
    expect(await work.complete(item.id, relayId, item.attempts, 'done', {}, new Date())).toBe('completed');
    const outcome = await resumed;
    expect(outcome).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(await record(second, outcome)).toMatchObject({ status: 'succeeded', added: 5, errors: 0 });

    expect(await work.batchProgress(item.id)).toEqual({ lastApplied: 4, lastStaged: 4, lastIsApplied: true });
    expect(await work.findForRun(connector.id, first.run.id, 'import')).toBeNull();
    expect(await watermarks.read(connector.id)).toBe('w4');
    const objects = await space.list(connector.id, { limit: 100 });
    expect(objects.map((o) => o.anchor).sort()).toEqual(['E1', 'E2', 'E3', 'E4', 'E5']);
    // One item for the run, queued once: the resumed attempt did not queue another.
    expect(notified).toEqual([GROUP]);
    expect((await metrics.render()).body).toContain('identitymesh_relay_work_enqueued_total{kind="import"} 1');
    // The in-memory system behind the connector type was never asked to import: only the relay reads the system.
    expect(systemOf(connector.id).requests).toEqual([]);
    // A batch is never applied twice: the repository refuses, and the transaction rolls back.
    await expect(new TransactionRunner(dataSource).run((tx) => work.markBatchApplied(tx, item.id, 1, new Date()))).rejects.toMatchObject({ code: 'RELAY_BATCH_NOT_STAGED' });
  });

  it('fails the run with the relay’s error, after applying what the relay staged before it failed', async () => {
    const { imports } = engineParts();
    const connector = await relayConnector();
    const claimed = await claim(connector);
    const running = imports.run(claimed.context);
    const item = await relayTakes(connector.id);
    await stage(item, 1, people(1, 2), 'w1');
    await until('batch 1 applied', async () => (await applied(item)) === 1);
    await work.complete(item.id, relayId, item.attempts, 'failed', { error: { code: 'CONNECTOR_AUTH_FAILED', message: 'invalid credentials for cn=sync', retryable: false } }, new Date());
    const outcome = await running;
    expect(outcome).toMatchObject({ kind: 'finished', status: 'failed', message: expect.stringContaining('CONNECTOR_AUTH_FAILED: invalid credentials for cn=sync') });
    expect(await record(claimed, outcome)).toMatchObject({ status: 'failed', added: 2 });
    // A full import that did not reach its end marks nothing deleted.
    expect(await watermarks.read(connector.id)).toBe('w1');
  });

  it('fails the run on a staged batch that does not parse, applying nothing of it', async () => {
    const { imports } = engineParts();
    const connector = await relayConnector();
    const claimed = await claim(connector);
    const running = imports.run(claimed.context);
    const item = await relayTakes(connector.id);
    const hostile = [{ kind: 'upsert', objectType: 'person', anchor: 'E1', attributes: { employeeId: { toString: 'x' } } }] as unknown as JsonObject[];
    await stage(item, 1, hostile, 'w1', true);
    const outcome = await running;
    expect(outcome).toMatchObject({ kind: 'finished', status: 'failed', message: expect.stringContaining('is not a valid import batch') });
    await record(claimed, outcome);
    expect(await work.batchProgress(item.id)).toMatchObject({ lastApplied: 0, lastStaged: 1 });
    expect(await space.list(connector.id, { limit: 10 })).toEqual([]);
    expect(await watermarks.read(connector.id)).toBeUndefined();
  });

  it('runs a relay connector’s run without taking a local run slot, and never two runs of one connector', async () => {
    const { host, imports } = engineParts();
    const metrics = new MetricsRegistry();
    const identity: EngineIdentity = { instanceId: ENGINE, isActive: true };
    const leases = new LeaseService(config, leaseRows, identity, metrics);
    const exportQueue = new ExportQueueRepository(dataSource);
    const audit = new AuditRepository(dataSource);
    const runChanges = new RunChangeRepository(dataSource);
    const transactions = new TransactionRunner(dataSource);
    const exports = new ExportRunner(host, transactions, leaseRows, exportQueue, space, runs, runChanges, audit, config, metrics);
    const syncs = new SyncRunner(host, transactions, leaseRows, connectors, new SyncRuleRepository(dataSource), runs, watermarks, { space, mesh: new MeshRepository(dataSource), uniqueValues: new UniqueValueRepository(dataSource), exportQueue, audit, runChanges }, metrics);
    const license = { checkScheduledRun: () => ({ allowed: true }) } as unknown as LicenseGateService;
    const executor = new RunExecutor(config, runs, leases, imports, syncs, exports, new ConfirmingImportRunner(imports, exportQueue), license, identity, metrics);
    const runQueue = new RunQueueService(config, runs, connectors, leases, executor, identity);
    expect(config.runs.maxConcurrent).toBe(1);

    // The relay connector's run, claimed as the run queue claims one.
    const relayed = await relayConnector();
    const relayedRun = await runs.queue({ connectorId: relayed.id, profile: 'full-import', trigger: 'manual' });
    const lease = (await leases.acquire(relayed.id, () => undefined)) as LeaseGrant;
    const run = (await runs.claimNext(ENGINE, { now: new Date(), connectorId: relayed.id, fencingToken: lease.fencingToken })) as RunView;
    expect(run.id).toBe(relayedRun.id);
    const claimed = { run, connector: relayed, lease };
    const relayedDone = executor.start(claimed);
    const item = await relayTakes(relayed.id);
    expect(executor.capacity).toBe(1);
    expect(executor.busyConnectorIds()).toEqual([relayed.id]);
    expect(() => executor.start(claimed)).toThrow('already has a run in progress');

    // The one local slot is still there for a local connector.
    const local = await connectors.create({ name: `hr ${Math.random()}`, type: 'scim', config: {} });
    systemOf(local.id).upsert('person', 'H1', { employeeId: ['H1'], mail: ['h1@example.com'] });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const paused = new Promise<void>((resolve) => (reached = resolve));
    systemOf(local.id).pauseBefore = { batch: 0, reached, release: released };
    const localRun = await runs.queue({ connectorId: local.id, profile: 'full-import', trigger: 'manual' });
    await runQueue.poll();
    await paused;
    expect(executor.busyConnectorIds().sort()).toEqual([relayed.id, local.id].sort());
    expect(executor.capacity).toBe(0);

    // The relay answers while the local run holds the slot.
    await stage(item, 1, people(1, 1), 'w1', true);
    await work.complete(item.id, relayId, item.attempts, 'done', {}, new Date());
    await relayedDone;
    release();
    await executor.settled();
    expect(await runs.findById(relayedRun.id)).toMatchObject({ status: 'succeeded', added: 1 });
    expect(await runs.findById(localRun.id)).toMatchObject({ status: 'succeeded', added: 1 });
    expect(executor.busyConnectorIds()).toEqual([]);
  });
});
