/**
 * A real OpenID Connect provider (oidc-provider) on loopback for the Admin
 * API's tests, started as a child process because the library is an ES
 * module. It issues JWT access tokens by the client credentials grant;
 * each client stands for one kind of caller. For browser sign-in it also
 * serves the authorization code flow to two console clients (one with a
 * secret, one public) for the accounts below, with a login page a test
 * drives over HTTP (`GET /interaction/:uid`, `POST /interaction/:uid/login`
 * with `login=<account>`). Prints one JSON line with the issuer URL when it
 * listens; stops on SIGTERM or when stdin closes.
 */
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

/** client id → the roles claim its tokens carry (`im-short` tokens live 2 seconds). */
const CLIENTS = {
  'im-admin': ['admin'],
  'im-operator': ['operator'],
  'im-reader': ['reader'],
  'im-mapped': ['IdentityMesh.Admins'],
  'im-norole': [],
  'im-short': ['admin'],
};
export const AUDIENCE = 'api://identitymesh';
/** account → the roles claim of its ID tokens. */
const ACCOUNTS = { alice: ['admin'], rita: ['reader'], mona: ['IdentityMesh.Admins'] };
/**
 * Native clients: oidc-provider then accepts a loopback redirect URI on any
 * port (RFC 8252 §7.3), so the Admin API under test may listen wherever it
 * was given a port.
 */
const CONSOLE_CLIENTS = [
  { client_id: 'im-console', client_secret: 'im-console-secret', token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'im-console-public', token_endpoint_auth_method: 'none' },
].map((client) => ({ ...client, application_type: 'native', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['http://127.0.0.1/auth/callback'] }));

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    ...Object.keys(CLIENTS).map((clientId) => ({
      client_id: clientId,
      client_secret: `${clientId}-secret`,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    ...CONSOLE_CLIENTS,
  ],
  jwks: { keys: [signingKey] },
  scopes: ['api'],
  cookies: { keys: ['oidc-test-provider-cookie-key'] },
  claims: { openid: ['sub'], profile: ['preferred_username', 'roles'] },
  // Roles and name in the ID token itself, as Entra ID's app roles are, rather than only from userinfo.
  conformIdTokenClaims: false,
  findAccount: (_ctx, id) => (ACCOUNTS[id] ? { accountId: id, claims: () => ({ sub: id, preferred_username: id, roles: ACCOUNTS[id] }) } : undefined),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, client) => (client.clientId.startsWith('im-console') ? undefined : AUDIENCE),
      useGrantedResource: () => true,
      // Any resource gets a token, so a test can ask for one made out to another API (the wrong audience).
      getResourceServerInfo: (_ctx, resource, client) => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: client.clientId === 'im-short' ? 2 : 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (_ctx, token) => ({ roles: CLIENTS[token.clientId] ?? [], preferred_username: token.clientId }),
});
provider.on('server_error', (_ctx, error) => process.stderr.write(`oidc-provider server_error: ${error.stack}\n`));
const providerCallback = provider.callback();

async function formOf(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

/** The login page: its details as JSON, and a form post that signs an account in. */
async function interaction(req, res, uid, action) {
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (action === undefined && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ uid: details.uid, prompt: details.prompt.name }));
      return;
    }
    const login = req.method === 'POST' && action === '/login' ? (await formOf(req)).get('login') : null;
    if (!login || !ACCOUNTS[login]) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown account');
      return;
    }
    // The console is first-party: consent is given with the login, so the flow is one page (native clients need a consent result).
    const grant = new provider.Grant({ clientId: details.params.client_id, accountId: login });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error.message));
  }
}

server.on('request', (req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec((req.url ?? '').split('?')[0]);
  if (match) void interaction(req, res, match[1], match[2]);
  else providerCallback(req, res);
});

process.stdout.write(`${JSON.stringify({ issuer, audience: AUDIENCE })}\n`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
