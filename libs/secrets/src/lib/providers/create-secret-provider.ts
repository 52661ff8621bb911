import type { SecretProviderName } from '@identitymesh/domain';
import type { SecretProvider } from '../secret-provider';
import type { SecretSettings } from '../config/secret-settings';
import { AzureKeyVaultProvider } from './azure-key-vault.provider';
import { HostKeyProvider } from './host-key.provider';
import { SharedKeyProvider } from './shared-key.provider';

/**
 * One factory per provider name. The Record type makes adding a name to
 * SECRET_PROVIDERS a compile error until it has an entry here.
 */
export const SECRET_PROVIDER_FACTORIES: Record<SecretProviderName, (settings: SecretSettings) => SecretProvider> = {
  host: (settings) => new HostKeyProvider({ keyFile: settings.hostKeyFile }),
  'shared-key': (settings) => new SharedKeyProvider({ keyFile: settings.sharedKeyFile, keyBase64: settings.sharedKey }),
  'azure-key-vault': (settings) => new AzureKeyVaultProvider({ vaultUrl: settings.akvUrl, cacheSeconds: settings.akvCacheSeconds }),
};

/** The provider `name` (default: the configured one). Keys are read and vaults reached on first use, not here. */
export function createSecretProvider(settings: SecretSettings, name: SecretProviderName = settings.provider): SecretProvider {
  return SECRET_PROVIDER_FACTORIES[name](settings);
}

/** Where the secret store finds the provider that wrote a record, and the one new values go to. */
export interface SecretProviderSource {
  /** The configured provider: new and rotated values are protected with it. */
  current(): SecretProvider;
  /** The provider named by a record; throws SecretProviderUnavailableError when it can't be used here. */
  get(name: SecretProviderName): SecretProvider;
}

/** Creates each provider once, on first need, so a database holding secrets of two providers reads both. */
export class SecretProviders implements SecretProviderSource {
  private readonly created = new Map<SecretProviderName, SecretProvider>();

  constructor(
    private readonly settings: SecretSettings,
    private readonly factories: Record<SecretProviderName, (settings: SecretSettings) => SecretProvider> = SECRET_PROVIDER_FACTORIES,
  ) {}

  current(): SecretProvider {
    return this.get(this.settings.provider);
  }

  get(name: SecretProviderName): SecretProvider {
    let provider = this.created.get(name);
    if (!provider) {
      provider = this.factories[name](this.settings);
      this.created.set(name, provider);
    }
    return provider;
  }
}
