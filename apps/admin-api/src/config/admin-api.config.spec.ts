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

describe('AdminApiConfig OIDC settings', () => {
  it('leaves OIDC off without an issuer, and reads it with its defaults when set', () => {
    expect(AdminApiConfig.load({ IM_DATA_DIR: dataDir }, '/').oidc).toBeNull();
    const config = AdminApiConfig.load({ IM_DATA_DIR: dataDir, IM_OIDC_ISSUER: 'https://login.example.com/tenant/v2.0', IM_OIDC_AUDIENCE: 'api://identitymesh', IM_OIDC_ROLE_MAP: 'IM Admins=admin, IM Operators=operator' }, '/');
    expect(config.oidc).toMatchObject({ issuer: 'https://login.example.com/tenant/v2.0', audience: 'api://identitymesh', rolesClaim: 'roles', nameClaim: 'preferred_username', clockSkewSeconds: 60, algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] });
    expect([...(config.oidc?.roleMap ?? [])]).toEqual([
      ['reader', 'reader'],
      ['operator', 'operator'],
      ['admin', 'admin'],
      ['IM Admins', 'admin'],
      ['IM Operators', 'operator'],
    ]);
  });

  it('names the setting that is wrong', () => {
    expect(configError({ IM_OIDC_ISSUER: 'https://login.example.com' }).problems).toEqual([{ setting: 'IM_OIDC_AUDIENCE', problem: expect.stringContaining('is required when IM_OIDC_ISSUER is set') }]);
    expect(configError({ IM_OIDC_ISSUER: 'http://login.example.com', IM_OIDC_AUDIENCE: 'a' }).problems[0]).toMatchObject({ setting: 'IM_OIDC_ISSUER', problem: expect.stringContaining('must use https') });
    expect(configError({ IM_OIDC_ISSUER: 'https://x', IM_OIDC_AUDIENCE: 'a', IM_OIDC_ROLE_MAP: 'Admins=root' }).problems[0]).toMatchObject({ setting: 'IM_OIDC_ROLE_MAP' });
    expect(configError({ IM_OIDC_ISSUER: 'https://x', IM_OIDC_AUDIENCE: 'a', IM_OIDC_ALGORITHMS: 'HS256' }).problems[0]).toMatchObject({ setting: 'IM_OIDC_ALGORITHMS' });
    expect(configError({ IM_OIDC_CLOCK_SKEW_SECONDS: '900' }).problems[0]).toMatchObject({ setting: 'IM_OIDC_CLOCK_SKEW_SECONDS' });
    expect(configError({ IM_OIDC_AUDIENCE: 'a' }).problems[0]).toMatchObject({ setting: 'IM_OIDC_ISSUER' });
  });

  it('accepts a plain-HTTP issuer on loopback only', () => {
    expect(AdminApiConfig.load({ IM_DATA_DIR: dataDir, IM_OIDC_ISSUER: 'http://127.0.0.1:9000', IM_OIDC_AUDIENCE: 'a' }, '/').oidc?.issuer).toBe('http://127.0.0.1:9000');
  });
});

describe('AdminApiConfig browser sign-in settings', () => {
  const oidc = { IM_OIDC_ISSUER: 'https://login.example.com', IM_OIDC_AUDIENCE: 'api://identitymesh' };

  it('leaves browser sign-in off without a client id, and reads it with its defaults when set', () => {
    expect(AdminApiConfig.load({ IM_DATA_DIR: dataDir, ...oidc }, '/').sessions).toBeNull();
    const config = AdminApiConfig.load({ IM_DATA_DIR: dataDir, ...oidc, IM_OIDC_CLIENT_ID: 'console', IM_OIDC_CLIENT_SECRET_REF: 'oidc/console', IM_OIDC_REDIRECT_URI: 'https://admin.example.com/auth/callback' }, '/');
    expect(config.sessions).toEqual({
      clientId: 'console',
      clientSecret: { reference: 'oidc/console' },
      redirectUri: 'https://admin.example.com/auth/callback',
      scopes: ['openid', 'profile'],
      idleTimeoutMs: 60 * 60_000,
      maxLifetimeMs: 12 * 3_600_000,
      secureCookie: true,
      landingPath: '/api/docs',
    });
  });

  it('turns the Secure flag off by default on loopback HTTP only, and takes a public client without a secret', () => {
    const loopback = AdminApiConfig.load({ IM_DATA_DIR: dataDir, IM_OIDC_ISSUER: 'http://127.0.0.1:9000', IM_OIDC_AUDIENCE: 'a', IM_OIDC_CLIENT_ID: 'c', IM_OIDC_REDIRECT_URI: 'http://127.0.0.1:8080/auth/callback' }, '/');
    expect(loopback.sessions).toMatchObject({ secureCookie: false, clientSecret: null });
    const forced = AdminApiConfig.load({ IM_DATA_DIR: dataDir, IM_OIDC_ISSUER: 'http://127.0.0.1:9000', IM_OIDC_AUDIENCE: 'a', IM_OIDC_CLIENT_ID: 'c', IM_OIDC_REDIRECT_URI: 'http://127.0.0.1:8080/auth/callback', IM_SESSION_COOKIE_SECURE: 'true' }, '/');
    expect(forced.sessions?.secureCookie).toBe(true);
  });

  it('names the setting that is wrong', () => {
    const base = { ...oidc, IM_OIDC_CLIENT_ID: 'c', IM_OIDC_REDIRECT_URI: 'https://admin.example.com/auth/callback' };
    const problemOf = (env: Record<string, string>) => configError(env).problems[0];
    expect(problemOf({ IM_OIDC_CLIENT_ID: 'c', IM_OIDC_REDIRECT_URI: 'https://admin.example.com/auth/callback' })).toMatchObject({ setting: 'IM_OIDC_ISSUER' });
    expect(problemOf({ ...oidc, IM_OIDC_REDIRECT_URI: 'https://admin.example.com/auth/callback' })).toMatchObject({ setting: 'IM_OIDC_CLIENT_ID' });
    expect(problemOf({ ...oidc, IM_OIDC_CLIENT_ID: 'c' })).toMatchObject({ setting: 'IM_OIDC_REDIRECT_URI' });
    expect(problemOf({ ...base, IM_OIDC_REDIRECT_URI: 'http://admin.example.com/auth/callback' })).toMatchObject({ setting: 'IM_OIDC_REDIRECT_URI', problem: expect.stringContaining('https') });
    expect(problemOf({ ...base, IM_OIDC_REDIRECT_URI: 'https://admin.example.com/callback' })).toMatchObject({ setting: 'IM_OIDC_REDIRECT_URI' });
    expect(problemOf({ ...base, IM_OIDC_CLIENT_SECRET_REF: 'Not A Reference' })).toMatchObject({ setting: 'IM_OIDC_CLIENT_SECRET_REF' });
    expect(problemOf({ ...base, IM_OIDC_CLIENT_SECRET_FILE: join(dataDir, 'no-such-file') })).toMatchObject({ setting: 'IM_OIDC_CLIENT_SECRET_FILE' });
    expect(problemOf({ ...base, IM_OIDC_CLIENT_SECRET_FILE: '/etc/hostname', IM_OIDC_CLIENT_SECRET_REF: 'oidc/c' })).toMatchObject({ setting: 'IM_OIDC_CLIENT_SECRET_FILE' });
    expect(problemOf({ ...base, IM_OIDC_SCOPES: 'profile email' })).toMatchObject({ setting: 'IM_OIDC_SCOPES' });
    expect(problemOf({ ...base, IM_SESSION_IDLE_MINUTES: '600', IM_SESSION_MAX_HOURS: '8' })).toMatchObject({ setting: 'IM_SESSION_IDLE_MINUTES' });
    expect(problemOf({ ...base, IM_SESSION_MAX_HOURS: '400' })).toMatchObject({ setting: 'IM_SESSION_MAX_HOURS', problem: expect.stringContaining('IM_KEY_RING_VALIDATION_GRACE_DAYS') });
    for (const landing of ['https://evil.example.com/', '//evil.example.com/', '/\\evil.example.com', 'api/docs']) {
      expect(problemOf({ ...base, IM_SESSION_LANDING_PATH: landing })).toMatchObject({ setting: 'IM_SESSION_LANDING_PATH' });
    }
  });
});
