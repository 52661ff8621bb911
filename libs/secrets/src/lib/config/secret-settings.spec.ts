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
});
