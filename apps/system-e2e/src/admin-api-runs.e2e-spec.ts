import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, freePort, waitForStatus } from './support/app-process';
import { licensedEnv } from './support/license';

jest.setTimeout(300_000);

type Json = Record<string, unknown>;

/**
 * The built Admin API drives the built Sync Engine through the database, as
 * an operator's deployment does: the first API key from `main.js
 * create-api-key`, a connector created over REST, a run queued over REST and
 * taken by the engine process, its result and the engine registry read back
 * over REST, and the OpenAPI page served from the build folder's packages.
 */
describe('Admin API over the built apps', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-admin-api-'));
  const processes: AppProcess[] = [];
  let adminUrl = '';
  let env: Record<string, string> = {};
  let token = '';

  beforeAll(async () => {
    adminUrl = `http://127.0.0.1:${await freePort()}`;
    env = {
      IM_DATA_DIR: dataDir,
      IM_ADMIN_PORT: new URL(adminUrl).port,
      IM_ENGINE_PORT: String(await freePort()),
      IM_ENGINE_HEARTBEAT_SECONDS: '1',
      IM_ENGINE_STALE_AFTER_SECONDS: '3',
      IM_ENGINE_RUN_POLL_MS: '200',
      ...licensedEnv(dataDir),
    };
    writeFileSync(join(dataDir, 'people.csv'), 'id,givenName,sn\n1,Ann,Lee\n2,Bob,Kim\n3,Cy,Ng\n');
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  it('prints the first API key once with `main.js create-api-key`', async () => {
    const command = AppProcess.start('admin-api', env, { args: ['create-api-key', 'bootstrap', 'admin', '1'] });
    processes.push(command);
    expect((await command.exit()).code).toBe(0);
    token = command.output.find((line) => /^im_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/.test(line)) ?? '';
    expect(token).not.toBe('');
  });

  it('queues a run over REST that the engine process takes and finishes', async () => {
    const admin = AppProcess.start('admin-api', env);
    const engine = AppProcess.start('sync-engine', env);
    processes.push(admin, engine);
    await waitForStatus(`${adminUrl}/health/ready`, 200, admin);
    expect((await fetch(`${adminUrl}/api/connectors`)).status).toBe(401);

    const connector = await call('POST', '/api/connectors', {
      name: 'hr',
      type: 'csv',
      config: { path: join(dataDir, 'people.csv'), anchorColumn: 'id', columns: [{ column: 'id' }, { column: 'givenName' }, { column: 'sn' }] },
    });
    expect(connector.status).toBe(201);
    const queued = await call('POST', `/api/connectors/${connector.body['id']}/runs`, { profile: 'full-import' });
    expect(queued).toMatchObject({ status: 202, body: { status: 'queued' } });

    let run: Json = queued.body;
    const deadline = Date.now() + 120_000;
    while (['queued', 'running'].includes(run['status'] as string) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      run = (await call('GET', `/api/runs/${queued.body['id']}`)).body;
    }
    expect(run).toMatchObject({ status: 'succeeded', added: 3, errors: 0, objectErrors: [] });

    const instances = await call('GET', '/api/instances');
    expect(instances.body['items']).toContainEqual(expect.objectContaining({ status: 'active', live: true }));
    const audit = await call('GET', '/api/audit?action=run.trigger');
    expect((audit.body['items'] as Json[])[0]).toMatchObject({ actorType: 'api-key', runId: queued.body['id'] });
  });

  it('serves the OpenAPI document and its page from the build folder', async () => {
    const document = (await (await fetch(`${adminUrl}/api/docs.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/connectors', '/api/runs/{id}/approve-deletes', '/api/instances', '/api/audit']));
    const page = await fetch(`${adminUrl}/api/docs`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('swagger-ui-bundle.js');
    const bundle = await fetch(`${adminUrl}/api/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });
});
