import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '@identitymesh/domain';
import type { KeyRing } from '@identitymesh/key-ring';
import { ROLE_NAMES, RoleName } from '../auth/permissions';
import { ApiError } from '../http/api-error';

/** A signed-in browser, as its session cookie carries it. Times are epoch milliseconds. */
export interface SessionState {
  /** Random; CSRF tokens name it, so a token of one session is refused for another. */
  id: string;
  subject: string;
  name: string;
  roles: RoleName[];
  issuedAt: number;
  /** The absolute end (`IM_SESSION_MAX_HOURS` after sign-in); renewals never move it. */
  expiresAt: number;
  /** The last renewal; the session ends `IM_SESSION_IDLE_MINUTES` after it. */
  lastSeenAt: number;
}

/** What a sign-in in progress keeps in its short-lived cookie between `/auth/login` and `/auth/callback`. */
export interface SignInState {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** How long a browser may take at the identity provider's login page. */
export const SIGN_IN_LIFETIME_MS = 10 * 60_000;
/** Longer tokens are refused unread: none this class makes comes near it. */
const MAX_TOKEN_LENGTH = 4096;

/*
 * The key ring's purposes are a closed set (session, csrf, relay-token). The
 * sign-in cookie and the session cookie share `session`, so each payload
 * names its kind and a strict schema refuses the other one: a sign-in
 * cookie pasted into the session cookie does not sign anyone in.
 */
const sessionPayload = z.strictObject({
  kind: z.literal('session'),
  sid: z.string().min(16).max(64),
  sub: z.string().min(1).max(255),
  name: z.string().min(1).max(200),
  roles: z.array(z.enum(ROLE_NAMES)).max(ROLE_NAMES.length),
  iat: z.number().int(),
  exp: z.number().int(),
  seen: z.number().int(),
});
const signInPayload = z.strictObject({ kind: z.literal('sign-in'), state: z.string().min(16).max(64), nonce: z.string().min(16).max(64), verifier: z.string().min(43).max(128) });
const csrfPayload = z.strictObject({ sid: z.string().min(16).max(64) });

const random = () => randomBytes(32).toString('base64url');

export interface SessionLifetimes {
  idleTimeoutMs: number;
  maxLifetimeMs: number;
}

/**
 * Session cookies, sign-in cookies and CSRF tokens as key ring tokens. No
 * server-side session table: a cookie holds the whole session, sealed and
 * authenticated by the ring (AES-256-GCM), so it cannot be read or altered;
 * it ends at its own expiry (the earlier of the idle and the absolute
 * deadline), or when its key expires or is revoked.
 */
export class SessionTokens {
  constructor(
    private readonly ring: KeyRing,
    private readonly lifetimes: SessionLifetimes,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A new sign-in: its cookie token, and what goes into the authorization request (the PKCE S256 challenge, never the verifier). */
  async startSignIn(): Promise<{ token: string; state: string; nonce: string; codeChallenge: string; expiresAt: Date }> {
    const signIn = { kind: 'sign-in' as const, state: random(), nonce: random(), verifier: random() };
    const expiresAt = new Date(this.clock() + SIGN_IN_LIFETIME_MS);
    const token = await this.ring.protect('session', JSON.stringify(signIn), { expiresAt });
    return { token, state: signIn.state, nonce: signIn.nonce, codeChallenge: createHash('sha256').update(signIn.verifier).digest('base64url'), expiresAt };
  }

  async openSignIn(token: string): Promise<SignInState> {
    const payload = await this.payloadOf(token, signInPayload, (reason) => new ApiError('SIGN_IN_FAILED', `the sign-in cookie is not valid (${reason}); start again at /auth/login`));
    return { state: payload.state, nonce: payload.nonce, codeVerifier: payload.verifier };
  }

  /** A session for the operator an ID token named, from now. */
  async issue(identity: { subject: string; name: string; roles: RoleName[] }): Promise<{ token: string; session: SessionState }> {
    const now = this.clock();
    return this.seal({ id: random(), subject: identity.subject, name: identity.name, roles: identity.roles, issuedAt: now, expiresAt: now + this.lifetimes.maxLifetimeMs, lastSeenAt: now });
  }

  /** The session of a cookie; UNAUTHENTICATED (401) for anything else, including an ended session. */
  async open(token: string): Promise<SessionState> {
    const refuse = (reason: string) => new ApiError('UNAUTHENTICATED', `the session cookie is not valid (${reason}); sign in again at /auth/login`);
    const session = await this.payloadOf(token, sessionPayload, refuse);
    // The ring checks the token's own expiry; these repeat it from the payload, so a session never outlives what it says.
    const now = this.clock();
    if (now >= session.exp) throw refuse('the session has ended: it lasts at most IM_SESSION_MAX_HOURS');
    if (now >= session.seen + this.lifetimes.idleTimeoutMs) throw refuse('the session has ended: it was idle longer than IM_SESSION_IDLE_MINUTES');
    return { id: session.sid, subject: session.sub, name: session.name, roles: session.roles, issuedAt: session.iat, expiresAt: session.exp, lastSeenAt: session.seen };
  }

  /**
   * A fresh cookie moving the idle deadline, when the last one is a while
   * old (so an active operator stays signed in without a cookie per
   * request); null when not yet due. The absolute end does not move.
   */
  async renewIfDue(session: SessionState): Promise<{ token: string; session: SessionState } | null> {
    const now = this.clock();
    if (now - session.lastSeenAt < Math.min(60_000, this.lifetimes.idleTimeoutMs / 4)) return null;
    const renewed = { ...session, lastSeenAt: now };
    // A session at its very end gets no new cookie (the ring refuses an expiry in the past); the next request signs in again.
    if (this.endOf(renewed).getTime() <= now) return null;
    return this.seal(renewed);
  }

  /** When a session's cookie stops working unless renewed: the earlier of its idle and absolute deadlines. */
  endOf(session: SessionState): Date {
    return new Date(Math.min(session.expiresAt, session.lastSeenAt + this.lifetimes.idleTimeoutMs));
  }

  /** The CSRF token of a session: a `csrf` key ring token naming the session id, valid as long as the session may last. */
  csrfToken(session: SessionState): Promise<string> {
    return this.ring.protect('csrf', JSON.stringify({ sid: session.id }), { expiresAt: new Date(session.expiresAt) });
  }

  /** Refuses (403) a state-changing call by cookie whose `X-CSRF-Token` is missing or belongs to another session. */
  async checkCsrf(session: SessionState, header: string | string[] | undefined): Promise<void> {
    if (header === undefined || header === '') {
      throw new ApiError('CSRF_TOKEN_MISSING', 'a call that changes something, authenticated by the session cookie, must carry the X-CSRF-Token header (from GET /auth/session)');
    }
    const refuse = (reason: string) => new ApiError('CSRF_TOKEN_INVALID', `the X-CSRF-Token header is not this session's CSRF token (${reason}); get it again from GET /auth/session`);
    if (Array.isArray(header)) throw refuse('sent more than once');
    if (header.length > MAX_TOKEN_LENGTH) throw refuse('too long');
    const parsed = csrfPayload.safeParse(await this.unprotect('csrf', header, refuse));
    if (!parsed.success) throw refuse('it is not a CSRF token');
    const expected = Buffer.from(session.id);
    const actual = Buffer.from(parsed.data.sid);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw refuse('it was made for another session');
  }

  private async seal(session: SessionState): Promise<{ token: string; session: SessionState }> {
    const payload: z.output<typeof sessionPayload> = {
      kind: 'session',
      sid: session.id,
      sub: session.subject,
      name: session.name,
      roles: session.roles,
      iat: session.issuedAt,
      exp: session.expiresAt,
      seen: session.lastSeenAt,
    };
    const token = await this.ring.protect('session', JSON.stringify(payload), { expiresAt: this.endOf(session) });
    return { token, session };
  }

  private async payloadOf<S extends z.ZodType>(token: string, schema: S, refuse: (reason: string) => ApiError): Promise<z.output<S>> {
    if (token.length > MAX_TOKEN_LENGTH) throw refuse('too long');
    const parsed = schema.safeParse(await this.unprotect('session', token, refuse));
    if (!parsed.success) throw refuse('it is not a token of this kind');
    return parsed.data;
  }

  /** The payload as JSON; a refused token (KEY_RING_* codes) becomes the caller's refusal, anything else (a database down) stays what it is. */
  private async unprotect(purpose: 'session' | 'csrf', token: string, refuse: (reason: string) => ApiError): Promise<unknown> {
    let bytes: Buffer;
    try {
      bytes = await this.ring.unprotect(purpose, token);
    } catch (error) {
      if (error instanceof DomainError && error.code.startsWith('KEY_RING_')) throw refuse(`${error.code}: ${error.message}`);
      throw error;
    }
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      throw refuse('its content is not JSON');
    }
  }
}
