import { generateKeyPairSync } from 'node:crypto';
import { defaultLicenseFile, HostFacts, LicenseSettingsError, LINUX_LICENSE_FILE, loadLicenseSettings } from './license-settings';
import { keyIdOf, publicKeyToBase64 } from './trusted-keys';

const host = (platform: NodeJS.Platform, existing: string[] = [], env: Record<string, string> = {}): HostFacts => ({
  platform,
  env,
  exists: (path) => existing.includes(path),
});

describe('defaultLicenseFile', () => {
  it('is %ProgramData%\\IdentityMesh\\license.key on Windows, whatever the data directory', () => {
    expect(defaultLicenseFile('D:\\im-data', host('win32', [], { ProgramData: 'E:\\ProgramData' }))).toBe('E:\\ProgramData\\IdentityMesh\\license.key');
    expect(defaultLicenseFile('D:\\im-data', host('win32'))).toBe('C:\\ProgramData\\IdentityMesh\\license.key');
  });

  it('is /etc/identitymesh/license.key on Linux when that file exists', () => {
    expect(defaultLicenseFile('/var/lib/identitymesh', host('linux', [LINUX_LICENSE_FILE]))).toBe('/etc/identitymesh/license.key');
  });

  it('falls back to license.key in the data directory on Linux without /etc/identitymesh/license.key, and on other systems', () => {
    expect(defaultLicenseFile('/var/lib/identitymesh', host('linux'))).toBe('/var/lib/identitymesh/license.key');
    expect(defaultLicenseFile('/Library/Application Support/IdentityMesh', host('darwin', [LINUX_LICENSE_FILE]))).toBe(
      '/Library/Application Support/IdentityMesh/license.key',
    );
  });
});

describe('loadLicenseSettings', () => {
  const noFiles = () => undefined;

  it('takes IM_LICENSE_FILE over the default, resolving a relative path against the data directory', () => {
    expect(loadLicenseSettings({ file: '/opt/im/license.key' }, '/data', host('linux', [LINUX_LICENSE_FILE]), noFiles).file).toBe('/opt/im/license.key');
    expect(loadLicenseSettings({ file: 'licenses/current.key' }, '/data', host('linux'), noFiles).file).toBe('/data/licenses/current.key');
    expect(loadLicenseSettings({}, '/data', host('linux'), noFiles)).toEqual({ file: '/data/license.key', trustedKeys: [] });
  });

  it('reads IM_LICENSE_PUBLIC_KEYS into trusted keys', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const settings = loadLicenseSettings({ publicKeys: publicKeyToBase64(publicKey) }, '/data', host('linux'), noFiles);
    expect(settings.trustedKeys.map((k) => k.keyId)).toEqual([keyIdOf(publicKey)]);
  });

  it('reports a directory given as the license file under the name IM_LICENSE_FILE', () => {
    const directoryHost = { ...host('linux'), isDirectory: (path: string) => path === '/etc/identitymesh' };
    const load = () => loadLicenseSettings({ file: '/etc/identitymesh' }, '/data', directoryHost, noFiles);
    expect(load).toThrow(LicenseSettingsError);
    expect(load).toThrow('IM_LICENSE_FILE: /etc/identitymesh is a directory; name the license file itself (/etc/identitymesh/license.key)');
    expect(loadLicenseSettings({ file: '/etc/identitymesh/license.key' }, '/data', directoryHost, noFiles).file).toBe('/etc/identitymesh/license.key');
  });

  it('reports an unusable key entry under the name IM_LICENSE_PUBLIC_KEYS', () => {
    const load = () => loadLicenseSettings({ publicKeys: 'vendor.pem' }, '/data', host('linux'), noFiles);
    expect(load).toThrow(LicenseSettingsError);
    expect(load).toThrow('IM_LICENSE_PUBLIC_KEYS: vendor.pem: is neither a readable PEM file (nothing at /data/vendor.pem)');
  });
});
