/**
 * A real OpenID Connect provider (oidc-provider) on loopback for the Admin
 * API's tests, started as a child process because the library is an ES
 * module. It issues JWT access tokens by the client credentials grant;
 * each client stands for one kind of caller. Prints one JSON line with the
 * issuer URL when it listens; stops on SIGTERM or when stdin closes.
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

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: Object.keys(CLIENTS).map((clientId) => ({
    client_id: clientId,
    client_secret: `${clientId}-secret`,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signingKey] },
  scopes: ['api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
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
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ issuer, audience: AUDIENCE })}\n`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
