import { SecretProviderUnavailableError } from '../secret.errors';
import type { SecretSettings } from '../config/secret-settings';
import type { SecretProvider } from '../secret-provider';
import { createSecretProvider, SECRET_PROVIDER_FACTORIES, SecretProviders } from './create-secret-provider';
import { HostKeyProvider } from './host-key.provider';
import { SharedKeyProvider } from './shared-key.provider';

const settings: SecretSettings = { provider: 'host', hostKeyFile: '/nonexistent/host.key', sharedKey: 'AAAA' };

describe('createSecretProvider', () => {
  it('makes the configured provider, or the one asked for, without touching any key yet', () => {
    expect(createSecretProvider(settings)).toBeInstanceOf(HostKeyProvider);
    expect((createSecretProvider(settings) as HostKeyProvider).keyFile).toBe('/nonexistent/host.key');
    expect(createSecretProvider(settings, 'shared-key')).toBeInstanceOf(SharedKeyProvider);
  });

  it('says azure-key-vault is not available yet', () => {
    expect(() => createSecretProvider({ ...settings, provider: 'azure-key-vault' })).toThrow(SecretProviderUnavailableError);
    expect(() => createSecretProvider(settings, 'azure-key-vault')).toThrow(/azure-key-vault is not usable: it is not available in this build yet/);
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
