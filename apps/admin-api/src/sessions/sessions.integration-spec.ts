import { createServer } from 'node:net';
import { SecretRepository } from '@identitymesh/persistence';
import { SecretProviders, SecretStore } from '@identitymesh/secrets';
import { AdminApiConfig } from '../config/admin-api.config';
import { AdminApiHarness, OidcTestProvider } from '../support/admin-api-harness';
import { BROWSER_SESSIONS, BrowserSessions } from './browser-sessions';
import { SessionTokens } from './session-tokens';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;

/** A free loopback port, so the redirect URI can be configured before the Admin API listens on it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A browser as far as sign-in needs one: cookies per origin (set, replaced,
 * cleared by an expiry in the past), redirects not followed, so each hop
 * can be checked.
 */
class Browser {
  private readonly jars = new Map<string, Map<string, string>>();
  /** The last Set-Cookie lines seen per cookie name, attributes included. */
  readonly lastSetCookie = new Map<string, string>();

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(origin)?.get(name);
  }

  setCookie(origin: string, name: string, value: string): void {
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    jar.set(name, value);
    this.jars.set(origin, jar);
  }

  async fetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
    const { origin } = new URL(url);
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { method: init.method ?? 'GET', redirect: 'manual', body: init.body, headers: { ...(cookie ? { cookie } : {}), ...(init.headers ?? {}) } });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      this.lastSetCookie.set(name, line);
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0\s*$/i.test(a));
      if (expired) jar.delete(name);
      else jar.set(name, pair.slice(at + 1).trim());
    }
    this.jars.set(origin, jar);
    return response;
  }
}

describe('browser sign-in against a real OIDC provider', () => {
  let oidc: OidcTestProvider;
  let api: AdminApiHarness;
  let sessions: BrowserSessions;

  beforeAll(async () => {
    oidc = await OidcTestProvider.start();
    const port = await freePort();
    api = await AdminApiHarness.start(
      {
        IM_OIDC_ISSUER: oidc.issuer,
        IM_OIDC_AUDIENCE: oidc.audience,
        IM_OIDC_ROLE_MAP: 'IdentityMesh.Admins=admin',
        IM_OIDC_CLIENT_ID: 'im-console',
        IM_OIDC_CLIENT_SECRET_REF: 'oidc/im-console',
        IM_OIDC_REDIRECT_URI: `http://127.0.0.1:${port}/auth/callback`,
      },
      { port },
    );
    // The client secret as an operator would keep it: in the secret store, by reference.
    await new SecretStore(api.app.get(SecretRepository), new SecretProviders(api.app.get(AdminApiConfig).secrets)).set('oidc/im-console', 'im-console-secret');
    sessions = api.app.get<BrowserSessions>(BROWSER_SESSIONS);
  });
  afterAll(async () => {
    await api?.close();
    await oidc?.stop();
  });

  const problem = (type: string, code?: string) => expect.objectContaining({ type: `urn:identitymesh:problem:${type}`, ...(code ? { code } : {}) });

  /** From `/auth/login` through the provider's login page to the callback URL the provider sends the browser to (not yet followed). */
  async function authorize(browser: Browser, account: string): Promise<string> {
    const login = await browser.fetch(`${api.url}/auth/login`);
    expect(login.status).toBe(302);
    const toProvider = await browser.fetch(login.headers.get('location') as string);
    expect(toProvider.status).toBe(303);
    const page = new URL(toProvider.headers.get('location') as string, oidc.issuer);
    const submitted = await browser.fetch(`${page}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `login=${account}` });
    expect(submitted.status).toBe(303);
    const resumed = await browser.fetch(new URL(submitted.headers.get('location') as string, oidc.issuer).toString());
    expect(resumed.status).toBe(303);
    const callback = resumed.headers.get('location') as string;
    expect(callback.startsWith(`${api.url}/auth/callback?`)).toBe(true);
    return callback;
  }

  async function signIn(account: string): Promise<{ browser: Browser; csrf: string }> {
    const browser = new Browser();
    const callback = await browser.fetch(await authorize(browser, account));
    expect({ status: callback.status, location: callback.headers.get('location') }).toEqual({ status: 302, location: '/api/docs' });
    const session = await browser.fetch(`${api.url}/auth/session`);
    const body = (await session.json()) as Json;
    return { browser, csrf: body['csrfToken'] as string };
  }

  const call = async (browser: Browser, method: string, path: string, options: { json?: unknown; csrf?: string; headers?: Record<string, string> } = {}) => {
    const response = await browser.fetch(`${api.url}${path}`, {
      method,
      headers: { ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(options.csrf ? { 'x-csrf-token': options.csrf } : {}), ...(options.headers ?? {}) },
      body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Json };
  };

  it('starts the authorization code flow with PKCE S256, state and nonce, keeping the verifier in a sealed cookie', async () => {
    const browser = new Browser();
    const login = await browser.fetch(`${api.url}/auth/login`);
    const location = new URL(login.headers.get('location') as string);
    expect(location.origin).toBe(oidc.issuer);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'im-console',
      redirect_uri: `${api.url}/auth/callback`,
      scope: 'openid profile',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    });
    const cookie = browser.lastSetCookie.get('im_sign_in') as string;
    expect(cookie).toMatch(/^im_sign_in=v1\.[^;]+; Max-Age=\d+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    // Nothing of the sign-in is readable in the cookie.
    const value = browser.cookie(api.url, 'im_sign_in') as string;
    for (const secret of [location.searchParams.get('state'), location.searchParams.get('nonce')]) expect(value).not.toContain(secret);
  });

  it('signs an operator in, and the session cookie reads like a bearer token and writes only with the CSRF token', async () => {
    const browser = new Browser();
    const callback = await browser.fetch(await authorize(browser, 'alice'));
    expect({ status: callback.status, location: callback.headers.get('location') }).toEqual({ status: 302, location: '/api/docs' });
    expect(browser.lastSetCookie.get('im_session')).toMatch(/^im_session=v1\.[^;]+; Max-Age=\d+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    expect(browser.cookie(api.url, 'im_sign_in')).toBeUndefined();

    const session = await call(browser, 'GET', '/auth/session');
    expect(session).toEqual({
      status: 200,
      body: expect.objectContaining({ authenticated: true, subject: 'alice', name: 'alice', roles: ['admin'], permissions: expect.arrayContaining(['keys.manage']), csrfToken: expect.stringMatching(/^v1\./) }),
    });
    const csrf = session.body['csrfToken'] as string;

    expect((await call(browser, 'GET', '/api/connectors')).status).toBe(200);
    const body = { name: 'from the console', permissions: ['runs.read'] };
    expect(await call(browser, 'POST', '/api/api-keys', { json: body })).toEqual({ status: 403, body: problem('csrf-token-invalid', 'CSRF_TOKEN_MISSING') });
    const other = await signIn('mona');
    expect(await call(browser, 'POST', '/api/api-keys', { json: body, csrf: other.csrf })).toEqual({ status: 403, body: problem('csrf-token-invalid', 'CSRF_TOKEN_INVALID') });
    expect(await call(browser, 'POST', '/api/api-keys', { json: body, csrf: 'v1.garbage' })).toEqual({ status: 403, body: problem('csrf-token-invalid', 'CSRF_TOKEN_INVALID') });
    const created = await call(browser, 'POST', '/api/api-keys', { json: body, csrf });
    expect(created.status).toBe(201);
    // Audited as the operator the ID token named.
    const audit = await call(browser, 'GET', `/api/audit?action=api-key.create&targetId=${created.body['id'] as string}`);
    expect(audit.body['items']).toEqual([expect.objectContaining({ actor: 'alice', actorType: 'operator' })]);

    // A bearer caller is judged by its token alone, cookie or not: no CSRF token needed, and no more than the token grants.
    const reader = await oidc.token('im-reader');
    expect((await call(browser, 'POST', '/api/api-keys', { json: body, headers: { authorization: `Bearer ${reader}` } })).body).toEqual(problem('forbidden'));
    const admin = await oidc.token('im-admin');
    expect((await call(browser, 'POST', '/api/api-keys', { json: body, headers: { authorization: `Bearer ${admin}` } })).status).toBe(201);

    expect(await call(browser, 'POST', '/auth/logout')).toEqual({ status: 403, body: problem('csrf-token-invalid', 'CSRF_TOKEN_MISSING') });
    expect((await call(browser, 'POST', '/auth/logout', { csrf })).status).toBe(204);
    expect(browser.cookie(api.url, 'im_session')).toBeUndefined();
    expect(await call(browser, 'GET', '/auth/session')).toEqual({ status: 200, body: { authenticated: false } });
    expect((await call(browser, 'GET', '/api/connectors')).status).toBe(401);
  });

  it('maps roles from the roles claim as for bearer tokens: a reader reads, and is refused a change even with the CSRF token', async () => {
    const { browser, csrf } = await signIn('rita');
    expect((await call(browser, 'GET', '/api/runs')).status).toBe(200);
    expect(await call(browser, 'POST', '/api/api-keys', { json: { name: 'x', permissions: ['runs.read'] }, csrf })).toEqual({ status: 403, body: problem('forbidden', 'FORBIDDEN') });
    expect((await call(browser, 'GET', '/auth/session')).body).toEqual(expect.objectContaining({ roles: ['reader'] }));
    // IdentityMesh.Admins maps to admin through IM_OIDC_ROLE_MAP.
    const mapped = await signIn('mona');
    expect((await call(mapped.browser, 'GET', '/auth/session')).body).toEqual(expect.objectContaining({ roles: ['admin'] }));
  });

  it('answers 401 to an altered cookie, to other key ring tokens in its place, and to an ended session', async () => {
    const { browser, csrf } = await signIn('alice');
    const genuine = browser.cookie(api.url, 'im_session') as string;
    const parts = genuine.split('.');
    const ciphertext = parts[3] as string;
    parts[3] = `${ciphertext.slice(0, 10)}${ciphertext[10] === 'A' ? 'B' : 'A'}${ciphertext.slice(11)}`;
    const signInCookie = new Browser();
    await signInCookie.fetch(`${api.url}/auth/login`);
    const fakes: Record<string, string> = {
      altered: parts.join('.'),
      truncated: genuine.slice(0, -4),
      'a CSRF token': csrf,
      'a sign-in cookie': signInCookie.cookie(api.url, 'im_sign_in') as string,
      garbage: 'not-a-token',
    };
    for (const [kind, value] of Object.entries(fakes)) {
      const forged = new Browser();
      forged.setCookie(api.url, 'im_session', value);
      const answer = await call(forged, 'GET', '/api/connectors');
      expect({ kind, status: answer.status, body: answer.body }).toEqual({ kind, status: 401, body: problem('unauthenticated', 'UNAUTHENTICATED') });
    }

    // A session of the same keys whose idle deadline passes in a moment (the setting's floor is a minute).
    const shortLived = new SessionTokens(sessions.keyRing, { idleTimeoutMs: 1_500, maxLifetimeMs: 3_600_000 });
    const { token } = await shortLived.issue({ subject: 'alice', name: 'alice', roles: ['admin'] });
    const ending = new Browser();
    ending.setCookie(api.url, 'im_session', token);
    expect((await call(ending, 'GET', '/api/connectors')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const ended = await call(ending, 'GET', '/api/connectors');
    expect(ended).toEqual({ status: 401, body: problem('unauthenticated') });
    expect(ended.body['detail']).toMatch(/session cookie is not valid/);
    expect(await call(ending, 'GET', '/auth/session')).toEqual({ status: 401, body: problem('unauthenticated') });
  });

  it('refuses a callback whose state is not this browser’s, one without a sign-in, an error from the provider, and a code used twice', async () => {
    const browser = new Browser();
    const callback = new URL(await authorize(browser, 'alice'));
    const signInCookie = browser.cookie(api.url, 'im_sign_in') as string;

    const wrongState = new URL(callback);
    wrongState.searchParams.set('state', 'A'.repeat(43));
    const mismatch = await call(browser, 'GET', `${wrongState.pathname}${wrongState.search}`);
    expect(mismatch).toEqual({ status: 400, body: problem('sign-in-failed', 'SIGN_IN_FAILED') });
    expect(mismatch.body['detail']).toMatch(/state/);
    expect(browser.cookie(api.url, 'im_session')).toBeUndefined();

    // Another browser (an attacker's link) has no sign-in cookie at all.
    expect(await call(new Browser(), 'GET', `${callback.pathname}${callback.search}`)).toEqual({ status: 400, body: problem('sign-in-failed') });

    const denied = new URL(callback);
    denied.search = new URLSearchParams({ error: 'access_denied', state: callback.searchParams.get('state') as string }).toString();
    browser.setCookie(api.url, 'im_sign_in', signInCookie);
    expect(await call(browser, 'GET', `${denied.pathname}${denied.search}`)).toEqual({ status: 400, body: problem('sign-in-failed') });

    browser.setCookie(api.url, 'im_sign_in', signInCookie);
    expect((await browser.fetch(callback.toString())).status).toBe(302);
    expect(browser.cookie(api.url, 'im_session')).toMatch(/^v1\./);
    // The same answer replayed, sign-in cookie and all: the provider refuses the code a second time.
    const replay = new Browser();
    replay.setCookie(api.url, 'im_sign_in', signInCookie);
    const reused = await call(replay, 'GET', `${callback.pathname}${callback.search}`);
    expect(reused).toEqual({ status: 400, body: expect.objectContaining({ type: 'urn:identitymesh:problem:sign-in-failed', details: { error: 'invalid_grant' } }) });
    expect(replay.cookie(api.url, 'im_session')).toBeUndefined();

    expect(await call(browser, 'GET', '/auth/callback?code=x&state=y&debug=1')).toEqual({ status: 400, body: problem('validation-failed') });
  });

  it('keeps sessions across a key rotation and ends them when their key is revoked', async () => {
    const { browser } = await signIn('alice');
    const keyId = (browser.cookie(api.url, 'im_session') as string).split('.')[1] as string;
    await sessions.keyRing.rotateNow('session');
    expect((await call(browser, 'GET', '/api/connectors')).status).toBe(200);
    await sessions.keyRing.revoke(keyId);
    expect(await call(browser, 'GET', '/api/connectors')).toEqual({ status: 401, body: problem('unauthenticated') });
    // A new sign-in is protected by the new key.
    const again = await signIn('alice');
    expect((await call(again.browser, 'GET', '/api/connectors')).status).toBe(200);
  });
});

describe('browser sign-in as a public client (PKCE, no secret)', () => {
  it('signs in, and answers 404 for sign-in where it is not configured', async () => {
    const oidc = await OidcTestProvider.start();
    const port = await freePort();
    const api = await AdminApiHarness.start(
      { IM_OIDC_ISSUER: oidc.issuer, IM_OIDC_AUDIENCE: oidc.audience, IM_OIDC_CLIENT_ID: 'im-console-public', IM_OIDC_REDIRECT_URI: `http://127.0.0.1:${port}/auth/callback`, IM_SESSION_LANDING_PATH: '/console/' },
      { port },
    );
    const plain = await AdminApiHarness.start({ IM_OIDC_ISSUER: oidc.issuer, IM_OIDC_AUDIENCE: oidc.audience });
    try {
      const browser = new Browser();
      const login = await browser.fetch(`${api.url}/auth/login`);
      const page = new URL((await browser.fetch(login.headers.get('location') as string)).headers.get('location') as string, oidc.issuer);
      const submitted = await browser.fetch(`${page}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'login=alice' });
      const resumed = await browser.fetch(new URL(submitted.headers.get('location') as string, oidc.issuer).toString());
      const callback = await browser.fetch(resumed.headers.get('location') as string);
      expect({ status: callback.status, location: callback.headers.get('location') }).toEqual({ status: 302, location: '/console/' });
      const answer = await browser.fetch(`${api.url}/api/instances`);
      expect(answer.status).toBe(200);

      expect((await plain.request('GET', '/auth/login')).body).toEqual(expect.objectContaining({ status: 404, code: 'SIGN_IN_NOT_CONFIGURED' }));
      expect((await plain.request('GET', '/auth/session')).body).toEqual({ authenticated: false });
    } finally {
      await plain.close();
      await api.close();
      await oidc.stop();
    }
  });
});
