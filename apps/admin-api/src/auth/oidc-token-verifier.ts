import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { OidcSettings } from '../config/admin-api.config';
import { ApiError } from '../http/api-error';
import { permissionsOfRoles, RoleName } from './permissions';
import type { Principal } from './principal';

/** How long a failed discovery keeps the verifier from asking again, so a down issuer is not hammered per request. */
const DISCOVERY_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;

interface Discovery {
  jwks: JWTVerifyGetKey;
  /** Where browser sign-in sends the browser and exchanges the code; a provider for bearer tokens only may name neither. */
  authorizationEndpoint: string | undefined;
  tokenEndpoint: string | undefined;
}

/** The operator an ID token names, with the IdentityMesh roles its roles claim maps to. */
export interface IdTokenIdentity {
  subject: string;
  /** The configured name claim, or `sub`. */
  name: string;
  roles: RoleName[];
}

/**
 * Checks OIDC access tokens (JWTs) with jose: the signature against the
 * issuer's JWKS (found through its discovery document, refetched when a
 * token names an unknown key), the issuer, the audience, the expiry and
 * not-before with the configured clock skew, and an allowed algorithm.
 * Roles come from the configured claim, mapped to IdentityMesh roles.
 */
export class OidcTokenVerifier {
  private discovery: Promise<Discovery> | null = null;
  private failedAt = 0;

  constructor(
    private readonly settings: OidcSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async verify(token: string): Promise<Principal> {
    const { jwks } = await this.discover();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: this.settings.algorithms,
        clockTolerance: this.settings.clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw this.refusal(error);
    }
    const roles = this.rolesOf(payload);
    return {
      via: 'oidc',
      actor: this.nameOf(payload),
      actorType: 'operator',
      permissions: new Set(permissionsOfRoles(roles)),
    };
  }

  /** The authorization and token endpoints of the issuer, from the same discovery document as the keys. */
  async signInEndpoints(): Promise<{ authorization: string; token: string }> {
    const { authorizationEndpoint, tokenEndpoint } = await this.discover();
    if (!authorizationEndpoint || !tokenEndpoint) {
      throw new ApiError('AUTHENTICATION_UNAVAILABLE', `the discovery document of ${this.settings.issuer} names no authorization_endpoint or token_endpoint; browser sign-in needs both`);
    }
    return { authorization: authorizationEndpoint, token: tokenEndpoint };
  }

  /**
   * Checks the ID token of a sign-in (OpenID Connect Core §3.1.3.7) with the
   * same keys and algorithms as access tokens: issuer, audience (the client
   * id; `azp` too when there are several), expiry, the nonce the sign-in
   * sent, and a subject. Roles and name come from the configured claims,
   * exactly as for bearer tokens.
   */
  async verifyIdToken(idToken: string, expected: { clientId: string; nonce: string }): Promise<IdTokenIdentity> {
    const { jwks } = await this.discover();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, jwks, {
        issuer: this.settings.issuer,
        audience: expected.clientId,
        algorithms: this.settings.algorithms,
        clockTolerance: this.settings.clockSkewSeconds,
        requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
      }));
    } catch (error) {
      const refusal = this.refusal(error);
      if (refusal.code === 'AUTHENTICATION_UNAVAILABLE') throw refusal;
      throw new ApiError('SIGN_IN_FAILED', `the ID token of the sign-in is not acceptable: ${refusal.message.replace(/^the token/, 'it')}`);
    }
    if (payload['nonce'] !== expected.nonce) throw new ApiError('SIGN_IN_FAILED', 'the ID token does not carry the nonce of this sign-in (a replayed or injected response)');
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload['azp'] !== expected.clientId) {
      throw new ApiError('SIGN_IN_FAILED', 'the ID token has several audiences and its azp is not this client');
    }
    return { subject: String(payload.sub).slice(0, 255), name: this.nameOf(payload), roles: this.rolesOf(payload) };
  }

  private nameOf(payload: JWTPayload): string {
    const name = claimAt(payload, this.settings.nameClaim);
    return (typeof name === 'string' && name.length > 0 ? name : String(payload.sub)).slice(0, 200);
  }

  private rolesOf(payload: JWTPayload): RoleName[] {
    const raw = claimAt(payload, this.settings.rolesClaim);
    const values = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
    const roles = new Set<RoleName>();
    for (const value of values) {
      const role = typeof value === 'string' ? this.settings.roleMap.get(value) : undefined;
      if (role) roles.add(role);
    }
    return [...roles];
  }

  private refusal(error: unknown): ApiError {
    if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) {
      // The keys could not be fetched: the token may well be valid, so the caller must not be told to sign in again.
      return new ApiError('AUTHENTICATION_UNAVAILABLE', `the signing keys of ${this.settings.issuer} could not be fetched: ${(error as Error)?.message ?? String(error)}`, { headers: { 'Retry-After': '5' } });
    }
    if (error instanceof joseErrors.JWTExpired) return unauthenticated('the token has expired');
    if (error instanceof joseErrors.JWTClaimValidationFailed) return unauthenticated(`the token's "${error.claim}" claim is not acceptable (${error.reason})`);
    if (error instanceof joseErrors.JWKSNoMatchingKey) return unauthenticated(`the token is not signed by a key of ${this.settings.issuer}`);
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return unauthenticated('the token signature does not verify');
    if (error instanceof joseErrors.JOSEAlgNotAllowed) return unauthenticated('the token is signed with an algorithm this Admin API does not accept');
    return unauthenticated('the token is not a valid signed JWT');
  }

  private discover(): Promise<Discovery> {
    if (this.discovery) return this.discovery;
    if (Date.now() - this.failedAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(new ApiError('AUTHENTICATION_UNAVAILABLE', `the discovery document of ${this.settings.issuer} could not be read a moment ago`, { headers: { 'Retry-After': '5' } }));
    }
    const attempt = this.fetchDiscovery();
    this.discovery = attempt;
    attempt.catch(() => {
      this.discovery = null;
      this.failedAt = Date.now();
    });
    return attempt;
  }

  private async fetchDiscovery(): Promise<Discovery> {
    const url = `${this.settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown; authorization_endpoint?: unknown; token_endpoint?: unknown };
    try {
      const response = await this.fetchImpl(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw new ApiError('AUTHENTICATION_UNAVAILABLE', `the discovery document ${url} could not be read: ${(error as Error).message}`, { headers: { 'Retry-After': '5' } });
    }
    // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
    if (document.issuer !== this.settings.issuer || typeof document.jwks_uri !== 'string') {
      throw new ApiError('AUTHENTICATION_UNAVAILABLE', `the discovery document ${url} names issuer ${JSON.stringify(document.issuer)} and jwks_uri ${JSON.stringify(document.jwks_uri)}; IM_OIDC_ISSUER must equal its issuer exactly`);
    }
    return {
      jwks: createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: 30_000, cacheMaxAge: 600_000 }),
      authorizationEndpoint: typeof document.authorization_endpoint === 'string' ? document.authorization_endpoint : undefined,
      tokenEndpoint: typeof document.token_endpoint === 'string' ? document.token_endpoint : undefined,
    };
  }
}

function unauthenticated(reason: string): ApiError {
  return new ApiError('UNAUTHENTICATED', reason, { headers: { 'WWW-Authenticate': 'Bearer realm="IdentityMesh", error="invalid_token"' } });
}

/** A claim by dotted path (`realm_access.roles`); a claim whose own name has dots is found first. */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  let current: unknown = payload;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * The one verifier of the app (null without `IM_OIDC_ISSUER`): bearer
 * tokens and browser sign-in share its discovery document and key cache.
 */
export const OIDC_TOKEN_VERIFIER = Symbol('identitymesh.oidc-token-verifier');
