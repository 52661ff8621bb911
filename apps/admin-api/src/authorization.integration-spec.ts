import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { OpenApiService } from './openapi/openapi.service';
import { Permission, PERMISSIONS } from './auth/permissions';
import { AdminApiHarness, OidcTestProvider } from './support/admin-api-harness';

jest.setTimeout(240_000);

interface Operation {
  method: string;
  /** The path with its parameters filled in. */
  path: string;
  template: string;
  permission: Permission | null;
}

/** Values for path parameters: well-formed, so a request gets past validation whenever it gets past the guard. */
const PARAMETER_VALUES: Record<string, string> = { id: '00000000-0000-4000-8000-000000000000', file: 'swagger-ui.css' };

/** Routes that answer without credentials; anything else public is a mistake this test catches. */
const PUBLIC_ROUTES = [
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'GET /api/docs',
  'GET /api/docs.json',
  'GET /api/docs/assets/{file}',
  // Browser sign-in: reached before a credential exists; each checks its own cookies (sessions.integration-spec.ts).
  'GET /auth/login',
  'GET /auth/callback',
  'GET /auth/session',
  'POST /auth/logout',
  // A relay's first call: the one-time enrollment token in the body is its credential (relays.integration-spec.ts).
  'POST /api/relays/enroll',
];

/**
 * R11: every route of the OpenAPI document, called anonymously, with a
 * forged, an expired, a wrong-audience and a wrong-issuer token, with a
 * token and an API key that lack the route's permission, and with a revoked
 * and an expired API key. The tokens come from a real OIDC provider.
 */
describe('authentication and authorization of every route', () => {
  let oidc: OidcTestProvider;
  let api: AdminApiHarness;
  let operations: Operation[];

  beforeAll(async () => {
    oidc = await OidcTestProvider.start();
    api = await AdminApiHarness.start({ IM_OIDC_ISSUER: oidc.issuer, IM_OIDC_AUDIENCE: oidc.audience, IM_OIDC_CLOCK_SKEW_SECONDS: '0' });
    const document = (await api.request<{ paths: Record<string, Record<string, { 'x-permission': Permission | null }>> }>('GET', '/api/docs.json')).body;
    operations = Object.entries(document.paths).flatMap(([template, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method: method.toUpperCase(),
        template,
        path: template.replace(/\{([^}]+)\}/g, (_m, name: string) => PARAMETER_VALUES[name] ?? 'x'),
        permission: operation['x-permission'],
      })),
    );
  });
  afterAll(async () => {
    await api?.close();
    await oidc?.stop();
  });

  const isProblem = (type: string) => expect.objectContaining({ type: `urn:identitymesh:problem:${type}` });

  it('documents every route the app serves, each with a permission of the product or explicitly public', async () => {
    const served = api.app.get(OpenApiService).routes().map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    expect(operations.map((o) => `${o.method} ${o.template}`).sort()).toEqual([...served].sort());
    expect(operations.length).toBeGreaterThan(20);
    for (const operation of operations) {
      if (operation.permission === null) expect(PUBLIC_ROUTES).toContain(`${operation.method} ${operation.template}`);
      else expect(PERMISSIONS).toContain(operation.permission);
    }
  });

  it('answers 401 to an anonymous caller and to a malformed or unknown credential on every protected route', async () => {
    for (const op of operations.filter((o) => o.permission !== null)) {
      for (const headers of [{} as Record<string, string>, { authorization: 'Basic YWRtaW46YWRtaW4=' }, { authorization: 'Bearer' }, { authorization: 'Bearer not-a-jwt' }, { authorization: `Bearer im_000000000000_${'A'.repeat(43)}` }]) {
        const answer = await api.request(op.method, op.path, { headers });
        expect({ route: `${op.method} ${op.template}`, headers, status: answer.status }).toEqual({ route: `${op.method} ${op.template}`, headers, status: 401 });
        expect(answer.body).toEqual(isProblem('unauthenticated'));
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="IdentityMesh"/);
      }
    }
  });

  it('answers 401 to forged, expired, wrong-audience and wrong-issuer tokens on every protected route', async () => {
    const genuine = await oidc.token('im-admin');
    const claims = JSON.parse(Buffer.from(genuine.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // Same claims, same key id, another key: only the signature gives it away.
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-signing-key', typ: 'at+jwt' }).sign(privateKey);
    const unknownKey = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'another-key' }).sign(privateKey);
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${genuine.split('.')[1]}.`;
    const tampered = `${genuine.split('.')[0]}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'], sub: 'mallory' })).toString('base64url')}.${genuine.split('.')[2]}`;
    const wrongAudience = await oidc.token('im-admin', 'api://another-application');
    const otherProvider = await OidcTestProvider.start();
    const wrongIssuer = await otherProvider.token('im-admin').finally(() => otherProvider.stop());
    const expiring = await oidc.token('im-short');
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    const refused: Record<string, string> = { forged, unknownKey, unsigned, tampered, wrongAudience, wrongIssuer, expired: expiring };
    for (const op of operations.filter((o) => o.permission !== null)) {
      for (const [kind, token] of Object.entries(refused)) {
        const answer = await api.request(op.method, op.path, { token });
        expect({ route: `${op.method} ${op.template}`, kind, status: answer.status }).toEqual({ route: `${op.method} ${op.template}`, kind, status: 401 });
        expect(answer.body).toEqual(isProblem('unauthenticated'));
      }
    }
    // The same routes take the genuine token: the refusals above were about the token alone.
    for (const op of operations.filter((o) => o.permission !== null)) {
      const answer = await api.request(op.method, op.path, { token: genuine });
      expect({ route: `${op.method} ${op.template}`, refused: [401, 403].includes(answer.status) }).toEqual({ route: `${op.method} ${op.template}`, refused: false });
    }
  });

  it('answers 403 to a valid token or API key without the route’s permission', async () => {
    const noRole = await oidc.token('im-norole');
    const reader = await oidc.token('im-reader');
    const readerPermissions: Permission[] = ['dashboard.read', 'connectors.read', 'rules.read', 'runs.read', 'objects.read'];
    const allBut = new Map<Permission, string>();
    for (const permission of PERMISSIONS) allBut.set(permission, (await api.createKey(PERMISSIONS.filter((p) => p !== permission))).token);
    for (const op of operations.filter((o) => o.permission !== null)) {
      const permission = op.permission as Permission;
      const callers: Array<[string, string]> = [
        ['OIDC token without roles', noRole],
        ['API key with every other permission', allBut.get(permission) as string],
      ];
      if (!readerPermissions.includes(permission)) callers.push(['reader token', reader]);
      for (const [caller, token] of callers) {
        const answer = await api.request(op.method, op.path, { token, json: op.method === 'GET' || op.method === 'DELETE' ? undefined : {} });
        expect({ route: `${op.method} ${op.template}`, caller, status: answer.status }).toEqual({ route: `${op.method} ${op.template}`, caller, status: 403 });
        expect(answer.body).toEqual(expect.objectContaining({ type: 'urn:identitymesh:problem:forbidden', details: { permission } }));
      }
    }
  });

  it('answers 401 to a revoked or expired API key on every protected route, and executes nothing', async () => {
    const admin = await api.createKey();
    const revoked = await api.createKey();
    const revoke = await api.request('DELETE', `/api/api-keys/${revoked.id}`, { token: admin.token });
    expect(revoke.status).toBe(200);
    const expired = await api.createKey(PERMISSIONS, { expiresAt: new Date(Date.now() - 1000) });
    const connectorsBefore = (await api.request<{ items: unknown[] }>('GET', '/api/connectors?limit=200', { token: admin.token })).body.items.length;
    for (const op of operations.filter((o) => o.permission !== null)) {
      for (const [kind, key] of [['revoked', revoked], ['expired', expired]] as const) {
        const answer = await api.request(op.method, op.path, {
          token: key.token,
          json: op.template === '/api/connectors' && op.method === 'POST' ? { name: `sneaky-${randomUUID()}`, type: 'csv', config: { path: '/tmp/x.csv', anchorColumn: 'id', columns: [{ column: 'id' }] } } : undefined,
        });
        expect({ route: `${op.method} ${op.template}`, kind, status: answer.status }).toEqual({ route: `${op.method} ${op.template}`, kind, status: 401 });
        expect(answer.body).toEqual(expect.objectContaining({ code: 'UNAUTHENTICATED', detail: expect.stringContaining(kind === 'revoked' ? 'revoked' : 'expired') }));
      }
    }
    expect((await api.request<{ items: unknown[] }>('GET', '/api/connectors?limit=200', { token: admin.token })).body.items.length).toBe(connectorsBefore);
  });

  it('serves the public routes without credentials', async () => {
    for (const op of operations.filter((o) => o.permission === null)) {
      const answer = await api.request(op.method, op.path);
      expect({ route: `${op.method} ${op.template}`, unauthorized: [401, 403].includes(answer.status) }).toEqual({ route: `${op.method} ${op.template}`, unauthorized: false });
    }
  });
});
