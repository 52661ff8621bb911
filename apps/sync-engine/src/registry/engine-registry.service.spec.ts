import { Logger } from '@nestjs/common';
import type { EngineInstanceStatus } from '@identitymesh/domain';
import { HealthRegistry, MetricsRegistry } from '@identitymesh/platform';
import type { EngineRegistryRepository } from '@identitymesh/persistence';
import type { SyncEngineConfig } from '../config/sync-engine.config';
import { EngineRegistryService } from './engine-registry.service';

const HEARTBEAT_MS = 1_000;
const STALE_AFTER_MS = 5_000;

/** The registry as the database holds it for this one engine: its status, which another engine's promotion may change. */
function registry() {
  const row: { status: EngineInstanceStatus } = { status: 'active' };
  const repository = {
    register: async (_self: unknown, decide: (others: never[]) => { kind: string }) => decide([]),
    heartbeat: async () => row.status !== 'stopped',
    statusOf: async () => row.status,
    listRecent: async () => [],
    promote: async () => true,
    markStopped: async () => undefined,
  };
  return { row, repository: repository as unknown as EngineRegistryRepository };
}

/**
 * The active engine paused (SIGSTOP, a frozen VM) for longer than the
 * staleness limit, while a standby was promoted: when it resumes it takes no
 * work before a heartbeat, and the heartbeat makes it passive.
 */
describe('EngineRegistryService', () => {
  const config = { clusterMode: 'single', version: '0.1.0', registry: { heartbeatMs: HEARTBEAT_MS, staleAfterMs: STALE_AFTER_MS, onConflict: 'passive' } } as SyncEngineConfig;

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  async function started() {
    const { row, repository } = registry();
    const health = new HealthRegistry();
    const service = new EngineRegistryService(config, repository, health, new MetricsRegistry());
    await service.onApplicationBootstrap();
    const detail = async () => (await health.readiness()).checks.find((check) => check.name === 'engine-registry')?.detail;
    return { row, service, detail };
  }

  it('stays active while its heartbeats confirm it', async () => {
    const { service, detail } = await started();
    await jest.advanceTimersByTimeAsync(10 * HEARTBEAT_MS);
    expect(service.isActive).toBe(true);
    expect(await detail()).toMatch(/\(active\)$/);
    await service.beforeApplicationShutdown();
  });

  it('takes no work once its last confirmed heartbeat is nearly as old as the staleness limit, before any heartbeat has run', async () => {
    const { service } = await started();
    // The process was stopped: the clock moved on, no timer ran.
    jest.setSystemTime(Date.now() + STALE_AFTER_MS);
    expect(service.isActive).toBe(false);
    await service.beforeApplicationShutdown();
  });

  it('becomes passive when its heartbeat finds that a standby was promoted meanwhile', async () => {
    const { row, service, detail } = await started();
    row.status = 'passive';
    await jest.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(service.isActive).toBe(false);
    expect(await detail()).toMatch(/\(passive\)$/);
    await service.beforeApplicationShutdown();
  });
});
