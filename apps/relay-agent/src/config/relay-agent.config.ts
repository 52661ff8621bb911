import { hostname } from 'node:os';
import { z } from 'zod';
import {
  assertClusterModeAvailable,
  CommonConfig,
  loadCommonConfig,
  mergeConfigFile,
  parseSettings,
  PRODUCT_VERSION,
  RawSettings,
  setting,
} from '@identitymesh/platform';

const relayAgentSettingsShape = {
  IM_RELAY_PORT: setting.port(8082),
  IM_RELAY_NAME: z.string().min(1).max(128).optional(),
  IM_HUB_URL: setting.url(['http', 'https']).optional(),
};

/** The relay agent's configuration. It has no database settings: a relay never touches SQL. */
export class RelayAgentConfig implements CommonConfig {
  readonly app = 'relay-agent';
  readonly version = PRODUCT_VERSION;
  dataDir!: string;
  clusterMode!: CommonConfig['clusterMode'];
  bindAddress!: string;
  shutdownTimeoutMs!: number;
  log!: CommonConfig['log'];
  /** `IM_RELAY_PORT`: the agent's own health and metrics. @default 8082 */
  port!: number;
  /** `IM_RELAY_NAME`: how the hub lists this agent. @default the host name */
  name!: string;
  /** `IM_HUB_URL`: the Admin API whose hub this agent dials out to. */
  hubUrl?: string;

  /** The one place the relay agent reads its environment. */
  static load(env: RawSettings = process.env, cwd = process.cwd()): RelayAgentConfig {
    const merged = mergeConfigFile(env);
    const common = loadCommonConfig('relay-agent', PRODUCT_VERSION, merged, cwd);
    assertClusterModeAvailable(common);
    const own = parseSettings(relayAgentSettingsShape, merged);
    return Object.assign(new RelayAgentConfig(), common, {
      port: own.IM_RELAY_PORT,
      name: own.IM_RELAY_NAME ?? hostname(),
      hubUrl: own.IM_HUB_URL,
    });
  }
}
