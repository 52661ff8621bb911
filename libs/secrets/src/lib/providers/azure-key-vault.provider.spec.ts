import { SecretProviderUnavailableError } from '../secret.errors';
import {
  AzureKeyVaultProvider,
  formatVaultSecretLocation,
  parseVaultSecretLocation,
  vaultSecretName,
  vaultUrlProblem,
} from './azure-key-vault.provider';

const VAULT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

describe('vaultSecretName', () => {
  it('maps a reference to a readable, valid and stable vault secret name', () => {
    const name = vaultSecretName('ldap/corp/bind-password');
    expect(name).toMatch(/^im-ldap-corp-bind-password-[0-9a-f]{16}$/);
    expect(name).toMatch(VAULT_NAME);
    expect(vaultSecretName('ldap/corp/bind-password')).toBe(name);
  });

  it('tells apart references whose readable parts are the same', () => {
    const references = ['a/b', 'a.b', 'a_b', 'a-b', 'a--b', 'a/b/', 'a/./b', 'a..b'];
    const names = references.map(vaultSecretName);
    expect(new Set(names).size).toBe(references.length);
    expect(names.map((n) => n.replace(/-[0-9a-f]{16}$/, ''))).toContain('im-a-b');
  });

  it('stays within the vault limit for the longest reference and for references of punctuation only', () => {
    const longest = `${'a'.repeat(100)}/${'b'.repeat(154)}`;
    expect(longest).toHaveLength(255);
    expect(vaultSecretName(longest).length).toBeLessThanOrEqual(127);
    expect(vaultSecretName(longest)).toMatch(VAULT_NAME);
    expect(vaultSecretName(`${'a'.repeat(95)}._x`)).toMatch(VAULT_NAME);
    expect(vaultSecretName(`${'a'.repeat(95)}._x`)).not.toContain('--');
    expect(vaultSecretName('._')).toMatch(/^im-[0-9a-f]{16}$/);
    // The same long prefix with different endings must still differ.
    expect(vaultSecretName(`${longest.slice(0, 254)}c`)).not.toBe(vaultSecretName(longest));
  });
});

describe('vaultUrlProblem', () => {
  it('accepts a vault base URL, with or without the trailing slash', () => {
    expect(vaultUrlProblem('https://contoso.vault.azure.net/')).toBeUndefined();
    expect(vaultUrlProblem('https://contoso.vault.azure.net')).toBeUndefined();
  });

  it.each([
    ['not a URL', 'contoso', 'must be a URL'],
    ['plain http', 'http://contoso.vault.azure.net/', 'must use https'],
    ['a path', 'https://contoso.vault.azure.net/secrets/x', 'no path'],
    ['credentials', 'https://user:pw@contoso.vault.azure.net/', 'must not hold a user name or password'],
  ])('refuses %s', (_case, url, expected) => {
    expect(vaultUrlProblem(url)).toContain(expected);
  });

  it('does not repeat credentials from the URL', () => {
    expect(vaultUrlProblem('https://user:pw@contoso.vault.azure.net/')).not.toContain('pw');
  });
});

describe('vault secret locations in SQL', () => {
  it('round-trips the name and version, and refuses anything else', () => {
    const location = { name: 'im-a-b-0123456789abcdef', version: '0123456789abcdef0123456789abcdef' };
    expect(parseVaultSecretLocation(formatVaultSecretLocation(location))).toEqual(location);
    for (const bad of ['', 'im1.x.y.z', '{}', '[]', 'null', '{"name":"a/b","version":"v"}', '{"name":"a","version":"../x"}', '{"name":"a"}']) {
      expect(parseVaultSecretLocation(bad)).toBeUndefined();
    }
  });
});

describe('AzureKeyVaultProvider construction', () => {
  it('names the vault host as its key id without reaching the vault', async () => {
    const provider = new AzureKeyVaultProvider({ vaultUrl: 'https://Contoso.vault.azure.net' });
    expect(provider.vaultUrl).toBe('https://contoso.vault.azure.net/');
    expect(await provider.currentKeyId()).toBe('akv:contoso.vault.azure.net');
  });

  it.each([
    [undefined, 'IM_SECRETS_AKV_URL is not set'],
    ['  ', 'IM_SECRETS_AKV_URL is not set'],
    ['http://contoso.vault.azure.net', 'IM_SECRETS_AKV_URL must use https'],
  ])('refuses vault URL %p with the setting name', (vaultUrl, expected) => {
    expect(() => new AzureKeyVaultProvider({ vaultUrl })).toThrow(SecretProviderUnavailableError);
    expect(() => new AzureKeyVaultProvider({ vaultUrl })).toThrow(expected);
  });
});
