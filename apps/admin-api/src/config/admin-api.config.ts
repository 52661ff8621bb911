import {
  assertClusterModeAvailable,
  CommonConfig,
  DatabaseConfig,
  loadCommonConfig,
  loadDatabaseConfig,
  parseSettings,
  PRODUCT_VERSION,
  RawSettings,
  mergeConfigFile,
  setting,
} from '@identitymesh/platform';

const adminApiSettingsShape = {
  IM_ADMIN_PORT: setting.port(8080),
};

/** The Admin API's whole configuration, validated once at start and injected by class. */
export class AdminApiConfig implements CommonConfig {
  readonly app = 'admin-api';
  readonly version = PRODUCT_VERSION;
  dataDir!: string;
  clusterMode!: CommonConfig['clusterMode'];
  bindAddress!: string;
  shutdownTimeoutMs!: number;
  log!: CommonConfig['log'];
  /** `IM_ADMIN_PORT`: REST API, OpenAPI, health and metrics. @default 8080 */
  port!: number;
  database!: DatabaseConfig;

  /** The one place the Admin API reads its environment. */
  static load(env: RawSettings = process.env, cwd = process.cwd()): AdminApiConfig {
    const merged = mergeConfigFile(env);
    const common = loadCommonConfig('admin-api', PRODUCT_VERSION, merged, cwd);
    assertClusterModeAvailable(common);
    const own = parseSettings(adminApiSettingsShape, merged);
    return Object.assign(new AdminApiConfig(), common, {
      port: own.IM_ADMIN_PORT,
      database: loadDatabaseConfig('admin-api', common.dataDir, merged),
    });
  }
}
