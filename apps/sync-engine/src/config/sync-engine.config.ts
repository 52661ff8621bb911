import { z } from 'zod';
import {
  assertClusterModeAvailable,
  CommonConfig,
  ConfigError,
  DatabaseConfig,
  loadCommonConfig,
  loadDatabaseConfig,
  mergeConfigFile,
  parseSettings,
  PRODUCT_VERSION,
  RawSettings,
  setting,
} from '@identitymesh/platform';
import { currentHost, LicenseSettings, LicenseSettingsError, loadLicenseSettings } from '@identitymesh/license';
import { KeyRingSettings, keyRingSettingsFromValues, keyRingSettingsProblems, keyRingSettingsShape } from '@identitymesh/key-ring';
import { resolveSecretSettings, SecretSettings, secretSettingsProblems, secretSettingsShape, SecretSettingsValues } from '@identitymesh/secrets';
import type { EngineConflictPolicy } from '@identitymesh/domain';

const syncEngineSettingsShape = {
  IM_ENGINE_PORT: setting.port(8081),
  IM_ENGINE_HEARTBEAT_SECONDS: setting.positiveInt(10),
  IM_ENGINE_STALE_AFTER_SECONDS: setting.positiveInt(45),
  IM_ENGINE_ON_CONFLICT: z.enum(['refuse', 'passive']).default('refuse'),
  IM_ENGINE_MAX_CONCURRENT_RUNS: setting.positiveInt(4),
  IM_ENGINE_RUN_POLL_MS: setting.positiveInt(1_000),
  IM_ENGINE_LEASE_SECONDS: setting.positiveInt(60),
  IM_ENGINE_MAX_RUN_RECOVERIES: setting.positiveInt(5),
  IM_ENGINE_SCHEDULER_TICK_MS: setting.positiveInt(5_000),
  IM_ENGINE_EXPORT_RETRY_SECONDS: secondsOrZero(30),
  IM_ENGINE_EXPORT_RETRY_MAX_SECONDS: secondsOrZero(3_600),
  IM_ENGINE_RELAY_DEADLINE_SECONDS: setting.positiveInt(3_600),
  IM_HUB_URL: setting.url(['http', 'https']).optional(),
  IM_LICENSE_FILE: setting.text().optional(),
  IM_LICENSE_PUBLIC_KEYS: setting.text().optional(),
  ...secretSettingsShape,
  ...keyRingSettingsShape,
};

function secondsOrZero(fallback: number) {
  return z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more').default(fallback);
}

/** A lease must outlast a few missed renewals (renewed every third of it) and a slow batch. */
const MIN_LEASE_SECONDS = 15;

/** The Sync Engine's whole configuration, validated once at start and injected by class. */
export class SyncEngineConfig implements CommonConfig {
  readonly app = 'sync-engine';
  readonly version = PRODUCT_VERSION;
  dataDir!: string;
  clusterMode!: CommonConfig['clusterMode'];
  bindAddress!: string;
  shutdownTimeoutMs!: number;
  log!: CommonConfig['log'];
  /** `IM_ENGINE_PORT`: the engine's health and metrics. @default 8081 */
  port!: number;
  database!: DatabaseConfig;
  /** `IM_LICENSE_FILE` and `IM_LICENSE_PUBLIC_KEYS`: where the license is and whose signature it must carry. */
  license!: LicenseSettings;
  registry!: {
    /** `IM_ENGINE_HEARTBEAT_SECONDS` @default 10 */
    heartbeatMs: number;
    /** `IM_ENGINE_STALE_AFTER_SECONDS`: a heartbeat older than this means the engine is gone. @default 45 */
    staleAfterMs: number;
    /** `IM_ENGINE_ON_CONFLICT`: what a second engine on the same database does. @default refuse */
    onConflict: EngineConflictPolicy;
  };
  runs!: {
    /** `IM_ENGINE_MAX_CONCURRENT_RUNS`: runs of different connectors at once; one connector's runs never overlap. @default 4 */
    maxConcurrent: number;
    /** `IM_ENGINE_RUN_POLL_MS`: how often the engine looks for queued runs. @default 1000 */
    pollMs: number;
    /** `IM_ENGINE_LEASE_SECONDS`: how long a connector lease lasts without renewal; renewed every third of it. @default 60 */
    leaseMs: number;
    /** `IM_ENGINE_MAX_RUN_RECOVERIES`: how often a run interrupted by an engine's death is resumed before it is failed. @default 5 */
    maxRecoveries: number;
  };
  exports!: {
    /**
     * `IM_ENGINE_EXPORT_RETRY_SECONDS`: the wait after an export's first failure; it doubles with
     * each further one (with jitter) up to the maximum. 0: retried by the next export run. @default 30
     */
    retryBaseMs: number;
    /** `IM_ENGINE_EXPORT_RETRY_MAX_SECONDS`: the longest wait between two attempts of one export. @default 3600 */
    retryMaxMs: number;
  };
  scheduler!: {
    /** `IM_ENGINE_SCHEDULER_TICK_MS`: how often the active engine fires due schedules and moves chains on; a fire is at most this late. @default 5000 */
    tickMs: number;
  };
  /** `IM_SECRETS_*`: how connectors' secret references are opened (the same settings as secretscli's). */
  secrets!: SecretSettings;
  relays!: {
    /**
     * `IM_HUB_URL`: the Admin API whose hub the engine tells at once about relay work it queued. Optional: without
     * it (or while the hub is away) relays find the work at the hub's next poll of the work queue.
     */
    hubUrl: string | undefined;
    /** `IM_ENGINE_RELAY_DEADLINE_SECONDS`: how long relay work may wait for a relay and run before the engine gives up on it. @default 3600 */
    deadlineMs: number;
  };
  /**
   * `IM_KEY_RING_*`: the rotation schedule of the key ring the engine mints its hub token with. Set them as the
   * Admin API's: both apps maintain the same ring in SQL.
   */
  keyRing!: KeyRingSettings;

  /** The one place the Sync Engine reads its environment. */
  static load(env: RawSettings = process.env, cwd = process.cwd()): SyncEngineConfig {
    const merged = mergeConfigFile(env);
    const common = loadCommonConfig('sync-engine', PRODUCT_VERSION, merged, cwd);
    assertClusterModeAvailable(common);
    const own = parseSettings(syncEngineSettingsShape, merged);
    if (own.IM_ENGINE_STALE_AFTER_SECONDS <= own.IM_ENGINE_HEARTBEAT_SECONDS * 2) {
      throw new ConfigError([{ setting: 'IM_ENGINE_STALE_AFTER_SECONDS', problem: 'must be more than twice IM_ENGINE_HEARTBEAT_SECONDS, or one late heartbeat makes a live engine look dead' }]);
    }
    if (own.IM_ENGINE_LEASE_SECONDS < MIN_LEASE_SECONDS) {
      throw new ConfigError([{ setting: 'IM_ENGINE_LEASE_SECONDS', problem: `must be at least ${MIN_LEASE_SECONDS}, or a slow batch or two missed renewals would lose the lease (got "${own.IM_ENGINE_LEASE_SECONDS}")` }]);
    }
    if (own.IM_ENGINE_EXPORT_RETRY_MAX_SECONDS < own.IM_ENGINE_EXPORT_RETRY_SECONDS) {
      throw new ConfigError([{ setting: 'IM_ENGINE_EXPORT_RETRY_MAX_SECONDS', problem: `must be at least IM_ENGINE_EXPORT_RETRY_SECONDS (${own.IM_ENGINE_EXPORT_RETRY_SECONDS}) (got "${own.IM_ENGINE_EXPORT_RETRY_MAX_SECONDS}")` }]);
    }
    const keyRing = keyRingSettingsFromValues(own);
    const keyRingProblems = keyRingSettingsProblems(keyRing);
    if (keyRingProblems.length > 0) throw new ConfigError(keyRingProblems);
    const secrets = resolveSecretSettings(own as SecretSettingsValues, common.dataDir);
    const secretProblems = secretSettingsProblems(secrets, [secrets.provider]);
    if (secretProblems.length > 0) throw new ConfigError(secretProblems);
    return Object.assign(new SyncEngineConfig(), common, {
      port: own.IM_ENGINE_PORT,
      database: loadDatabaseConfig('sync-engine', common.dataDir, merged),
      license: loadLicenseConfig(own, common.dataDir, merged),
      registry: {
        heartbeatMs: own.IM_ENGINE_HEARTBEAT_SECONDS * 1000,
        staleAfterMs: own.IM_ENGINE_STALE_AFTER_SECONDS * 1000,
        onConflict: own.IM_ENGINE_ON_CONFLICT,
      },
      runs: {
        maxConcurrent: own.IM_ENGINE_MAX_CONCURRENT_RUNS,
        pollMs: own.IM_ENGINE_RUN_POLL_MS,
        leaseMs: own.IM_ENGINE_LEASE_SECONDS * 1000,
        maxRecoveries: own.IM_ENGINE_MAX_RUN_RECOVERIES,
      },
      exports: {
        retryBaseMs: own.IM_ENGINE_EXPORT_RETRY_SECONDS * 1000,
        retryMaxMs: own.IM_ENGINE_EXPORT_RETRY_MAX_SECONDS * 1000,
      },
      scheduler: { tickMs: own.IM_ENGINE_SCHEDULER_TICK_MS },
      secrets,
      relays: { hubUrl: own.IM_HUB_URL?.replace(/\/+$/, ''), deadlineMs: own.IM_ENGINE_RELAY_DEADLINE_SECONDS * 1000 },
      keyRing,
    });
  }
}

/** The license settings, with a problem reported like any other bad setting (exit 78, the setting's name). */
function loadLicenseConfig(own: { IM_LICENSE_FILE?: string; IM_LICENSE_PUBLIC_KEYS?: string }, dataDir: string, env: RawSettings): LicenseSettings {
  try {
    return loadLicenseSettings({ file: own.IM_LICENSE_FILE, publicKeys: own.IM_LICENSE_PUBLIC_KEYS }, dataDir, currentHost(env));
  } catch (error) {
    if (error instanceof LicenseSettingsError) throw new ConfigError([{ setting: error.setting, problem: error.problem }]);
    throw error;
  }
}
