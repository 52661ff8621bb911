import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import {
  assertClusterModeAvailable,
  CommonConfig,
  ConfigError,
  loadCommonConfig,
  mergeConfigFile,
  parseSettings,
  PRODUCT_VERSION,
  RawSettings,
  setting,
} from '@identitymesh/platform';
import { ENROLLMENT_TOKEN_PREFIX } from '@identitymesh/connector-sdk';
import {
  defaultSecretRecordsFile,
  resolveSecretSettings,
  SecretSettings,
  secretSettingsProblems,
  secretSettingsShape,
  SecretSettingsValues,
} from '@identitymesh/secrets';

/** The protocol caps one work:pull at 16 items. */
const MAX_CONCURRENT_ITEMS = 16;

const relayAgentSettingsShape = {
  IM_RELAY_PORT: setting.port(8082),
  IM_RELAY_NAME: z.string().min(1).max(128).optional(),
  IM_HUB_URL: setting.url(['http', 'https']).optional(),
  // Checked below without quoting it: a validation message must never print a token.
  IM_RELAY_ENROLLMENT_TOKEN: z.string().optional(),
  IM_RELAY_MAX_CONCURRENT_ITEMS: setting
    .positiveInt(4)
    .refine((n) => n <= MAX_CONCURRENT_ITEMS, { message: `must be at most ${MAX_CONCURRENT_ITEMS}` }),
  IM_RELAY_SECRETS_FILE: z.string().min(1).optional(),
  ...secretSettingsShape,
};

/** The relay agent's configuration. It has no database settings: a relay never touches SQL. */
export class RelayAgentConfig implements CommonConfig {
  readonly app = 'relay-agent';
  readonly version = PRODUCT_VERSION;
  dataDir!: string;
  clusterMode!: CommonConfig['clusterMode'];
  bindAddress!: string;
  /** `IM_SHUTDOWN_TIMEOUT_MS`: on SIGTERM the agent stops pulling work and lets what is in hand finish or abandons it within this. */
  shutdownTimeoutMs!: number;
  /** `IM_LOG_LEVEL` can change without a restart: the hub's reload-config command re-reads the config file. */
  log!: CommonConfig['log'];
  /** `IM_RELAY_PORT`: the agent's own health and metrics. @default 8082 */
  port!: number;
  /** `IM_RELAY_NAME`: how the hub lists this agent; sent when it enrolls. @default the host name */
  name!: string;
  /** The host name the agent reports to the hub with every connection. */
  host!: string;
  /**
   * `IM_HUB_URL`: the Admin API whose hub this agent dials out to (socket.io namespace `/hub` on it; enrollment at
   * `POST <url>/api/relays/enroll`). Optional here so `main.js secret set` works before it is known; the agent refuses
   * to start without it.
   */
  hubUrl?: string;
  /**
   * `IM_RELAY_ENROLLMENT_TOKEN`: the one-time token (`ime_…`, from `POST /api/relays/enrollments`) the agent trades
   * for its own credential on its first start. Ignored once a credential is stored; the agent refuses to start
   * with neither.
   */
  enrollmentToken?: string;
  /** `IM_RELAY_MAX_CONCURRENT_ITEMS`: work items (imports, exports, connection tests) run at once; 1 to 16. @default 4 */
  maxConcurrentItems!: number;
  /**
   * `IM_RELAY_SECRETS_FILE`: the file holding this host's secrets (the relay's credential under `relay/credential`
   * and the connectors' secrets set with `main.js secret set`), sealed by the `IM_SECRETS_*` provider.
   * Relative paths are inside the data directory. @default `<dataDir>/secrets.json`
   */
  secretsFile!: string;
  /** `IM_SECRETS_*`: how this host's secrets are protected (the host key by default, as on the engine's host). */
  secrets!: SecretSettings;

  /** The one place the relay agent reads its environment. */
  static load(env: RawSettings = process.env, cwd = process.cwd()): RelayAgentConfig {
    const merged = mergeConfigFile(env);
    const common = loadCommonConfig('relay-agent', PRODUCT_VERSION, merged, cwd);
    assertClusterModeAvailable(common);
    const own = parseSettings(relayAgentSettingsShape, merged);
    const token = own.IM_RELAY_ENROLLMENT_TOKEN;
    if (token !== undefined && !token.startsWith(ENROLLMENT_TOKEN_PREFIX)) {
      throw new ConfigError([{ setting: 'IM_RELAY_ENROLLMENT_TOKEN', problem: `is not an enrollment token (those start with ${ENROLLMENT_TOKEN_PREFIX})` }]);
    }
    const secrets = resolveSecretSettings(own as SecretSettingsValues, common.dataDir);
    const secretProblems = secretSettingsProblems(secrets, [secrets.provider]);
    if (secretProblems.length > 0) throw new ConfigError(secretProblems);
    const secretsFile = own.IM_RELAY_SECRETS_FILE;
    return Object.assign(new RelayAgentConfig(), common, {
      port: own.IM_RELAY_PORT,
      name: own.IM_RELAY_NAME ?? hostname(),
      host: hostname(),
      hubUrl: own.IM_HUB_URL?.replace(/\/+$/, ''),
      enrollmentToken: token,
      maxConcurrentItems: own.IM_RELAY_MAX_CONCURRENT_ITEMS,
      secretsFile: secretsFile ? (isAbsolute(secretsFile) ? secretsFile : resolve(common.dataDir, secretsFile)) : defaultSecretRecordsFile(common.dataDir),
      secrets,
    });
  }
}
