import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyRepository } from '@identitymesh/persistence';
import { ApiError } from '../http/api-error';
import { BROWSER_SESSIONS, BrowserSessions } from '../sessions/browser-sessions';
import type { SessionState } from '../sessions/session-tokens';
import { parseApiKey, secretFingerprint, verifyApiKeySecret } from './api-key-secret';
import { OIDC_TOKEN_VERIFIER, OidcTokenVerifier } from './oidc-token-verifier';
import { isPermission, permissionsOfRoles } from './permissions';
import type { Principal } from './principal';

/** Longer credentials are refused unread: no honest token comes near it. */
const MAX_CREDENTIAL_LENGTH = 8192;
/** A key's `lastUsedAt` is written at most this often, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;
/** How long a verified secret skips scrypt; revocation and expiry are still read from the row on every request. */
const VERIFIED_TTL_MS = 300_000;
const VERIFIED_MAX = 1000;

/** Methods that only read; any other method called with the session cookie must carry the session's CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer realm="IdentityMesh", error="invalid_token"' };

function unauthenticated(reason: string, invalidToken = true): ApiError {
  return new ApiError('UNAUTHENTICATED', reason, invalidToken ? { headers: INVALID_TOKEN } : {});
}

/**
 * Establishes who is calling from `Authorization: Bearer <credential>`: an
 * API key (`im_…`) or, when `IM_OIDC_ISSUER` is set, an OIDC access token;
 * without that header, from the session cookie of browser sign-in (when
 * configured), which must come with its CSRF token on state-changing calls.
 * Throws UNAUTHENTICATED (401) for anything else.
 */
@Injectable()
export class Authenticator {
  private readonly logger = new Logger('Authentication');
  /** prefix → fingerprint of the secret verified for it, and until when that holds. */
  private readonly verified = new Map<string, { fingerprint: string; until: number }>();

  constructor(
    private readonly keys: ApiKeyRepository,
    @Inject(OIDC_TOKEN_VERIFIER) private readonly oidc: OidcTokenVerifier | null,
    @Inject(BROWSER_SESSIONS) private readonly sessions: BrowserSessions | null,
  ) {}

  async authenticate(request: Request): Promise<Principal> {
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      // The cookie only counts without an Authorization header: a bearer caller is never judged by ambient browser state.
      const cookie = this.sessions?.cookies.read(request, 'session');
      if (this.sessions && cookie !== undefined) return this.session(this.sessions, cookie, request);
      throw unauthenticated('no credentials: send Authorization: Bearer <an OIDC access token or an API key>', false);
    }
    if (header.length > MAX_CREDENTIAL_LENGTH) throw unauthenticated('the credentials are too long to be a token of this API');
    const match = /^Bearer +(\S+)\s*$/i.exec(header);
    if (!match) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    const token = match[1] as string;
    if (token.startsWith('im_')) return this.apiKey(token);
    if (!this.oidc) throw unauthenticated('OIDC sign-in is not configured on this Admin API (IM_OIDC_ISSUER); use an API key');
    return this.oidc.verify(token);
  }

  /** Sends a renewed session cookie when the session's idle deadline is due to move (see SessionTokens.renewIfDue). */
  async renewSession(session: SessionState, response: Response): Promise<void> {
    if (!this.sessions) return;
    const renewed = await this.sessions.tokens.renewIfDue(session);
    if (renewed) this.sessions.cookies.write(response, 'session', renewed.token, this.sessions.tokens.endOf(renewed.session));
  }

  private async session(sessions: BrowserSessions, cookie: string, request: Request): Promise<Principal> {
    if (cookie.length > MAX_CREDENTIAL_LENGTH) throw unauthenticated('the session cookie is too long to be one of this API');
    const session = await sessions.tokens.open(cookie);
    // A browser sends the cookie with any request, a forged cross-site one included; only this API's pages can read the CSRF token.
    if (!SAFE_METHODS.has(request.method.toUpperCase())) await sessions.tokens.checkCsrf(session, request.headers['x-csrf-token']);
    return {
      via: 'session',
      actor: session.name,
      actorType: 'operator',
      permissions: new Set(permissionsOfRoles(session.roles)),
      session,
    };
  }

  private async apiKey(token: string): Promise<Principal> {
    const parts = parseApiKey(token);
    if (!parts) throw unauthenticated('the API key is malformed');
    const key = await this.keys.findByPrefix(parts.prefix);
    if (!key) throw unauthenticated('the API key is not known');
    const fingerprint = secretFingerprint(parts.secret);
    const now = Date.now();
    const remembered = this.verified.get(key.prefix);
    if (!(remembered && remembered.fingerprint === fingerprint && remembered.until > now)) {
      if (!(await verifyApiKeySecret(parts.secret, key.secretHash))) throw unauthenticated('the API key is not known');
      if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
      this.verified.set(key.prefix, { fingerprint, until: now + VERIFIED_TTL_MS });
    }
    if (key.revokedAt) throw unauthenticated(`API key ${key.prefix} was revoked on ${key.revokedAt.toISOString()}`);
    if (key.expiresAt && key.expiresAt.getTime() <= now) throw unauthenticated(`API key ${key.prefix} expired on ${key.expiresAt.toISOString()}`);
    if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
      this.keys.touch(key.id, new Date(now)).catch((error: unknown) => this.logger.warn(`recording the use of API key ${key.prefix} failed: ${(error as Error).message}`));
    }
    return {
      via: 'api-key',
      actor: `api-key:${key.prefix}`,
      actorType: 'api-key',
      // A permission dropped from the product since the key was made grants nothing.
      permissions: new Set(key.permissions.filter(isPermission)),
      apiKeyId: key.id,
    };
  }
}
