import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { SECRET_PROVIDERS, SecretProviderName } from '@identitymesh/domain';
import { defaultHostKeyFile } from '../providers/host-key.provider';
import { AKV_CACHE_SECONDS_DEFAULT, AKV_CACHE_SECONDS_MAX, vaultUrlProblem } from '../providers/azure-key-vault.provider';

/**
 * The `IM_SECRETS_*` settings as a zod shape for the platform's
 * `parseSettings`, which an app's config class calls. The shared key is
 * checked by its provider, not here: a validation message that quotes the bad
 * value would print the key.
 */
export const secretSettingsShape = {
  IM_SECRETS_PROVIDER: z.enum(SECRET_PROVIDERS).default('host'),
  IM_SECRETS_HOST_KEY_FILE: z.string().min(1).optional(),
  IM_SECRETS_SHARED_KEY_FILE: z.string().min(1).optional(),
  IM_SECRETS_SHARED_KEY: z.string().optional(),
  // Its shape is checked by secretSettingsProblems, whose messages never quote a user name or password put in the URL.
  IM_SECRETS_AKV_URL: z.string().min(1).optional(),
  IM_SECRETS_AKV_CACHE_SECONDS: z.coerce
    .number({ message: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must be 0 (no cache) or more')
    .max(AKV_CACHE_SECONDS_MAX, `must be at most ${AKV_CACHE_SECONDS_MAX} (an hour)`)
    .default(AKV_CACHE_SECONDS_DEFAULT),
};

/** `secretSettingsShape` after `parseSettings`. */
export interface SecretSettingsValues {
  IM_SECRETS_PROVIDER: SecretProviderName;
  IM_SECRETS_HOST_KEY_FILE?: string;
  IM_SECRETS_SHARED_KEY_FILE?: string;
  IM_SECRETS_SHARED_KEY?: string;
  IM_SECRETS_AKV_URL?: string;
  /** @default 60 */
  IM_SECRETS_AKV_CACHE_SECONDS?: number;
}

export interface SecretSettings {
  /** The provider new secrets are protected with. @default 'host' */
  provider: SecretProviderName;
  /** @default `<dataDir>/keys/secrets-host.key` */
  hostKeyFile: string;
  sharedKeyFile?: string;
  /** Base64 text of the shared key, when given through the environment. */
  sharedKey?: string;
  /** The Azure Key Vault the azure-key-vault provider keeps values in, `https://<vault-name>.vault.azure.net/`. */
  akvUrl?: string;
  /** How long a value read from the vault is served from memory; 0 reads the vault every time. @default 60 */
  akvCacheSeconds?: number;
}

/** Resolves file settings against the data directory, as `IM_DB_SQLITE_FILE` is. */
export function resolveSecretSettings(values: SecretSettingsValues, dataDir: string): SecretSettings {
  const inDataDir = (path: string) => (isAbsolute(path) ? path : resolve(dataDir, path));
  return {
    provider: values.IM_SECRETS_PROVIDER,
    hostKeyFile: values.IM_SECRETS_HOST_KEY_FILE ? inDataDir(values.IM_SECRETS_HOST_KEY_FILE) : defaultHostKeyFile(dataDir),
    sharedKeyFile: values.IM_SECRETS_SHARED_KEY_FILE ? inDataDir(values.IM_SECRETS_SHARED_KEY_FILE) : undefined,
    sharedKey: values.IM_SECRETS_SHARED_KEY,
    akvUrl: values.IM_SECRETS_AKV_URL,
    akvCacheSeconds: values.IM_SECRETS_AKV_CACHE_SECONDS ?? AKV_CACHE_SECONDS_DEFAULT,
  };
}

/**
 * Settings missing for the providers a process will use, as `{ setting,
 * problem }` (the platform's SettingProblem), so the config class can stop
 * start-up with a ConfigError naming them.
 */
export function secretSettingsProblems(settings: SecretSettings, providers: SecretProviderName[]): Array<{ setting: string; problem: string }> {
  const problems: Array<{ setting: string; problem: string }> = [];
  if (providers.includes('shared-key')) {
    if (!settings.sharedKeyFile && settings.sharedKey === undefined) {
      problems.push({ setting: 'IM_SECRETS_SHARED_KEY_FILE', problem: 'is required for the shared-key provider (or set IM_SECRETS_SHARED_KEY)' });
    } else if (settings.sharedKeyFile && settings.sharedKey !== undefined) {
      problems.push({ setting: 'IM_SECRETS_SHARED_KEY', problem: 'must not be set together with IM_SECRETS_SHARED_KEY_FILE' });
    }
  }
  if (providers.includes('azure-key-vault')) {
    const problem = settings.akvUrl === undefined ? 'is required for the azure-key-vault provider' : vaultUrlProblem(settings.akvUrl);
    if (problem) problems.push({ setting: 'IM_SECRETS_AKV_URL', problem });
  }
  return problems;
}
