import { LICENSE_ERROR_CODES } from './license.errors';
import { licenseRemedy } from './license-remedy';

describe('licenseRemedy', () => {
  it('has its own remedy for every code', () => {
    const remedies = LICENSE_ERROR_CODES.map((code) => licenseRemedy(code, '/etc/identitymesh/license.key'));
    expect(new Set(remedies).size).toBe(LICENSE_ERROR_CODES.length);
  });

  it('names the file and the setting to change', () => {
    expect(licenseRemedy('LICENSE_MISSING', '/etc/identitymesh/license.key')).toBe(
      'put the license.key from your IdentityMesh vendor at /etc/identitymesh/license.key, or point IM_LICENSE_FILE at it',
    );
    expect(licenseRemedy('LICENSE_EXPIRED', '/data/license.key')).toBe('install a renewed license at /data/license.key; it is picked up without a restart');
    expect(licenseRemedy('LICENSE_UNTRUSTED_KEY', '/data/license.key')).toContain('IM_LICENSE_PUBLIC_KEYS');
  });
});
