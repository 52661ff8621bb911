import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@identitymesh/platform';
import { keyIdOf, publicKeyToBase64 } from '@identitymesh/license';
import { AdminApiConfig } from './admin-api.config';

const dataDir = join(tmpdir(), 'im-admin-config-spec');

function configError(env: Record<string, string>): ConfigError {
  try {
    AdminApiConfig.load({ IM_DATA_DIR: dataDir, ...env }, '/');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('AdminApiConfig license settings', () => {
  it('resolves IM_LICENSE_FILE against the data directory and reads IM_LICENSE_PUBLIC_KEYS', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const config = AdminApiConfig.load({ IM_DATA_DIR: dataDir, IM_LICENSE_FILE: 'licenses/license.key', IM_LICENSE_PUBLIC_KEYS: publicKeyToBase64(publicKey) }, '/');
    expect(config.license.file).toBe(join(dataDir, 'licenses', 'license.key'));
    expect(config.license.trustedKeys.map((k) => k.keyId)).toEqual([keyIdOf(publicKey)]);
  });

  it('names IM_LICENSE_PUBLIC_KEYS when an entry is neither a key file nor a key', () => {
    expect(configError({ IM_LICENSE_PUBLIC_KEYS: 'vendor-public.pem' }).problems).toEqual([
      {
        setting: 'IM_LICENSE_PUBLIC_KEYS',
        problem: `vendor-public.pem: is neither a readable PEM file (nothing at ${join(dataDir, 'vendor-public.pem')}) nor a base64 Ed25519 public key (SPKI DER)`,
      },
    ]);
  });

  it('names IM_LICENSE_FILE when it is a directory', () => {
    const error = configError({ IM_LICENSE_FILE: tmpdir() });
    expect(error.problems).toEqual([{ setting: 'IM_LICENSE_FILE', problem: `${tmpdir()} is a directory; name the license file itself (${join(tmpdir(), 'license.key')})` }]);
    expect(error.message).toContain('IM_LICENSE_FILE');
  });
});
