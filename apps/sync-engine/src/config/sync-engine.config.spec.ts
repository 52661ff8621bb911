import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@identitymesh/platform';
import { SyncEngineConfig } from './sync-engine.config';

const dataDir = join(tmpdir(), 'im-engine-config-spec');

function problems(env: Record<string, string>): Array<{ setting: string; problem: string }> {
  try {
    SyncEngineConfig.load({ IM_DATA_DIR: dataDir, ...env }, '/');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('SyncEngineConfig run and secret settings', () => {
  it('defaults to four concurrent runs, a poll a second, one-minute leases and five recoveries, and the host secret provider', () => {
    const config = SyncEngineConfig.load({ IM_DATA_DIR: dataDir }, '/');
    expect(config.runs).toEqual({ maxConcurrent: 4, pollMs: 1_000, leaseMs: 60_000, maxRecoveries: 5 });
    expect(config.secrets).toMatchObject({ provider: 'host', hostKeyFile: join(dataDir, 'keys', 'secrets-host.key') });
    expect(config.exports).toEqual({ retryBaseMs: 30_000, retryMaxMs: 3_600_000 });
  });

  it('reads the export retry timing and refuses a maximum below the first wait', () => {
    expect(SyncEngineConfig.load({ IM_DATA_DIR: dataDir, IM_ENGINE_EXPORT_RETRY_SECONDS: '0', IM_ENGINE_EXPORT_RETRY_MAX_SECONDS: '0' }, '/').exports).toEqual({ retryBaseMs: 0, retryMaxMs: 0 });
    expect(problems({ IM_ENGINE_EXPORT_RETRY_SECONDS: '60', IM_ENGINE_EXPORT_RETRY_MAX_SECONDS: '30' })[0]).toMatchObject({ setting: 'IM_ENGINE_EXPORT_RETRY_MAX_SECONDS', problem: expect.stringContaining('must be at least') });
    expect(problems({ IM_ENGINE_EXPORT_RETRY_SECONDS: '-1' })[0]).toMatchObject({ setting: 'IM_ENGINE_EXPORT_RETRY_SECONDS', problem: expect.stringContaining('must be 0 or more') });
  });

  it('reads the settings', () => {
    const config = SyncEngineConfig.load(
      { IM_DATA_DIR: dataDir, IM_ENGINE_MAX_CONCURRENT_RUNS: '8', IM_ENGINE_RUN_POLL_MS: '250', IM_ENGINE_LEASE_SECONDS: '90', IM_ENGINE_MAX_RUN_RECOVERIES: '2', IM_SECRETS_PROVIDER: 'shared-key', IM_SECRETS_SHARED_KEY_FILE: 'keys/shared.key' },
      '/',
    );
    expect(config.runs).toEqual({ maxConcurrent: 8, pollMs: 250, leaseMs: 90_000, maxRecoveries: 2 });
    expect(config.secrets).toMatchObject({ provider: 'shared-key', sharedKeyFile: join(dataDir, 'keys', 'shared.key') });
  });

  it('reads the relay settings: an optional hub and a one-hour deadline for relay work by default', () => {
    expect(SyncEngineConfig.load({ IM_DATA_DIR: dataDir }, '/').relays).toEqual({ hubUrl: undefined, deadlineMs: 3_600_000 });
    expect(SyncEngineConfig.load({ IM_DATA_DIR: dataDir, IM_HUB_URL: 'https://admin.example.com/', IM_ENGINE_RELAY_DEADLINE_SECONDS: '600' }, '/').relays).toEqual({
      hubUrl: 'https://admin.example.com',
      deadlineMs: 600_000,
    });
    expect(problems({ IM_HUB_URL: 'admin.example.com' })[0]).toMatchObject({ setting: 'IM_HUB_URL' });
    expect(problems({ IM_ENGINE_RELAY_DEADLINE_SECONDS: '0' })[0]).toMatchObject({ setting: 'IM_ENGINE_RELAY_DEADLINE_SECONDS' });
    expect(problems({ IM_KEY_RING_ACTIVATION_LEAD_HOURS: String(24 * 365) })[0]).toMatchObject({ setting: 'IM_KEY_RING_ACTIVATION_LEAD_HOURS' });
  });

  it('names the setting that is wrong', () => {
    expect(problems({ IM_ENGINE_MAX_CONCURRENT_RUNS: '0' })).toEqual([{ setting: 'IM_ENGINE_MAX_CONCURRENT_RUNS', problem: 'must be greater than 0 (got "0")' }]);
    expect(problems({ IM_ENGINE_LEASE_SECONDS: '5' })[0]).toMatchObject({ setting: 'IM_ENGINE_LEASE_SECONDS', problem: expect.stringContaining('must be at least 15') });
    expect(problems({ IM_SECRETS_PROVIDER: 'shared-key' })).toEqual([{ setting: 'IM_SECRETS_SHARED_KEY_FILE', problem: 'is required for the shared-key provider (or set IM_SECRETS_SHARED_KEY)' }]);
    expect(problems({ IM_SECRETS_PROVIDER: 'vault' })[0]).toMatchObject({ setting: 'IM_SECRETS_PROVIDER' });
  });
});
