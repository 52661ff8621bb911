import type { KeyRingPurpose } from '@identitymesh/domain';
import { KeyRing, KeyRingTokenInvalidError, ProtectOptions } from '@identitymesh/key-ring';
import { ApiError } from '../http/api-error';
import { SessionTokens } from './session-tokens';

const MINUTE = 60_000;

/** A ring that only keeps purpose and expiry apart (the real one's crypto has its own tests), on the test's clock. */
class FakeKeyRing implements KeyRing {
  constructor(private readonly now: () => number) {}

  async protect(purpose: KeyRingPurpose, payload: string | Buffer, options: ProtectOptions = {}): Promise<string> {
    return [purpose, options.expiresAt?.getTime() ?? '', Buffer.from(payload).toString('base64url')].join('.');
  }

  async unprotect(purpose: KeyRingPurpose, token: string): Promise<Buffer> {
    const [tokenPurpose, expiresAt, payload] = token.split('.');
    if (tokenPurpose !== purpose) throw new KeyRingTokenInvalidError('wrong-purpose', purpose);
    if (expiresAt && this.now() >= Number(expiresAt)) throw new KeyRingTokenInvalidError('expired', purpose);
    return Buffer.from(payload ?? '', 'base64url');
  }
}

async function refusal(work: Promise<unknown>): Promise<ApiError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('SessionTokens', () => {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;
  const tokens = new SessionTokens(new FakeKeyRing(clock), { idleTimeoutMs: 30 * MINUTE, maxLifetimeMs: 120 * MINUTE }, clock);
  const alice = { subject: 'alice', name: 'Alice', roles: ['operator' as const] };

  beforeEach(() => (now = Date.UTC(2026, 0, 1)));

  it('ends a session idle for longer than the idle timeout, and renews an active one no later than its absolute end', async () => {
    const { token, session } = await tokens.issue(alice);
    expect(await tokens.renewIfDue(session)).toBeNull();
    now += 20 * MINUTE;
    const opened = await tokens.open(token);
    const renewed = await tokens.renewIfDue(opened);
    expect(renewed?.session).toEqual({ ...session, lastSeenAt: now });
    now += 25 * MINUTE;
    // 45 minutes after sign-in: the first cookie was idle too long, the renewed one was not.
    expect((await refusal(tokens.open(token))).code).toBe('UNAUTHENTICATED');
    expect(await tokens.open(renewed?.token as string)).toEqual(renewed?.session);
    let current = (await tokens.renewIfDue(await tokens.open(renewed?.token as string))) as { token: string; session: typeof session };
    for (let i = 0; i < 3; i++) {
      now += 20 * MINUTE;
      current = (await tokens.renewIfDue(await tokens.open(current.token))) as typeof current;
    }
    // 105 minutes after sign-in, active all along: the renewed cookie ends at the absolute end (120), not 30 minutes on.
    expect(tokens.endOf(current.session).getTime()).toBe(session.issuedAt + 120 * MINUTE);
    now = session.issuedAt + 120 * MINUTE;
    expect((await refusal(tokens.open(current.token))).code).toBe('UNAUTHENTICATED');
    expect(await tokens.renewIfDue(current.session)).toBeNull();
  });

  it('applies a lowered idle timeout to sessions already issued', async () => {
    const { token } = await tokens.issue(alice);
    now += 20 * MINUTE;
    const stricter = new SessionTokens(new FakeKeyRing(clock), { idleTimeoutMs: 10 * MINUTE, maxLifetimeMs: 120 * MINUTE }, clock);
    await expect(stricter.open(token)).rejects.toThrow(/idle longer than IM_SESSION_IDLE_MINUTES/);
  });

  it('binds CSRF tokens to their session and keeps the kinds of token apart', async () => {
    const one = await tokens.issue(alice);
    const two = await tokens.issue(alice);
    const csrf = await tokens.csrfToken(one.session);
    await expect(tokens.checkCsrf(one.session, csrf)).resolves.toBeUndefined();
    expect((await refusal(tokens.checkCsrf(two.session, csrf))).code).toBe('CSRF_TOKEN_INVALID');
    expect((await refusal(tokens.checkCsrf(one.session, undefined))).code).toBe('CSRF_TOKEN_MISSING');
    expect((await refusal(tokens.checkCsrf(one.session, [csrf, csrf]))).code).toBe('CSRF_TOKEN_INVALID');
    expect((await refusal(tokens.checkCsrf(one.session, one.token))).code).toBe('CSRF_TOKEN_INVALID');
    expect((await refusal(tokens.open(csrf))).code).toBe('UNAUTHENTICATED');
    const signIn = await tokens.startSignIn();
    expect((await refusal(tokens.open(signIn.token))).code).toBe('UNAUTHENTICATED');
    expect((await refusal(tokens.openSignIn(one.token))).code).toBe('SIGN_IN_FAILED');
    expect(await tokens.openSignIn(signIn.token)).toEqual({ state: signIn.state, nonce: signIn.nonce, codeVerifier: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  });
});
