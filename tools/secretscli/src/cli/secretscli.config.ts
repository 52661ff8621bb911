import {
  ConfigError,
  DatabaseConfig,
  loadCommonConfig,
  loadDatabaseConfig,
  mergeConfigFile,
  parseSettings,
  PRODUCT_VERSION,
  RawSettings,
} from '@identitymesh/platform';
import type { SecretProviderName } from '@identitymesh/domain';
import { resolveSecretSettings, SecretSettings, secretSettingsProblems, secretSettingsShape, SecretSettingsValues } from '@identitymesh/secrets';

/** What secretscli reads from the environment: the same settings, and so the same database and key, as the services. */
export interface SecretsCliConfig {
  dataDir: string;
  database: DatabaseConfig;
  secrets: SecretSettings;
}

/** Throws ConfigError naming each unusable setting, for the providers this command will use. */
export function loadSecretsCliConfig(env: RawSettings, cwd: string): SecretsCliConfig {
  const merged = mergeConfigFile(env);
  const common = loadCommonConfig('secretscli', PRODUCT_VERSION, merged, cwd);
  const database = loadDatabaseConfig('secretscli', common.dataDir, merged);
  const secrets = resolveSecretSettings(parseSettings(secretSettingsShape, merged) as SecretSettingsValues, common.dataDir);
  return { dataDir: common.dataDir, database, secrets };
}

/** Stops before touching anything when a provider the command needs is not configured. */
export function assertProvidersConfigured(settings: SecretSettings, providers: SecretProviderName[]): void {
  const problems = secretSettingsProblems(settings, providers);
  if (problems.length > 0) throw new ConfigError(problems);
}
