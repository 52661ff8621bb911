import { Logger } from '@nestjs/common';
import { MetricsRegistry } from '@identitymesh/platform';
import type { ConnectorLeaseRepository, LeaseGrant, LeaseTiming } from '@identitymesh/persistence';
import type { SyncEngineConfig } from '../config/sync-engine.config';
import { LeaseService } from './lease.service';

const LEASE_MS = 15_000;

/** A lease repository whose first acquisition waits, as a takeover waits for a paused holder's open transaction. */
function waitingRepository(waitMs: number) {
  let token = 1;
  const calls: Array<LeaseTiming & { takeover: string }> = [];
  const repository = {
    acquire: async (connectorId: string, engineInstanceId: string, timing: LeaseTiming & { takeover: string }): Promise<LeaseGrant> => {
      calls.push(timing);
      if (calls.length === 1) jest.setSystemTime(Date.now() + waitMs);
      token++;
      return { connectorId, engineInstanceId, fencingToken: token, acquiredAt: timing.now, expiresAt: new Date(timing.now.getTime() + timing.durationMs), tookOverFrom: calls.length === 1 ? 'engine-a' : null };
    },
  };
  return { repository: repository as unknown as ConnectorLeaseRepository, calls };
}

describe('LeaseService', () => {
  const config = { clusterMode: 'single', runs: { leaseMs: LEASE_MS } } as SyncEngineConfig;
  const engine = { instanceId: 'engine-b', isActive: true };

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('acquires once more at once when taking the lease over waited longer than a renewal interval, so the run never starts on a lease that ran out', async () => {
    const { repository, calls } = waitingRepository(60_000);
    const grant = await new LeaseService(config, repository, engine, new MetricsRegistry()).acquire('connector-1', () => undefined);
    expect(calls).toHaveLength(2);
    expect(grant).toMatchObject({ fencingToken: 3, tookOverFrom: 'engine-a' });
    expect(grant?.expiresAt.getTime()).toBe(Date.now() + LEASE_MS);
  });

  it('keeps the first grant when the acquisition did not wait', async () => {
    const { repository, calls } = waitingRepository(100);
    const grant = await new LeaseService(config, repository, engine, new MetricsRegistry()).acquire('connector-1', () => undefined);
    expect(calls).toHaveLength(1);
    expect(grant).toMatchObject({ fencingToken: 2, tookOverFrom: 'engine-a' });
  });
});
