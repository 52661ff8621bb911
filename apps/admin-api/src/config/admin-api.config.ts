import { z } from 'zod';
import {
  assertClusterModeAvailable,
  CommonConfig,
  ConfigError,
  DatabaseConfig,
  loadCommonConfig,
  loadDatabaseConfig,
  parseSettings,
  PRODUCT_VERSION,
  RawSettings,
  mergeConfigFile,
  setting,
  SettingProblem,
} from '@identitymesh/platform';
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { keyRingSettingsFromValues, keyRingSettingsProblems, KeyRingSettings, keyRingSettingsShape } from '@identitymesh/key-ring';
import { currentHost, LicenseSettings, LicenseSettingsError, loadLicenseSettings } from '@identitymesh/license';
import {
  resolveSecretSettings,
  SECRET_REFERENCE_MAX_LENGTH,
  SECRET_REFERENCE_PATTERN,
  SecretSettings,
  secretSettingsProblems,
  secretSettingsShape,
  SecretSettingsValues,
} from '@identitymesh/secrets';
import { isRoleName, ROLE_NAMES, RoleName } from '../auth/permissions';

/** Signature algorithms jose accepts for OIDC access tokens unless `IM_OIDC_ALGORITHMS` says otherwise; never `none` or HMAC. */
const DEFAULT_OIDC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const adminApiSettingsShape = {
  IM_ADMIN_PORT: setting.port(8080),
  IM_LICENSE_FILE: setting.text().optional(),
  IM_LICENSE_PUBLIC_KEYS: setting.text().optional(),
  IM_OIDC_ISSUER: setting.url(['https', 'http']).optional(),
  IM_OIDC_AUDIENCE: setting.text().optional(),
  IM_OIDC_ROLES_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:/.-]{1,200}$/, 'must be a claim name, or a dotted path into the token such as realm_access.roles')
    .default('roles'),
  IM_OIDC_ROLE_MAP: setting.text().optional(),
  IM_OIDC_NAME_CLAIM: z.string().regex(/^[A-Za-z0-9_:/.-]{1,200}$/, 'must be a claim name').default('preferred_username'),
  IM_OIDC_CLOCK_SKEW_SECONDS: z.coerce.number({ message: 'must be a number of seconds' }).int('must be a whole number').min(0, 'must be 0 or more').max(300, 'must be at most 300').default(60),
  IM_OIDC_ALGORITHMS: setting.text().optional(),
  IM_OIDC_CLIENT_ID: setting.text().optional(),
  IM_OIDC_CLIENT_SECRET_REF: setting.text().optional(),
  IM_OIDC_CLIENT_SECRET_FILE: setting.text().optional(),
  IM_OIDC_REDIRECT_URI: setting.url(['https', 'http']).optional(),
  IM_OIDC_SCOPES: setting.text().default('openid profile'),
  IM_SESSION_IDLE_MINUTES: z.coerce.number({ message: 'must be a number of minutes' }).int('must be a whole number').min(1, 'must be 1 or more').default(60),
  IM_SESSION_MAX_HOURS: z.coerce.number({ message: 'must be a number of hours' }).int('must be a whole number').min(1, 'must be 1 or more').default(12),
  IM_SESSION_COOKIE_SECURE: setting.optionalBoolean(),
  IM_SESSION_LANDING_PATH: setting.text().default('/api/docs'),
  IM_ENGINE_STALE_AFTER_SECONDS: setting.positiveInt(45),
  IM_RELAY_WORK_RETENTION_DAYS: setting.positiveInt(7),
  ...secretSettingsShape,
  ...keyRingSettingsShape,
};

/** How OIDC bearer tokens are checked; absent when `IM_OIDC_ISSUER` is not set (then only API keys sign in). */
export interface OidcSettings {
  /** `IM_OIDC_ISSUER`: the issuer URL; its discovery document names the JWKS. */
  issuer: string;
  /** `IM_OIDC_AUDIENCE`: the `aud` a token must carry (the Admin API's client id or resource). */
  audience: string;
  /** `IM_OIDC_ROLES_CLAIM`: where the roles are, as a dotted path. @default roles */
  rolesClaim: string;
  /** `IM_OIDC_ROLE_MAP`: claim value → IdentityMesh role; the role names themselves map to themselves. */
  roleMap: ReadonlyMap<string, RoleName>;
  /** `IM_OIDC_NAME_CLAIM`: the claim audited as the caller's name, `sub` when absent. @default preferred_username */
  nameClaim: string;
  /** `IM_OIDC_CLOCK_SKEW_SECONDS`: tolerance on `exp`, `nbf` and `iat`. @default 60 */
  clockSkewSeconds: number;
  /** `IM_OIDC_ALGORITHMS` @default RS256, PS256, ES256, EdDSA */
  algorithms: string[];
}

/** Where the client secret of the sign-in flow comes from; none for a public client, which proves itself with PKCE alone. */
export type ClientSecretSource = { reference: string } | { file: string } | null;

/**
 * Browser sign-in (the authorization code flow with PKCE and a session
 * cookie); absent unless `IM_OIDC_CLIENT_ID` is set, and only with OIDC.
 */
export interface SessionSettings {
  /** `IM_OIDC_CLIENT_ID`: the Admin API's client at the issuer; the `aud` its ID tokens carry. */
  clientId: string;
  /** `IM_OIDC_CLIENT_SECRET_REF` (a secret of the secret store) or `IM_OIDC_CLIENT_SECRET_FILE`; null for a public client. */
  clientSecret: ClientSecretSource;
  /** `IM_OIDC_REDIRECT_URI`: this Admin API's `/auth/callback` as the browser reaches it, registered at the issuer. */
  redirectUri: string;
  /** `IM_OIDC_SCOPES`, always with `openid`. @default openid profile */
  scopes: string[];
  /** `IM_SESSION_IDLE_MINUTES`: a session unused this long ends. @default 60 minutes */
  idleTimeoutMs: number;
  /** `IM_SESSION_MAX_HOURS`: a session ends this long after sign-in, used or not. @default 12 hours */
  maxLifetimeMs: number;
  /** `IM_SESSION_COOKIE_SECURE`. @default true, false when the redirect URI is plain HTTP on loopback */
  secureCookie: boolean;
  /** `IM_SESSION_LANDING_PATH`: where the browser goes after signing in. @default /api/docs */
  landingPath: string;
}

/** The Admin API's whole configuration, validated once at start and injected by class. */
export class AdminApiConfig implements CommonConfig {
  readonly app = 'admin-api';
  readonly version = PRODUCT_VERSION;
  dataDir!: string;
  clusterMode!: CommonConfig['clusterMode'];
  bindAddress!: string;
  shutdownTimeoutMs!: number;
  log!: CommonConfig['log'];
  /** `IM_ADMIN_PORT`: REST API, OpenAPI, health and metrics. @default 8080 */
  port!: number;
  database!: DatabaseConfig;
  /** `IM_LICENSE_FILE` and `IM_LICENSE_PUBLIC_KEYS`: where the license is and whose signature it must carry. */
  license!: LicenseSettings;
  /** `IM_OIDC_*`; null when OIDC sign-in is not configured. */
  oidc!: OidcSettings | null;
  /** `IM_ENGINE_STALE_AFTER_SECONDS`: an engine whose heartbeat is older counts as gone in `GET /api/instances`. @default 45 */
  engineStaleAfterMs!: number;
  /** `IM_RELAY_WORK_RETENTION_DAYS`: finished and expired relay work items (and their staged batches) older than this are deleted by the hub. @default 7 */
  relayWorkRetentionMs!: number;
  /** `IM_SECRETS_*`: how `POST /api/connectors/{id}/test` opens a connector's secret references (the engine's settings). */
  secrets!: SecretSettings;
  /** `IM_OIDC_CLIENT_*`, `IM_OIDC_REDIRECT_URI`, `IM_SESSION_*`; null when browser sign-in is off. */
  sessions!: SessionSettings | null;
  /** `IM_KEY_RING_*`: the rotation of the keys that protect session cookies and CSRF tokens (docs/key-ring.md). */
  keyRing!: KeyRingSettings;

  /** The one place the Admin API reads its environment. */
  static load(env: RawSettings = process.env, cwd = process.cwd()): AdminApiConfig {
    const merged = mergeConfigFile(env);
    const common = loadCommonConfig('admin-api', PRODUCT_VERSION, merged, cwd);
    assertClusterModeAvailable(common);
    const own = parseSettings(adminApiSettingsShape, merged);
    const secrets = resolveSecretSettings(own as SecretSettingsValues, common.dataDir);
    const secretProblems = secretSettingsProblems(secrets, [secrets.provider]);
    if (secretProblems.length > 0) throw new ConfigError(secretProblems);
    const keyRing = keyRingSettingsFromValues(own);
    const keyRingProblems = keyRingSettingsProblems(keyRing);
    if (keyRingProblems.length > 0) throw new ConfigError(keyRingProblems);
    const oidc = loadOidcSettings(own);
    return Object.assign(new AdminApiConfig(), common, {
      port: own.IM_ADMIN_PORT,
      database: loadDatabaseConfig('admin-api', common.dataDir, merged),
      license: loadLicenseConfig(own, common.dataDir, merged),
      oidc,
      sessions: loadSessionSettings(own, oidc, keyRing, common.dataDir),
      engineStaleAfterMs: own.IM_ENGINE_STALE_AFTER_SECONDS * 1000,
      relayWorkRetentionMs: own.IM_RELAY_WORK_RETENTION_DAYS * 24 * 3600 * 1000,
      secrets,
      keyRing,
    });
  }
}

/** The license settings, with a problem reported like any other bad setting (exit 78, the setting's name). */
function loadLicenseConfig(own: { IM_LICENSE_FILE?: string; IM_LICENSE_PUBLIC_KEYS?: string }, dataDir: string, env: RawSettings): LicenseSettings {
  try {
    return loadLicenseSettings({ file: own.IM_LICENSE_FILE, publicKeys: own.IM_LICENSE_PUBLIC_KEYS }, dataDir, currentHost(env));
  } catch (error) {
    if (error instanceof LicenseSettingsError) throw new ConfigError([{ setting: error.setting, problem: error.problem }]);
    throw error;
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function loadOidcSettings(own: {
  IM_OIDC_ISSUER?: string;
  IM_OIDC_AUDIENCE?: string;
  IM_OIDC_ROLES_CLAIM: string;
  IM_OIDC_ROLE_MAP?: string;
  IM_OIDC_NAME_CLAIM: string;
  IM_OIDC_CLOCK_SKEW_SECONDS: number;
  IM_OIDC_ALGORITHMS?: string;
}): OidcSettings | null {
  const problems: SettingProblem[] = [];
  if (!own.IM_OIDC_ISSUER) {
    if (own.IM_OIDC_AUDIENCE) problems.push({ setting: 'IM_OIDC_ISSUER', problem: 'is required when IM_OIDC_AUDIENCE is set' });
    if (problems.length > 0) throw new ConfigError(problems);
    return null;
  }
  const issuerUrl = new URL(own.IM_OIDC_ISSUER);
  // Tokens and keys fetched over plain HTTP could be swapped on the way; only a provider on this host may use it (tests, a local proxy).
  if (issuerUrl.protocol === 'http:' && !LOOPBACK_HOSTS.has(issuerUrl.hostname)) {
    problems.push({ setting: 'IM_OIDC_ISSUER', problem: `must use https (http is accepted for a loopback issuer only; got "${own.IM_OIDC_ISSUER}")` });
  }
  if (!own.IM_OIDC_AUDIENCE) problems.push({ setting: 'IM_OIDC_AUDIENCE', problem: 'is required when IM_OIDC_ISSUER is set: a token issued for another application must be refused' });
  const roleMap = new Map<string, RoleName>(ROLE_NAMES.map((role) => [role, role]));
  for (const entry of (own.IM_OIDC_ROLE_MAP ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const claimValue = at > 0 ? entry.slice(0, at).trim() : '';
    const role = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!claimValue || !isRoleName(role)) {
      problems.push({ setting: 'IM_OIDC_ROLE_MAP', problem: `"${entry}" must be <claim value>=<role> with a role of ${ROLE_NAMES.join(', ')}` });
      continue;
    }
    roleMap.set(claimValue, role);
  }
  const algorithms = own.IM_OIDC_ALGORITHMS ? own.IM_OIDC_ALGORITHMS.split(',').map((a) => a.trim()).filter(Boolean) : DEFAULT_OIDC_ALGORITHMS;
  const unknown = algorithms.filter((a) => !ASYMMETRIC_ALGORITHMS.includes(a));
  if (unknown.length > 0 || algorithms.length === 0) {
    problems.push({ setting: 'IM_OIDC_ALGORITHMS', problem: `must list asymmetric JWS algorithms of ${ASYMMETRIC_ALGORITHMS.join(', ')} (got "${own.IM_OIDC_ALGORITHMS}")` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    issuer: own.IM_OIDC_ISSUER,
    audience: own.IM_OIDC_AUDIENCE as string,
    rolesClaim: own.IM_OIDC_ROLES_CLAIM,
    roleMap,
    nameClaim: own.IM_OIDC_NAME_CLAIM,
    clockSkewSeconds: own.IM_OIDC_CLOCK_SKEW_SECONDS,
    algorithms,
  };
}

const HOUR_MS = 3_600_000;

function loadSessionSettings(
  own: {
    IM_OIDC_CLIENT_ID?: string;
    IM_OIDC_CLIENT_SECRET_REF?: string;
    IM_OIDC_CLIENT_SECRET_FILE?: string;
    IM_OIDC_REDIRECT_URI?: string;
    IM_OIDC_SCOPES: string;
    IM_SESSION_IDLE_MINUTES: number;
    IM_SESSION_MAX_HOURS: number;
    IM_SESSION_COOKIE_SECURE?: boolean;
    IM_SESSION_LANDING_PATH: string;
  },
  oidc: OidcSettings | null,
  keyRing: KeyRingSettings,
  dataDir: string,
): SessionSettings | null {
  const problems: SettingProblem[] = [];
  if (!own.IM_OIDC_CLIENT_ID) {
    for (const name of ['IM_OIDC_CLIENT_SECRET_REF', 'IM_OIDC_CLIENT_SECRET_FILE', 'IM_OIDC_REDIRECT_URI'] as const) {
      if (own[name]) problems.push({ setting: 'IM_OIDC_CLIENT_ID', problem: `is required when ${name} is set (browser sign-in needs a client at the issuer)` });
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return null;
  }
  if (!oidc) problems.push({ setting: 'IM_OIDC_ISSUER', problem: 'is required when IM_OIDC_CLIENT_ID is set: browser sign-in goes through that issuer' });
  let clientSecret: ClientSecretSource = null;
  if (own.IM_OIDC_CLIENT_SECRET_REF && own.IM_OIDC_CLIENT_SECRET_FILE) {
    problems.push({ setting: 'IM_OIDC_CLIENT_SECRET_FILE', problem: 'cannot be set together with IM_OIDC_CLIENT_SECRET_REF; name the client secret one way' });
  } else if (own.IM_OIDC_CLIENT_SECRET_REF) {
    const reference = own.IM_OIDC_CLIENT_SECRET_REF;
    if (reference.length > SECRET_REFERENCE_MAX_LENGTH || !SECRET_REFERENCE_PATTERN.test(reference)) {
      problems.push({ setting: 'IM_OIDC_CLIENT_SECRET_REF', problem: `must be a secret reference such as oidc/admin-api-client (lower case, segments separated by /; got "${reference}")` });
    }
    clientSecret = { reference };
  } else if (own.IM_OIDC_CLIENT_SECRET_FILE) {
    const file = isAbsolute(own.IM_OIDC_CLIENT_SECRET_FILE) ? own.IM_OIDC_CLIENT_SECRET_FILE : join(dataDir, own.IM_OIDC_CLIENT_SECRET_FILE);
    // Read at each code exchange (so a rotated file needs no restart), but a missing file should stop start-up, not the first sign-in.
    if (!isReadableFile(file)) problems.push({ setting: 'IM_OIDC_CLIENT_SECRET_FILE', problem: `is not a readable file (${file})` });
    clientSecret = { file };
  }
  let secureDefault = true;
  if (!own.IM_OIDC_REDIRECT_URI) {
    problems.push({ setting: 'IM_OIDC_REDIRECT_URI', problem: 'is required when IM_OIDC_CLIENT_ID is set: the URL of this Admin API\'s /auth/callback as browsers reach it' });
  } else {
    const redirect = new URL(own.IM_OIDC_REDIRECT_URI);
    const loopback = LOOPBACK_HOSTS.has(redirect.hostname);
    // The authorization code travels in this URL; in clear text it is only acceptable on this host.
    if (redirect.protocol === 'http:' && !loopback) problems.push({ setting: 'IM_OIDC_REDIRECT_URI', problem: `must use https (http is accepted on loopback only; got "${own.IM_OIDC_REDIRECT_URI}")` });
    if (!redirect.pathname.endsWith('/auth/callback') || redirect.search || redirect.hash) {
      problems.push({ setting: 'IM_OIDC_REDIRECT_URI', problem: `must end in /auth/callback, without query or fragment (got "${own.IM_OIDC_REDIRECT_URI}")` });
    }
    secureDefault = !(redirect.protocol === 'http:' && loopback);
  }
  const scopes = own.IM_OIDC_SCOPES.split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid') || scopes.some((scope) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))) {
    problems.push({ setting: 'IM_OIDC_SCOPES', problem: `must list scopes separated by spaces, openid among them (got "${own.IM_OIDC_SCOPES}")` });
  }
  const idleTimeoutMs = own.IM_SESSION_IDLE_MINUTES * 60_000;
  const maxLifetimeMs = own.IM_SESSION_MAX_HOURS * HOUR_MS;
  if (idleTimeoutMs > maxLifetimeMs) problems.push({ setting: 'IM_SESSION_IDLE_MINUTES', problem: 'must not exceed IM_SESSION_MAX_HOURS' });
  // A session cookie is a key ring token; the ring refuses tokens that could outlive the key that protects them.
  if (maxLifetimeMs > keyRing.validationGraceMs) {
    problems.push({ setting: 'IM_SESSION_MAX_HOURS', problem: `must not exceed the key ring's validation grace (IM_KEY_RING_VALIDATION_GRACE_DAYS, ${keyRing.validationGraceMs / HOUR_MS} hours)` });
  }
  // Only a path of this Admin API: a landing URL elsewhere would make the sign-in an open redirect.
  if (!/^\/(?![/\\])[\x21-\x7E]*$/.test(own.IM_SESSION_LANDING_PATH)) {
    problems.push({ setting: 'IM_SESSION_LANDING_PATH', problem: `must be a path of this Admin API starting with a single / (got "${own.IM_SESSION_LANDING_PATH}")` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    clientId: own.IM_OIDC_CLIENT_ID,
    clientSecret,
    redirectUri: own.IM_OIDC_REDIRECT_URI as string,
    scopes,
    idleTimeoutMs,
    maxLifetimeMs,
    secureCookie: own.IM_SESSION_COOKIE_SECURE ?? secureDefault,
    landingPath: own.IM_SESSION_LANDING_PATH,
  };
}

function isReadableFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
