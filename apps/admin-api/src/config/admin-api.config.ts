import {
  assertClusterModeAvailable,
  CommonConfig,
  ConfigError,
  DatabaseConfig,
  loadCommonConfig,
  loadDatabaseConfig,
  parseSettings,
  PRODUCT_VERSION,
  RawSettings,
  mergeConfigFile,
  setting,
} from '@identitymesh/platform';
import { currentHost, LicenseSettings, LicenseSettingsError, loadLicenseSettings } from '@identitymesh/license';

const adminApiSettingsShape = {
  IM_ADMIN_PORT: setting.port(8080),
  IM_LICENSE_FILE: setting.text().optional(),
  IM_LICENSE_PUBLIC_KEYS: setting.text().optional(),
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
  /** `IM_LICENSE_FILE` and `IM_LICENSE_PUBLIC_KEYS`: where the license is and whose signature it must carry. */
  license!: LicenseSettings;

  /** The one place the Admin API reads its environment. */
  static load(env: RawSettings = process.env, cwd = process.cwd()): AdminApiConfig {
    const merged = mergeConfigFile(env);
    const common = loadCommonConfig('admin-api', PRODUCT_VERSION, merged, cwd);
    assertClusterModeAvailable(common);
    const own = parseSettings(adminApiSettingsShape, merged);
    return Object.assign(new AdminApiConfig(), common, {
      port: own.IM_ADMIN_PORT,
      database: loadDatabaseConfig('admin-api', common.dataDir, merged),
      license: loadLicenseConfig(own, common.dataDir, merged),
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
