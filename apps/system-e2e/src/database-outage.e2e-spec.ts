import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppProcess, freePort, waitForStatus } from './support/app-process';
import { licensedEnv } from './support/license';

/**
 * A database outage shows up as a failing readiness probe, not as a crash:
 * the Admin API stays alive, reports the database check down with 503, and
 * is ready again by itself once the database takes connections again.
 */
describe('readiness through a PostgreSQL outage', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-outage-'));
  const admin = new Client({ connectionString: process.env['IM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  let db: ThrowawayDatabase;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    db = await createThrowawayDatabase('postgres');
    await admin.connect();
  });
  afterAll(async () => {
    await app?.ensureStopped();
    await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin.end();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('goes 503 while the database refuses connections and 200 when it is back', async () => {
    const port = await freePort();
    const env = { IM_DATA_DIR: dataDir, IM_ADMIN_PORT: String(port), IM_DB_AUTO_MIGRATE: 'true', ...db.env, ...licensedEnv(dataDir) };
    app = AppProcess.start('admin-api', env);
    const url = `http://127.0.0.1:${port}/health/ready`;
    await waitForStatus(url, 200, app);

    // Cut the database off: no new connections, and the pooled ones killed.
    await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
    const down = await waitForStatus(url, 503, app, 30_000);
    const report = (await down.json()) as { checks: Array<{ name: string; status: string; detail: string }> };
    expect(report.checks.find((c) => c.name === 'database')).toMatchObject({ status: 'down' });
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);

    await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
    await waitForStatus(url, 200, app, 30_000);
    expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
