import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { MetricsRegistry } from '@identitymesh/platform';
import { InMemoryLicenseFile, issueLicense, keyIdOf, LicenseMonitor } from '@identitymesh/license';
import {
  connectDatabase,
  ConnectorEntity,
  ConnectorRepository,
  migrateDatabase,
  RunEntity,
  RunRepository,
  ScheduleRepository,
  ScheduleStateEntity,
} from '@identitymesh/persistence';
import type { FinishedRunStatus } from '@identitymesh/persistence';
import type { ScheduleDefinition } from '@identitymesh/domain';
import { buildAppModule } from '../app.module';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { EngineIdentity } from '../registry/engine-identity';
import { RunExecutor } from '../runs/run-executor.service';
import { RunQueueService } from '../runs/run-queue.service';
import { ScheduleService } from './schedule.service';
import { SchedulerClock } from './scheduler-clock';

jest.setTimeout(60_000);

const T0 = new Date('2026-05-04T08:00:00Z');
const MINUTE = 60_000;
const CHAIN = ['delta-import', 'delta-sync', 'export'] as const;

class FakeClock implements SchedulerClock {
  constructor(private current: Date) {}
  now(): Date {
    return this.current;
  }
  set(at: Date): void {
    this.current = at;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

interface LogLine {
  level: string;
  msg: string;
  connectorId?: string;
  [field: string]: unknown;
}

describe.each(['sqlite', 'postgres'] as const)('the scheduler on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let dataDir: string;
  let connectors: ConnectorRepository;
  let runs: RunRepository;
  let logs: LogLine[];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'im-schedule-'));
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    connectors = new ConnectorRepository(dataSource);
    runs = new RunRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    logs = [];
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        const first = args[0];
        logs.push(typeof first === 'object' && first !== null ? { level, ...(first as { msg: string }) } : { level, msg: String(first) });
      });
    }
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    // Every scheduler lists every scheduled connector: each test starts from none.
    await dataSource.getRepository(ConnectorEntity).createQueryBuilder().delete().execute();
  });

  function scheduler(clock: SchedulerClock, options: { engineId?: string; active?: boolean } = {}) {
    const config = SyncEngineConfig.load({ IM_DATA_DIR: dataDir, IM_ENGINE_SCHEDULER_TICK_MS: '250' }, '/');
    const identity = { instanceId: options.engineId ?? 'engine-1', isActive: options.active ?? true };
    const metrics = new MetricsRegistry();
    const service = new ScheduleService(config, new ScheduleRepository(dataSource), identity, clock, metrics);
    const counted = async (name: string, labels: Record<string, string> = {}) => {
      const metric = metrics.registry.getSingleMetric(`identitymesh_${name}`);
      const values = (await metric?.get())?.values ?? [];
      return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
    };
    return { service, identity, config, counted };
  }

  const scheduled = (name: string, schedule: ScheduleDefinition | Record<string, unknown>, extra: { enabled?: boolean } = {}) =>
    connectors.create({ name: `${name} ${Math.random()}`, type: 'csv', config: {}, schedule: schedule as never, enabled: extra.enabled, at: T0 });
  const setSchedule = (connectorId: string, schedule: ScheduleDefinition | Record<string, unknown>) =>
    dataSource.getRepository(ConnectorEntity).update({ id: connectorId }, { schedule: schedule as never });
  const runsOf = (connectorId: string) => dataSource.getRepository(RunEntity).find({ where: { connectorId }, order: { queuedAt: 'ASC', chainStep: 'ASC' } });
  const markerOf = (connectorId: string) => dataSource.getRepository(ScheduleStateEntity).findOneBy({ connectorId });
  /** Does what an engine does with the connector's oldest queued run: claims it, and ends it as `status` unless told to leave it running. */
  const runNext = async (connectorId: string, status: FinishedRunStatus | 'running', message = `${status}: test`) => {
    const run = await runs.claimNext('worker-engine', { now: new Date(), connectorId, fencingToken: null });
    if (!run) throw new Error(`connector ${connectorId} has no queued run`);
    if (status !== 'running') await runs.finish(run.id, 'worker-engine', null, { status, message, now: new Date() });
    return run;
  };
  const logsOf = (connectorId: string, level?: string) => logs.filter((l) => l.connectorId === connectorId && (!level || l.level === level)).map((l) => l.msg);

  it('starts an interval schedule counting when it is first seen and queues the chain’s first run when due', async () => {
    const clock = new FakeClock(T0);
    const { service, counted } = scheduler(clock);
    const x = await scheduled('interval', { intervalSeconds: 600, profiles: [...CHAIN] });

    await service.tick();
    expect(await runsOf(x.id)).toEqual([]);
    expect(await markerOf(x.id)).toMatchObject({ markAt: T0, version: 1, lastOutcome: 'baseline', updatedBy: 'engine-1' });
    expect(logsOf(x.id)).toEqual([expect.stringMatching(/: every 600 s, chain delta-import → delta-sync → export; next fire at 2026-05-04T08:10:00.000Z$/)]);

    clock.advance(10 * MINUTE - 1);
    await service.tick();
    expect(await runsOf(x.id)).toEqual([]);

    clock.advance(1);
    await service.tick();
    const [first, ...others] = await runsOf(x.id);
    expect(others).toEqual([]);
    expect(first).toMatchObject({
      profile: 'delta-import',
      status: 'queued',
      trigger: 'schedule',
      queuedAt: new Date(T0.getTime() + 10 * MINUTE),
      chainStep: 0,
      chainProfiles: [...CHAIN],
      chainState: 'open',
      message: expect.stringMatching(/^queued by the schedule \(every 600 s, due 2026-05-04T08:10:00.000Z\): step 1 of 3 of chain /),
    });
    expect(await markerOf(x.id)).toMatchObject({ markAt: new Date(T0.getTime() + 10 * MINUTE), version: 2, lastOutcome: 'queued', lastChainId: first.chainId });
    expect(await counted('schedule_fires_total', { outcome: 'queued' })).toBe(1);

    await service.tick();
    expect(await runsOf(x.id)).toHaveLength(1);
  });

  it('queues the next profile after each successful step and completes the chain after its last, whatever the schedule became meanwhile', async () => {
    const clock = new FakeClock(T0);
    const { service, counted } = scheduler(clock);
    const x = await scheduled('chain', { intervalSeconds: 3600, profiles: [...CHAIN] });
    await service.tick();
    clock.advance(60 * MINUTE);
    await service.tick();

    const first = await runNext(x.id, 'succeeded');
    // An edit reaches the next chain, not the one under way.
    await setSchedule(x.id, { intervalSeconds: 3600, profiles: ['full-import'] });
    clock.advance(MINUTE);
    await service.tick();
    let chain = await runsOf(x.id);
    expect(chain[0].id).toBe(first.id);
    expect(chain.map((r) => [r.profile, r.status, r.chainStep, r.chainState, r.chainId])).toEqual([
      ['delta-import', 'succeeded', 0, 'continued', chain[0].chainId],
      ['delta-sync', 'queued', 1, 'open', chain[0].chainId],
    ]);
    expect(chain[1]).toMatchObject({ trigger: 'schedule', chainProfiles: [...CHAIN], message: `queued by the schedule: step 2 of 3 of chain ${chain[0].chainId} (delta-import → delta-sync → export), after run ${first.id} (delta-import) succeeded` });

    await runNext(x.id, 'completed-with-errors');
    await service.tick();
    await runNext(x.id, 'succeeded');
    await service.tick();
    chain = await runsOf(x.id);
    expect(chain.map((r) => [r.profile, r.status, r.chainState])).toEqual([
      ['delta-import', 'succeeded', 'continued'],
      ['delta-sync', 'completed-with-errors', 'continued'],
      ['export', 'succeeded', 'completed'],
    ]);
    expect(new Set(chain.map((r) => r.chainId)).size).toBe(1);
    expect(await counted('schedule_chain_steps_total', { outcome: 'continued' })).toBe(2);
    expect(await counted('schedule_chain_steps_total', { outcome: 'completed' })).toBe(1);
    expect(logsOf(x.id).at(-1)).toMatch(/completed: delta-import → delta-sync → export, the last run .* succeeded$/);

    await service.tick();
    expect(await runsOf(x.id)).toHaveLength(3);
  });

  it('stops the chain after a failed step, logging why, and starts a fresh chain at the next fire', async () => {
    const clock = new FakeClock(T0);
    const { service, counted } = scheduler(clock);
    const x = await scheduled('failing', { intervalSeconds: 600, profiles: [...CHAIN] });
    await service.tick();
    clock.advance(10 * MINUTE);
    await service.tick();

    const failed = await runNext(x.id, 'failed', 'the LDAP server at ldap://127.0.0.1:1 is unreachable; the run changed nothing');
    await service.tick();
    const [stopped] = await runsOf(x.id);
    expect((await runsOf(x.id)).map((r) => [r.profile, r.status, r.chainState])).toEqual([['delta-import', 'failed', 'stopped']]);
    expect(logsOf(x.id, 'warn')).toEqual([
      `chain ${stopped.chainId} of connector ${x.id} stopped at step 1 of 3 (delta-import): run ${failed.id} ended failed: the LDAP server at ldap://127.0.0.1:1 is unreachable; the run changed nothing; not queued: delta-sync → export`,
    ]);
    expect(await counted('schedule_chain_steps_total', { outcome: 'stopped' })).toBe(1);

    clock.advance(10 * MINUTE);
    await service.tick();
    const after = await runsOf(x.id);
    expect(after.map((r) => [r.profile, r.status, r.chainStep])).toEqual([
      ['delta-import', 'failed', 0],
      ['delta-import', 'queued', 0],
    ]);
    expect(after[1].chainId).not.toBe(after[0].chainId);
  });

  it.each<[string, FinishedRunStatus]>([
    ['held for approval', 'held-for-approval'],
    ['stopped at its error threshold', 'stopped-error-threshold'],
  ])('stops the chain after a step %s', async (_name, status) => {
    const clock = new FakeClock(T0);
    const { service } = scheduler(clock);
    const x = await scheduled('held', { intervalSeconds: 600, profiles: ['export', 'confirming-import'] });
    await service.tick();
    clock.advance(10 * MINUTE);
    await service.tick();
    await runNext(x.id, status);
    await service.tick();
    expect((await runsOf(x.id)).map((r) => [r.profile, r.status, r.chainState])).toEqual([['export', status, 'stopped']]);
  });

  it('skips a fire while the previous chain is still queued, running or between steps, never stacking', async () => {
    const clock = new FakeClock(T0);
    const { service, counted } = scheduler(clock);
    const x = await scheduled('busy', { intervalSeconds: 600, profiles: ['delta-import', 'delta-sync'] });
    await service.tick();
    clock.advance(10 * MINUTE);
    await service.tick();

    clock.advance(10 * MINUTE);
    await service.tick();
    expect(await runsOf(x.id)).toHaveLength(1);
    const [queued] = await runsOf(x.id);
    expect(logsOf(x.id, 'warn')).toEqual([
      `schedule of connector "${x.name}": the fire due 2026-05-04T08:20:00.000Z is skipped, its previous chain is still under way (run ${queued.id}); next fire at 2026-05-04T08:30:00.000Z`,
    ]);
    expect(await markerOf(x.id)).toMatchObject({ markAt: new Date(T0.getTime() + 20 * MINUTE), lastOutcome: 'skipped', lastChainId: queued.chainId });

    await runNext(x.id, 'running');
    clock.advance(10 * MINUTE);
    await service.tick();
    expect(await runsOf(x.id)).toHaveLength(1);

    // Ended but not yet acted on: the fire of the same tick finds the next step open.
    await runs.finish(queued.id, 'worker-engine', null, { status: 'succeeded', message: 'ok', now: new Date() });
    clock.advance(10 * MINUTE);
    await service.tick();
    const chain = await runsOf(x.id);
    expect(chain.map((r) => [r.profile, r.status, r.chainState])).toEqual([
      ['delta-import', 'succeeded', 'continued'],
      ['delta-sync', 'queued', 'open'],
    ]);
    expect(await counted('schedule_fires_total', { outcome: 'skipped' })).toBe(3);
    expect(await counted('schedule_fires_total', { outcome: 'queued' })).toBe(1);
  });

  it('runs the fires missed while no engine was active once, not once each', async () => {
    const clock = new FakeClock(T0);
    const before = scheduler(clock);
    const x = await scheduled('missed', { intervalSeconds: 3600, profiles: ['full-import'] });
    await before.service.tick();
    await before.service.onModuleDestroy();

    clock.advance(5.5 * 60 * MINUTE);
    const after = scheduler(clock);
    await after.service.tick();
    const [run, ...others] = await runsOf(x.id);
    expect(others).toEqual([]);
    expect(run.message).toContain('due 2026-05-04T13:00:00.000Z');
    expect(logsOf(x.id, 'warn')).toEqual([
      `schedule of connector "${x.name}": 4 fire(s) due from 2026-05-04T09:00:00.000Z on were missed while no engine was active; they are run once, as the fire due 2026-05-04T13:00:00.000Z`,
    ]);
    expect(await after.counted('schedule_missed_fires_total')).toBe(4);

    await runNext(x.id, 'succeeded');
    clock.advance(MINUTE);
    await after.service.tick();
    expect(await runsOf(x.id)).toHaveLength(1);
    clock.set(new Date(T0.getTime() + 6 * 60 * MINUTE));
    await after.service.tick();
    expect(await runsOf(x.id)).toHaveLength(2);
  });

  it('neither fires a slot twice nor loses one across a restart, a second engine, or two engines ticking at once', async () => {
    const clock = new FakeClock(T0);
    const x = await scheduled('restart', { intervalSeconds: 600, profiles: ['delta-import'] });
    const first = scheduler(clock, { engineId: 'engine-1' });
    await first.service.tick();
    clock.advance(10 * MINUTE);
    await first.service.tick();
    expect(await runsOf(x.id)).toHaveLength(1);
    await first.service.onModuleDestroy();

    // The restarted (or promoted) engine finds the slot already fired.
    clock.advance(1_000);
    const second = scheduler(clock, { engineId: 'engine-2' });
    await second.service.tick();
    expect(await runsOf(x.id)).toHaveLength(1);
    expect(await second.counted('schedule_fires_total')).toBe(0);

    await runNext(x.id, 'succeeded');
    clock.set(new Date(T0.getTime() + 20 * MINUTE));
    await second.service.tick();
    expect((await runsOf(x.id)).map((r) => r.chainState)).toEqual(['completed', 'open']);
    expect(await markerOf(x.id)).toMatchObject({ updatedBy: 'engine-2', lastOutcome: 'queued' });

    await runNext(x.id, 'succeeded');
    await second.service.tick();
    clock.set(new Date(T0.getTime() + 30 * MINUTE));
    const third = scheduler(clock, { engineId: 'engine-3' });
    await Promise.all([second.service.tick(), third.service.tick()]);
    expect((await runsOf(x.id)).map((r) => r.chainState)).toEqual(['completed', 'completed', 'open']);
    const fires = (await second.counted('schedule_fires_total', { outcome: 'queued' })) + (await third.counted('schedule_fires_total', { outcome: 'queued' }));
    expect(fires).toBe(2);
    await second.service.onModuleDestroy();
    await third.service.onModuleDestroy();
  });

  it('leaves everything to the active engine while passive, and fires from the shared marker once promoted', async () => {
    const clock = new FakeClock(T0);
    const x = await scheduled('passive', { intervalSeconds: 600, profiles: ['delta-import'] });
    const standby = scheduler(clock, { engineId: 'standby', active: false });
    await standby.service.tick();
    expect(await markerOf(x.id)).toBeNull();

    const active = scheduler(clock, { engineId: 'active' });
    await active.service.tick();
    clock.advance(10 * MINUTE);
    await standby.service.tick();
    expect(await runsOf(x.id)).toEqual([]);

    // The active engine is gone; the standby is promoted and fires the slot it was due at.
    standby.identity.isActive = true;
    await standby.service.tick();
    expect(await runsOf(x.id)).toHaveLength(1);
    expect(await markerOf(x.id)).toMatchObject({ updatedBy: 'standby', lastOutcome: 'queued' });
  });

  it('fires a cron schedule in its time zone; an invalid schedule fires nothing and is reported once until corrected', async () => {
    const clock = new FakeClock(T0);
    const { service, counted } = scheduler(clock);
    const x = await scheduled('cron', { cron: '61 * * * *', profiles: ['delta-import'] });
    await service.tick();
    clock.advance(60 * MINUTE);
    await service.tick();
    expect(await runsOf(x.id)).toEqual([]);
    expect(logsOf(x.id, 'warn')).toEqual([expect.stringMatching(/is invalid and fires nothing until it is corrected: schedule: cron "61 \* \* \* \*" is not a five-field cron pattern .*Invalid value for minute: 61$/)]);
    expect(await counted('schedules_invalid')).toBe(1);

    // 12:00 local in Berlin (summer time) is 10:00 UTC.
    await setSchedule(x.id, { cron: '0 12 * * *', timezone: 'Europe/Berlin', profiles: ['delta-import'] });
    await service.tick();
    expect(logsOf(x.id).at(-1)).toMatch(/cron "0 12 \* \* \*" \(Europe\/Berlin\), chain delta-import; next fire at 2026-05-04T10:00:00.000Z$/);
    clock.set(new Date('2026-05-04T09:59:59Z'));
    await service.tick();
    expect(await runsOf(x.id)).toEqual([]);
    clock.set(new Date('2026-05-04T10:00:03Z'));
    await service.tick();
    expect((await runsOf(x.id)).map((r) => r.message)).toEqual([expect.stringContaining('due 2026-05-04T10:00:00.000Z')]);
    expect(await counted('schedules_invalid')).toBe(0);
  });

  it('fires nothing for a disabled schedule or connector, and counts afresh from when it is switched on', async () => {
    const clock = new FakeClock(T0);
    const { service } = scheduler(clock);
    const off = await scheduled('off', { intervalSeconds: 600, profiles: ['delta-import'], enabled: false });
    const disabledConnector = await scheduled('disabled connector', { intervalSeconds: 600, profiles: ['delta-import'] }, { enabled: false });
    await service.tick();
    clock.advance(60 * MINUTE);
    await service.tick();
    expect([...(await runsOf(off.id)), ...(await runsOf(disabledConnector.id))]).toEqual([]);
    expect(logsOf(off.id)).toEqual([`schedule of connector "${off.name}" fires nothing: the schedule is disabled`]);
    expect(logsOf(disabledConnector.id)).toEqual([`schedule of connector "${disabledConnector.name}" fires nothing: the connector is disabled`]);

    await setSchedule(off.id, { intervalSeconds: 600, profiles: ['delta-import'], enabled: true });
    await service.tick();
    expect(await runsOf(off.id)).toEqual([]);
    clock.advance(10 * MINUTE);
    await service.tick();
    expect(await runsOf(off.id)).toHaveLength(1);
  });

  it('queues a scheduled run that the license gate cancels when the license has expired, which stops its chain', async () => {
    const vendor = generateKeyPairSync('ed25519');
    const file = new InMemoryLicenseFile();
    const licenseFile = join(dataDir, 'license.key');
    file.write(issueLicense({ privateKey: vendor.privateKey, customer: 'Contoso', issuedAt: new Date('2025-01-01T00:00:00Z'), expiresAt: new Date('2025-12-31T23:59:59Z'), licenseId: 'lic-expired' }));
    const monitor = new LicenseMonitor({ file: licenseFile, trustedKeys: [{ keyId: keyIdOf(vendor.publicKey), publicKey: vendor.publicKey, source: 'test' }] }, { files: file });
    const config = SyncEngineConfig.load({ IM_DATA_DIR: dataDir, ...db.env, IM_DB_AUTO_MIGRATE: 'false' }, '/');
    const clock = new FakeClock(T0);
    const identity: EngineIdentity = { instanceId: 'licensed-engine', isActive: true };
    // The app as it is wired, minus its timers (never initialized): ticks and polls are driven by hand.
    const app = await Test.createTestingModule({ imports: [buildAppModule(config)] })
      .overrideProvider(EngineIdentity)
      .useValue(identity)
      .overrideProvider(LicenseMonitor)
      .useValue(monitor)
      .overrideProvider(SchedulerClock)
      .useValue(clock)
      .compile();
    try {
      const service = app.get(ScheduleService);
      const x = await app.get(ConnectorRepository).create({ name: `licensed ${Math.random()}`, type: 'csv', config: {}, schedule: { intervalSeconds: 600, profiles: ['full-import', 'full-sync'] } });
      await service.tick();
      clock.advance(10 * MINUTE);
      await service.tick();
      await app.get(RunQueueService).poll();
      await app.get(RunExecutor).settled();
      await service.tick();

      const [run, ...others] = await runsOf(x.id);
      expect(others).toEqual([]);
      expect(run).toMatchObject({ trigger: 'schedule', profile: 'full-import', status: 'cancelled', engineInstanceId: 'licensed-engine', chainState: 'stopped', added: 0 });
      expect(run.message).toMatch(/^scheduled run of connector "licensed .*" full-import refused: the license is expired \(license lic-expired for "Contoso" expired on 2025-12-31T23:59:59.000Z\)\. Remedy: /);
      expect(logsOf(x.id, 'warn')).toEqual([expect.stringMatching(new RegExp(`stopped at step 1 of 2 \\(full-import\\): run ${run.id} ended cancelled: scheduled run of connector .* refused: the license is expired .*; not queued: full-sync$`))]);
    } finally {
      await app.close();
    }
  });
});
