import { readFile } from 'node:fs/promises';
import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '@identitymesh/domain';
import { SecretRepository } from '@identitymesh/persistence';
import { SecretProviders, SecretStore } from '@identitymesh/secrets';
import { OIDC_TOKEN_VERIFIER, OidcTokenVerifier } from '../auth/oidc-token-verifier';
import { permissionsOfRoles } from '../auth/permissions';
import { AdminApiConfig, ClientSecretSource } from '../config/admin-api.config';
import { ApiError } from '../http/api-error';
import { BROWSER_SESSIONS, BrowserSessions } from './browser-sessions';
import type { CallbackQuery, SessionResponse } from './dto/session.dto';
import type { SessionState } from './session-tokens';

const TOKEN_REQUEST_TIMEOUT_MS = 10_000;
/** OAuth error codes are short ASCII words (RFC 6749 §5.2); anything else from the query is not repeated back. */
const OAUTH_ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** What the controller turns into the answer: where the browser goes, and the cookie to set. */
export interface SignInStep {
  location: string;
  token: string;
  expiresAt: Date;
}

/**
 * Browser sign-in by the OpenID Connect authorization code flow with PKCE
 * (S256), `state` and `nonce`, for a confidential client (a client secret)
 * or a public one (PKCE alone). What a sign-in in progress needs is in a
 * short-lived key ring cookie, what a session is in another: the Admin API
 * keeps no session table.
 */
@Injectable()
export class SessionsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Sessions');
  private secretStore?: SecretStore;

  constructor(
    private readonly config: AdminApiConfig,
    @Inject(BROWSER_SESSIONS) private readonly sessions: BrowserSessions | null,
    @Inject(OIDC_TOKEN_VERIFIER) private readonly oidc: OidcTokenVerifier | null,
    private readonly secrets: SecretRepository,
  ) {}

  /** A broken secret provider or database shows at start, not at the first sign-in. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.sessions) await this.sessions.keyRing.ensureKeys();
  }

  async startSignIn(): Promise<SignInStep> {
    const { sessions, oidc } = this.enabled();
    const endpoints = await oidc.signInEndpoints();
    const signIn = await sessions.tokens.startSignIn();
    const location = new URL(endpoints.authorization);
    const parameters = {
      response_type: 'code',
      client_id: sessions.settings.clientId,
      redirect_uri: sessions.settings.redirectUri,
      scope: sessions.settings.scopes.join(' '),
      state: signIn.state,
      nonce: signIn.nonce,
      code_challenge: signIn.codeChallenge,
      code_challenge_method: 'S256',
    };
    for (const [name, value] of Object.entries(parameters)) location.searchParams.set(name, value);
    return { location: location.toString(), token: signIn.token, expiresAt: signIn.expiresAt };
  }

  /**
   * The identity provider's answer: the state must be the one of this
   * browser's sign-in cookie (else the answer belongs to another sign-in:
   * login CSRF); then the code is exchanged with the PKCE verifier and the
   * ID token checked. Answers the new session's cookie.
   */
  async completeSignIn(query: CallbackQuery, signInCookie: string | undefined): Promise<SignInStep> {
    const { sessions, oidc } = this.enabled();
    if (!signInCookie) throw new ApiError('SIGN_IN_FAILED', 'no sign-in is in progress in this browser (its cookie is missing or older than 10 minutes); start again at /auth/login');
    const signIn = await sessions.tokens.openSignIn(signInCookie);
    if (query.state === undefined || !sameText(query.state, signIn.state)) {
      throw new ApiError('SIGN_IN_FAILED', 'the state of the answer is not the one of the sign-in this browser started; start again at /auth/login');
    }
    if (query.error !== undefined) {
      const code = OAUTH_ERROR_CODE.test(query.error) ? query.error : 'an unrecognised error';
      throw new ApiError('SIGN_IN_FAILED', `the identity provider ended the sign-in with ${code}`, { details: { error: code } });
    }
    // RFC 9207: a provider that names itself must be ours, or the code may come from another one (mix-up).
    if (query.iss !== undefined && query.iss !== this.config.oidc?.issuer) throw new ApiError('SIGN_IN_FAILED', 'the answer comes from another issuer than IM_OIDC_ISSUER');
    if (!query.code) throw new ApiError('SIGN_IN_FAILED', 'the answer carries no authorization code');
    const idToken = await this.exchange(query.code, signIn.codeVerifier);
    const identity = await oidc.verifyIdToken(idToken, { clientId: sessions.settings.clientId, nonce: signIn.nonce });
    const { token, session } = await sessions.tokens.issue(identity);
    this.logger.log(`${identity.name} signed in (roles: ${identity.roles.join(', ') || 'none'})`);
    return { location: sessions.settings.landingPath, token, expiresAt: sessions.tokens.endOf(session) };
  }

  /** Who is signed in; `{ authenticated: false }` without a session cookie (a console asks before it offers to sign in). */
  async describe(cookie: string | undefined): Promise<SessionResponse> {
    if (!this.sessions || cookie === undefined) return { authenticated: false };
    const { tokens } = this.sessions;
    const session = await tokens.open(cookie);
    return {
      authenticated: true,
      subject: session.subject,
      name: session.name,
      roles: session.roles,
      permissions: permissionsOfRoles(session.roles),
      issuedAt: new Date(session.issuedAt).toISOString(),
      expiresAt: new Date(session.expiresAt).toISOString(),
      idleExpiresAt: new Date(session.lastSeenAt + this.sessions.settings.idleTimeoutMs).toISOString(),
      csrfToken: await tokens.csrfToken(session),
    };
  }

  /**
   * Ends the session of this browser. A live session must show its CSRF
   * token (a cross-site page must not sign operators out); a cookie that no
   * longer opens is cleared without one, since it grants nothing.
   * Answers whether there was a cookie to clear.
   */
  async signOut(cookie: string | undefined, csrfHeader: string | string[] | undefined): Promise<boolean> {
    if (!this.sessions || cookie === undefined) return false;
    let session: SessionState;
    try {
      session = await this.sessions.tokens.open(cookie);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') return true;
      throw error;
    }
    await this.sessions.tokens.checkCsrf(session, csrfHeader);
    this.logger.log(`${session.name} signed out`);
    return true;
  }

  /** The code for tokens at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5); answers the ID token. */
  private async exchange(code: string, codeVerifier: string): Promise<string> {
    const { sessions, oidc } = this.enabled();
    const { token: tokenEndpoint } = await oidc.signInEndpoints();
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: sessions.settings.redirectUri, code_verifier: codeVerifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const secret = await this.clientSecret(sessions.settings.clientSecret);
    if (secret === null) {
      form.set('client_id', sessions.settings.clientId);
    } else {
      // client_secret_basic: both parts form-encoded before base64 (RFC 6749 §2.3.1).
      headers['authorization'] = `Basic ${Buffer.from(`${encodeURIComponent(sessions.settings.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    }
    let response: Response;
    let body: { id_token?: unknown; error?: unknown };
    try {
      response = await fetch(tokenEndpoint, { method: 'POST', headers, body: form.toString(), redirect: 'error', signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS) });
      body = (await response.json().catch(() => ({}))) as typeof body;
    } catch (error) {
      throw new ApiError('AUTHENTICATION_UNAVAILABLE', `the token endpoint ${tokenEndpoint} could not be reached: ${(error as Error).message}`, { headers: { 'Retry-After': '5' } });
    }
    if (response.status >= 500) throw new ApiError('AUTHENTICATION_UNAVAILABLE', `the token endpoint ${tokenEndpoint} answered HTTP ${response.status}`, { headers: { 'Retry-After': '5' } });
    if (!response.ok) {
      const error = typeof body.error === 'string' && OAUTH_ERROR_CODE.test(body.error) ? body.error : `HTTP ${response.status}`;
      // invalid_client is this installation's mistake, not the operator's: the log says which settings to check.
      if (error === 'invalid_client') this.logger.warn('the identity provider refused the client credentials: check IM_OIDC_CLIENT_ID and IM_OIDC_CLIENT_SECRET_REF or _FILE');
      throw new ApiError('SIGN_IN_FAILED', `the identity provider refused to exchange the code (${error}): codes are single-use and short-lived; start again at /auth/login`, { details: { error } });
    }
    if (typeof body.id_token !== 'string' || body.id_token.length === 0) throw new ApiError('SIGN_IN_FAILED', 'the token endpoint answered no ID token (is the openid scope granted?)');
    return body.id_token;
  }

  /** Read at each exchange, so a rotated secret needs no restart. */
  private async clientSecret(source: ClientSecretSource): Promise<string | null> {
    if (source === null) return null;
    try {
      if ('file' in source) return (await readFile(source.file, 'utf8')).trim();
      this.secretStore ??= new SecretStore(this.secrets, new SecretProviders(this.config.secrets));
      return await this.secretStore.get(source.reference);
    } catch (error) {
      const reason = error instanceof DomainError ? error.message : (error as Error).message;
      throw new ApiError('AUTHENTICATION_UNAVAILABLE', `the OIDC client secret could not be read: ${reason}`);
    }
  }

  private enabled(): { sessions: BrowserSessions; oidc: OidcTokenVerifier } {
    if (!this.sessions || !this.oidc) throw new ApiError('SIGN_IN_NOT_CONFIGURED', 'browser sign-in is not configured on this Admin API (IM_OIDC_CLIENT_ID); use a bearer token or an API key');
    return { sessions: this.sessions, oidc: this.oidc };
  }
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
