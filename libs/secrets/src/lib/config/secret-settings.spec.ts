import { join } from 'node:path';
import { resolveSecretSettings, secretSettingsProblems, secretSettingsShape } from './secret-settings';

describe('secret settings', () => {
  const dataDir = '/var/lib/identitymesh';

  it('defaults to the host provider with its key file under the data directory', () => {
    expect(resolveSecretSettings({ IM_SECRETS_PROVIDER: 'host' }, dataDir)).toEqual({
      provider: 'host',
      hostKeyFile: join(dataDir, 'keys', 'secrets-host.key'),
      sharedKeyFile: undefined,
      sharedKey: undefined,
      akvUrl: undefined,
      akvCacheSeconds: 60,
    });
    expect(secretSettingsShape.IM_SECRETS_PROVIDER.parse(undefined)).toBe('host');
    expect(() => secretSettingsShape.IM_SECRETS_PROVIDER.parse('vault')).toThrow();
  });

  it('resolves relative key files against the data directory and keeps absolute ones', () => {
    const settings = resolveSecretSettings(
      { IM_SECRETS_PROVIDER: 'shared-key', IM_SECRETS_HOST_KEY_FILE: 'k/host.key', IM_SECRETS_SHARED_KEY_FILE: '/etc/im/shared.key' },
      dataDir,
    );
    expect(settings.hostKeyFile).toBe(join(dataDir, 'k', 'host.key'));
    expect(settings.sharedKeyFile).toBe('/etc/im/shared.key');
  });

  it('asks for a shared key only where the shared-key provider is used', () => {
    const host = resolveSecretSettings({ IM_SECRETS_PROVIDER: 'host' }, dataDir);
    expect(secretSettingsProblems(host, ['host'])).toEqual([]);
    expect(secretSettingsProblems(host, ['host', 'shared-key'])).toEqual([
      { setting: 'IM_SECRETS_SHARED_KEY_FILE', problem: 'is required for the shared-key provider (or set IM_SECRETS_SHARED_KEY)' },
    ]);
    const both = resolveSecretSettings({ IM_SECRETS_PROVIDER: 'shared-key', IM_SECRETS_SHARED_KEY_FILE: 'a', IM_SECRETS_SHARED_KEY: 'b' }, dataDir);
    expect(secretSettingsProblems(both, ['shared-key']).map((p) => p.setting)).toEqual(['IM_SECRETS_SHARED_KEY']);
  });

  it('asks for a usable vault URL only where the azure-key-vault provider is used', () => {
    const none = resolveSecretSettings({ IM_SECRETS_PROVIDER: 'azure-key-vault' }, dataDir);
    expect(secretSettingsProblems(none, ['host'])).toEqual([]);
    expect(secretSettingsProblems(none, ['azure-key-vault'])).toEqual([
      { setting: 'IM_SECRETS_AKV_URL', problem: 'is required for the azure-key-vault provider' },
    ]);
    const http = resolveSecretSettings({ IM_SECRETS_PROVIDER: 'azure-key-vault', IM_SECRETS_AKV_URL: 'http://contoso.vault.azure.net/' }, dataDir);
    expect(secretSettingsProblems(http, ['azure-key-vault'])).toEqual([{ setting: 'IM_SECRETS_AKV_URL', problem: 'must use https (got "http:")' }]);
    const withPassword = resolveSecretSettings({ IM_SECRETS_PROVIDER: 'azure-key-vault', IM_SECRETS_AKV_URL: 'https://me:hunter2@contoso.vault.azure.net/' }, dataDir);
    expect(secretSettingsProblems(withPassword, ['azure-key-vault'])).toEqual([
      { setting: 'IM_SECRETS_AKV_URL', problem: 'must not hold a user name or password' },
    ]);
    const good = resolveSecretSettings(
      { IM_SECRETS_PROVIDER: 'azure-key-vault', IM_SECRETS_AKV_URL: 'https://contoso.vault.azure.net/', IM_SECRETS_AKV_CACHE_SECONDS: 0 },
      dataDir,
    );
    expect(good).toMatchObject({ akvUrl: 'https://contoso.vault.azure.net/', akvCacheSeconds: 0 });
    expect(secretSettingsProblems(good, ['azure-key-vault'])).toEqual([]);
  });

  it('parses the vault settings: a cache of 60 seconds by default, 0 to 3600 allowed', () => {
    expect(secretSettingsShape.IM_SECRETS_AKV_CACHE_SECONDS.parse(undefined)).toBe(60);
    expect(secretSettingsShape.IM_SECRETS_AKV_CACHE_SECONDS.parse('0')).toBe(0);
    expect(secretSettingsShape.IM_SECRETS_AKV_CACHE_SECONDS.parse('3600')).toBe(3600);
    for (const bad of ['-1', '3601', '1.5', 'soon']) expect(() => secretSettingsShape.IM_SECRETS_AKV_CACHE_SECONDS.parse(bad)).toThrow();
    expect(secretSettingsShape.IM_SECRETS_AKV_URL.parse('https://contoso.vault.azure.net')).toBe('https://contoso.vault.azure.net');
    expect(secretSettingsShape.IM_SECRETS_AKV_URL.parse(undefined)).toBeUndefined();
  });
});
