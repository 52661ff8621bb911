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
import { currentHost, LicenseSettings, LicenseSettingsError, loadLicenseSettings } from '@identitymesh/license';
import { resolveSecretSettings, SecretSettings, secretSettingsProblems, secretSettingsShape, SecretSettingsValues } from '@identitymesh/secrets';
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
  IM_ENGINE_STALE_AFTER_SECONDS: setting.positiveInt(45),
  ...secretSettingsShape,
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
  /** `IM_SECRETS_*`: how `POST /api/connectors/{id}/test` opens a connector's secret references (the engine's settings). */
  secrets!: SecretSettings;

  /** The one place the Admin API reads its environment. */
  static load(env: RawSettings = process.env, cwd = process.cwd()): AdminApiConfig {
    const merged = mergeConfigFile(env);
    const common = loadCommonConfig('admin-api', PRODUCT_VERSION, merged, cwd);
    assertClusterModeAvailable(common);
    const own = parseSettings(adminApiSettingsShape, merged);
    const secrets = resolveSecretSettings(own as SecretSettingsValues, common.dataDir);
    const secretProblems = secretSettingsProblems(secrets, [secrets.provider]);
    if (secretProblems.length > 0) throw new ConfigError(secretProblems);
    return Object.assign(new AdminApiConfig(), common, {
      port: own.IM_ADMIN_PORT,
      database: loadDatabaseConfig('admin-api', common.dataDir, merged),
      license: loadLicenseConfig(own, common.dataDir, merged),
      oidc: loadOidcSettings(own),
      engineStaleAfterMs: own.IM_ENGINE_STALE_AFTER_SECONDS * 1000,
      secrets,
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
