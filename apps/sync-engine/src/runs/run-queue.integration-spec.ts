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
  MeshRepository,
  migrateDatabase,
  RunChangeRepository,
  RunRepository,
  RunView,
  SyncRuleRepository,
  TransactionRunner,
  UniqueValueRepository,
  WatermarkRepository,
} from '@identitymesh/persistence';
import type { RunProfile, RunTrigger } from '@identitymesh/domain';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { ConnectorHost } from '../connectors/connector-host.service';
import { ConfirmingImportRunner } from '../export/confirming-import-runner.service';
import { ExportRunner } from '../export/export-runner.service';
import { ImportRunner } from '../import/import-runner.service';
import { LeaseService } from '../leases/lease.service';
import type { LicenseGateService, ScheduledRunDecision } from '../license/license-gate.service';
import type { EngineIdentity } from '../registry/engine-identity';
import { SyncRunner } from '../sync/sync-runner.service';
import { inMemoryConnectorFactory, InMemorySystem } from '../testing/in-memory-connector';
import { RunExecutor } from './run-executor.service';
import { RunQueueService } from './run-queue.service';

jest.setTimeout(60_000);

const ENGINE = 'engine-1';

/** The engine's run machinery over one database, wired as the Nest modules wire it. */
function engine(dataSource: DataSource, dataDir: string, options: { maxConcurrent?: number; license?: () => ScheduledRunDecision } = {}) {
  const config = SyncEngineConfig.load({ IM_DATA_DIR: dataDir, IM_ENGINE_MAX_CONCURRENT_RUNS: String(options.maxConcurrent ?? 2), IM_ENGINE_LEASE_SECONDS: '30' }, '/');
  const systems = new Map<string, InMemorySystem>();
  const systemOf = (connectorId: string) => {
    let system = systems.get(connectorId);
    if (!system) systems.set(connectorId, (system = new InMemorySystem()));
    return system;
  };
  const metrics = new MetricsRegistry();
  const identity: EngineIdentity = { instanceId: ENGINE, isActive: true };
  const runs = new RunRepository(dataSource);
  const leases = new LeaseService(config, new ConnectorLeaseRepository(dataSource), identity, metrics);
  const host = new ConnectorHost([inMemoryConnectorFactory(systemOf)], { resolve: async () => 'unused' });
  const imports = new ImportRunner(host, new TransactionRunner(dataSource), new ConnectorLeaseRepository(dataSource), new ConnectorSpaceRepository(dataSource), runs, new WatermarkRepository(dataSource), metrics);
  const license = { checkScheduledRun: options.license ?? (() => ({ allowed: true })) } as unknown as LicenseGateService;
  const exportQueue = new ExportQueueRepository(dataSource);
  const space = new ConnectorSpaceRepository(dataSource);
  const exports = new ExportRunner(host, new TransactionRunner(dataSource), new ConnectorLeaseRepository(dataSource), exportQueue, space, runs, new RunChangeRepository(dataSource), new AuditRepository(dataSource), config, metrics);
  const syncs = new SyncRunner(host, new TransactionRunner(dataSource), new ConnectorLeaseRepository(dataSource), new ConnectorRepository(dataSource), new SyncRuleRepository(dataSource), runs, new WatermarkRepository(dataSource), {
    space,
    mesh: new MeshRepository(dataSource),
    uniqueValues: new UniqueValueRepository(dataSource),
    exportQueue,
    audit: new AuditRepository(dataSource),
    runChanges: new RunChangeRepository(dataSource),
  }, metrics);
  const executor = new RunExecutor(config, runs, leases, imports, syncs, exports, new ConfirmingImportRunner(imports, exportQueue), license, identity, metrics);
  const queue = new RunQueueService(config, runs, new ConnectorRepository(dataSource), leases, executor, identity);
  return { executor, queue, leases, systemOf, metrics };
}

/** A pause before the first batch of each import of `system`, released all at once. */
function pause(system: InMemorySystem) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const reachedOnce = new Promise<void>((resolve) => (reached = resolve));
  system.pauseBefore = { batch: 0, reached, release: released };
  return { release, reached: reachedOnce };
}

describe('the run queue and executor', () => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let dataDir: string;
  let connectors: ConnectorRepository;
  let runs: RunRepository;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    dataDir = mkdtempSync(join(tmpdir(), 'im-runs-'));
    db = await createThrowawayDatabase('sqlite');
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    connectors = new ConnectorRepository(dataSource);
    runs = new RunRepository(dataSource);
  });
  afterAll(async () => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await dataSource?.destroy();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const connector = (name: string): Promise<ConnectorDefinition> => connectors.create({ name: `${name} ${Math.random()}`, type: 'scim', config: {} });
  const queue = (connectorId: string, profile: RunProfile = 'full-import', trigger: RunTrigger = 'manual') => runs.queue({ connectorId, profile, trigger });
  const statusOf = async (run: RunView) => (await runs.findById(run.id)) as RunView;

  it('runs at most the configured number at once, never two of one connector, oldest first', async () => {
    const { executor, queue: runQueue, systemOf } = engine(dataSource, dataDir, { maxConcurrent: 2 });
    const [a, b, c] = [await connector('a'), await connector('b'), await connector('c')];
    const pauses = [a, b, c].map((x) => {
      systemOf(x.id).upsert('person', 'E1', { mail: ['e1@x'] });
      return pause(systemOf(x.id));
    });
    const queued = [await queue(a.id), await queue(b.id), await queue(a.id), await queue(c.id), await queue(b.id)];

    await runQueue.poll();
    expect(executor.busyConnectorIds().sort()).toEqual([a.id, b.id].sort());
    expect((await Promise.all(queued.map(statusOf))).map((r) => r.status)).toEqual(['running', 'running', 'queued', 'queued', 'queued']);
    await runQueue.poll();
    expect(executor.busyConnectorIds()).toHaveLength(2);

    for (const p of pauses) p.release();
    for (let round = 0; round < 20 && (await Promise.all(queued.map(statusOf))).some((r) => r.status !== 'succeeded'); round++) {
      await runQueue.poll();
      expect(executor.busyConnectorIds().length).toBeLessThanOrEqual(2);
      await executor.settled();
    }
    expect((await Promise.all(queued.map(statusOf))).map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    for (const x of [a, b, c]) expect(systemOf(x.id).maxActiveImports).toBe(1);
    // Each connector's runs in the order they were queued.
    const [first, , third] = await Promise.all(queued.map(statusOf));
    expect((third.startedAt as Date).getTime()).toBeGreaterThanOrEqual((first.finishedAt as Date).getTime());
  });

  it('runs full and delta sync runs with the sync runner, and leaves the connector free', async () => {
    const { executor, queue: runQueue, leases } = engine(dataSource, dataDir);
    const x = await connector('sync');
    const runsOf = await Promise.all((['delta-sync', 'full-sync'] as const).map((profile) => queue(x.id, profile)));
    for (let i = 0; i < runsOf.length; i++) {
      await runQueue.poll();
      await executor.settled();
    }
    expect(await statusOf(runsOf[0])).toMatchObject({ status: 'succeeded', message: expect.stringMatching(/^delta sync succeeded: 0 objects in 0 batch\(es\)/) });
    expect(await statusOf(runsOf[1])).toMatchObject({ status: 'succeeded', message: expect.stringMatching(/^full sync succeeded: 0 objects in 0 batch\(es\)/) });
    await leases.beforeApplicationShutdown();
    expect((await new ConnectorLeaseRepository(dataSource).current(x.id))?.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('runs export and confirming-import runs with their runners', async () => {
    const { executor, queue: runQueue } = engine(dataSource, dataDir);
    const x = await connector('exports');
    const exportRun = await queue(x.id, 'export');
    const confirming = await queue(x.id, 'confirming-import');
    for (let i = 0; i < 2; i++) {
      await runQueue.poll();
      await executor.settled();
    }
    expect(await statusOf(exportRun)).toMatchObject({ status: 'succeeded', message: expect.stringMatching(/^export succeeded: 0 change\(s\) sent/) });
    expect(await statusOf(confirming)).toMatchObject({ status: 'succeeded', message: expect.stringMatching(/^confirming import succeeded: /) });
  });

  it('asks the license gate before a scheduled run only, and cancels a refused one with the gate’s message', async () => {
    const refusal = 'scheduled run of connector "x" full-import refused: the license is expired (…). Remedy: install a renewed license.';
    const asked: string[] = [];
    const { executor, queue: runQueue, systemOf } = engine(dataSource, dataDir, {
      license: () => {
        asked.push('asked');
        return { allowed: false, status: 'expired', code: 'LICENSE_EXPIRED', reason: 'expired', remedy: 'renew', message: refusal } as ScheduledRunDecision;
      },
    });
    const x = await connector('licensed');
    systemOf(x.id).upsert('person', 'E1', { mail: ['e1@x'] });
    const scheduled = await queue(x.id, 'full-import', 'schedule');
    const manual = await queue(x.id, 'full-import', 'manual');
    for (let i = 0; i < 2; i++) {
      await runQueue.poll();
      await executor.settled();
    }
    expect(await statusOf(scheduled)).toMatchObject({ status: 'cancelled', message: refusal, added: 0 });
    expect(await statusOf(manual)).toMatchObject({ status: 'succeeded', added: 1 });
    expect(asked).toHaveLength(1);
  });

  it('resumes a run a dead engine left running, taking its lease at once in single-instance mode', async () => {
    const x = await connector('orphan');
    const run = await queue(x.id);
    const leaseRepo = new ConnectorLeaseRepository(dataSource);
    const dead = await leaseRepo.acquire(x.id, 'dead-engine', { now: new Date(), durationMs: 60_000, takeover: 'always' });
    await runs.claimNext('dead-engine', { now: new Date(), connectorId: x.id, fencingToken: dead?.fencingToken });

    const { executor, queue: runQueue, systemOf } = engine(dataSource, dataDir);
    systemOf(x.id).upsert('person', 'E1', { mail: ['e1@x'] });
    await runQueue.poll();
    await executor.settled();
    expect(await statusOf(run)).toMatchObject({ status: 'succeeded', recoveries: 1, engineInstanceId: ENGINE, fencingToken: (dead?.fencingToken ?? 0) + 1, added: 1 });
  });

  it('on shutdown stops claiming, stops the running run after its batch, gives it back to the queue and releases the lease', async () => {
    const { queue: runQueue, systemOf, leases } = engine(dataSource, dataDir);
    const x = await connector('shutdown');
    systemOf(x.id).upsert('person', 'E1', { mail: ['e1@x'] });
    const { reached } = pause(systemOf(x.id));
    const run = await queue(x.id);
    await runQueue.poll();
    await reached;
    const later = await queue(x.id);

    await runQueue.onModuleDestroy();
    await leases.beforeApplicationShutdown();
    expect(await statusOf(run)).toMatchObject({ status: 'queued', engineInstanceId: null, message: expect.stringMatching(/^interrupted: the engine is shutting down; 0 objects read/) });
    expect((await statusOf(later)).status).toBe('queued');
    const lease = await new ConnectorLeaseRepository(dataSource).current(x.id);
    expect(lease?.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    await runQueue.poll();
    expect((await statusOf(later)).status).toBe('queued');
  });

  it('stops a run whose lease a renewal finds taken over, writing nothing more for it', async () => {
    const { executor, queue: runQueue, systemOf, leases } = engine(dataSource, dataDir);
    const x = await connector('taken');
    systemOf(x.id).upsert('person', 'E1', { mail: ['e1@x'] });
    const { reached, release } = pause(systemOf(x.id));
    const run = await queue(x.id);
    await runQueue.poll();
    await reached;
    await new ConnectorLeaseRepository(dataSource).acquire(x.id, 'engine-2', { now: new Date(), durationMs: 60_000, takeover: 'always' });

    await leases.renewAll();
    release();
    await executor.settled();
    // Still as the run queue left it: the row is the new holder's to recover.
    expect(await statusOf(run)).toMatchObject({ status: 'running', engineInstanceId: ENGINE, added: 0 });
    expect(await new ConnectorSpaceRepository(dataSource).list(x.id)).toEqual([]);
  });
});
