import { SecretProviderUnavailableError } from '../secret.errors';
import type { SecretSettings } from '../config/secret-settings';
import type { SecretProvider } from '../secret-provider';
import { createSecretProvider, SECRET_PROVIDER_FACTORIES, SecretProviders } from './create-secret-provider';
import { AzureKeyVaultProvider } from './azure-key-vault.provider';
import { HostKeyProvider } from './host-key.provider';
import { SharedKeyProvider } from './shared-key.provider';

const settings: SecretSettings = { provider: 'host', hostKeyFile: '/nonexistent/host.key', sharedKey: 'AAAA' };

describe('createSecretProvider', () => {
  it('makes the configured provider, or the one asked for, without touching any key yet', () => {
    expect(createSecretProvider(settings)).toBeInstanceOf(HostKeyProvider);
    expect((createSecretProvider(settings) as HostKeyProvider).keyFile).toBe('/nonexistent/host.key');
    expect(createSecretProvider(settings, 'shared-key')).toBeInstanceOf(SharedKeyProvider);
  });

  it('makes the azure-key-vault provider from the vault settings, and names the missing URL', async () => {
    const vault = createSecretProvider({ ...settings, provider: 'azure-key-vault', akvUrl: 'https://contoso.vault.azure.net/', akvCacheSeconds: 0 });
    expect(vault).toBeInstanceOf(AzureKeyVaultProvider);
    expect(await vault.currentKeyId()).toBe('akv:contoso.vault.azure.net');
    expect(() => createSecretProvider(settings, 'azure-key-vault')).toThrow(SecretProviderUnavailableError);
    expect(() => createSecretProvider(settings, 'azure-key-vault')).toThrow(/azure-key-vault is not usable: IM_SECRETS_AKV_URL is not set/);
  });

  it('creates each provider once per SecretProviders, on first need', () => {
    const made: string[] = [];
    const factories = {
      ...SECRET_PROVIDER_FACTORIES,
      host: (s: SecretSettings): SecretProvider => {
        made.push('host');
        return SECRET_PROVIDER_FACTORIES.host(s);
      },
    };
    const providers = new SecretProviders(settings, factories);
    expect(made).toEqual([]);
    expect(providers.current()).toBe(providers.get('host'));
    expect(providers.get('shared-key')).toBeInstanceOf(SharedKeyProvider);
    expect(made).toEqual(['host']);
  });
});
