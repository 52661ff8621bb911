import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, freePort, waitForStatus } from './support/app-process';
import { licensedEnv } from './support/license';

/**
 * On a server database nothing migrates by itself: an app refuses a schema it
 * does not expect and says what to run; `node main.js migrate` brings the
 * schema up to date; then both database-backed apps run on it.
 */
describe.each(['postgres', 'mariadb'] as const)('admin-api and sync-engine on %s', (dialect) => {
  const dataDir = mkdtempSync(join(tmpdir(), `im-e2e-${dialect}-`));
  const processes: AppProcess[] = [];
  let db: ThrowawayDatabase;
  let license: Record<string, string> = {};

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    license = licensedEnv(dataDir);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (app: 'admin-api' | 'sync-engine', env: Record<string, string>, args: string[] = []) => {
    const proc = AppProcess.start(app, { IM_DATA_DIR: dataDir, ...db.env, ...license, ...env }, { args });
    processes.push(proc);
    return proc;
  };

  it('refuses to start on an empty database and names the command to run', async () => {
    const admin = start('admin-api', { IM_ADMIN_PORT: String(await freePort()) });
    expect((await admin.exit()).code).toBe(1);
    const fatal = admin.records().find((r) => r['level'] === 'fatal');
    expect(fatal?.['code']).toBe('SCHEMA_BEHIND');
    expect(String(fatal?.['msg'])).toContain('npm run db:migrate');
    expect(String(fatal?.['msg'])).toContain('node main.js migrate');
  });

  it('migrates with `main.js migrate`, and a second run has nothing to do', async () => {
    const first = start('admin-api', {}, ['migrate']);
    expect((await first.exit()).code).toBe(0);
    expect(first.records().some((r) => /^applied \d+ migration\(s\): InitialSchema1767225600000(, |$)/.test(String(r['msg'])))).toBe(true);
    const second = start('sync-engine', {}, ['migrate']);
    expect((await second.exit()).code).toBe(0);
    expect(second.records().some((r) => r['msg'] === 'schema already up to date')).toBe(true);
  });

  it('runs both apps on the migrated database and stops them cleanly', async () => {
    const adminPort = await freePort();
    const enginePort = await freePort();
    const admin = start('admin-api', { IM_ADMIN_PORT: String(adminPort) });
    const engine = start('sync-engine', { IM_ENGINE_PORT: String(enginePort) });
    const adminReady = await (await waitForStatus(`http://127.0.0.1:${adminPort}/health/ready`, 200, admin)).json();
    expect(adminReady).toMatchObject({ status: 'up' });
    const engineReady = (await (await waitForStatus(`http://127.0.0.1:${enginePort}/health/ready`, 200, engine)).json()) as {
      checks: Array<{ name: string; status: string }>;
    };
    expect(engineReady.checks.every((c) => c.status === 'up')).toBe(true);
    expect(await engine.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await admin.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(admin.records().at(-1)?.['msg']).toBe('shutdown complete');
    expect(engine.records().at(-1)?.['msg']).toBe('shutdown complete');
  });
});
