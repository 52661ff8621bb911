import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AppProcess, freePort, logFileRecords, waitForStatus } from './support/app-process';
import { licensedEnv } from './support/license';

/**
 * The single-instance topology on the embedded default, as `npm start` runs
 * it: the Admin API and the Sync Engine as separate processes sharing one
 * SQLite file, each with health and metrics, both stopping cleanly.
 */
describe('single-instance topology on the embedded SQLite default', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-single-'));
  const processes: AppProcess[] = [];
  let adminUrl = '';
  let engineUrl = '';
  let admin: AppProcess;
  let engine: AppProcess;
  let license: Record<string, string> = {};

  beforeAll(async () => {
    adminUrl = `http://127.0.0.1:${await freePort()}`;
    engineUrl = `http://127.0.0.1:${await freePort()}`;
    license = licensedEnv(dataDir);
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    IM_DATA_DIR: dataDir,
    IM_ADMIN_PORT: new URL(adminUrl).port,
    IM_ENGINE_PORT: new URL(engineUrl).port,
    IM_ENGINE_HEARTBEAT_SECONDS: '1',
    IM_ENGINE_STALE_AFTER_SECONDS: '3',
    ...license,
    ...extra,
  });

  it('starts the Admin API, which creates and migrates the SQLite file by itself', async () => {
    admin = AppProcess.start('admin-api', env());
    processes.push(admin);
    const res = await waitForStatus(`${adminUrl}/health/ready`, 200, admin);
    const body = (await res.json()) as { status: string; checks: Array<{ name: string; status: string; detail: string }> };
    expect(body.status).toBe('up');
    expect(body.checks.map((c) => [c.name, c.status])).toEqual([
      ['database', 'up'],
      ['schema', 'up'],
      ['license', 'up'],
    ]);
    expect(body.checks[1].detail).toContain('at expected version');
    expect((await fetch(`${adminUrl}/health/live`)).status).toBe(200);
  });

  it('starts the Sync Engine on the same file, registered as the active engine', async () => {
    engine = AppProcess.start('sync-engine', env());
    processes.push(engine);
    const res = await waitForStatus(`${engineUrl}/health/ready`, 200, engine);
    const body = (await res.json()) as { checks: Array<{ name: string; status: string; detail: string }> };
    expect(body.checks.map((c) => c.name).sort()).toEqual(['database', 'engine-registry', 'license', 'schema']);
    expect(body.checks.find((c) => c.name === 'license')?.detail).toMatch(/^valid: license [0-9a-f-]{36} for "Contoso"/);
    expect(body.checks.find((c) => c.name === 'engine-registry')?.detail).toMatch(/\(active\)$/);
  });

  it('serves Prometheus metrics on both apps', async () => {
    const adminMetrics = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(adminMetrics).toContain('identitymesh_build_info{version="0.1.0",app="admin-api"} 1');
    expect(adminMetrics).toMatch(/identitymesh_http_request_duration_seconds_bucket\{[^}]*route="\/health\/ready"/);
    expect(adminMetrics).toContain('identitymesh_process_resident_memory_bytes');
    const engineMetrics = await (await fetch(`${engineUrl}/metrics`)).text();
    expect(engineMetrics).toContain('identitymesh_engine_active{app="sync-engine"} 1');
  });

  it('refuses a second engine on the same database and names the first', async () => {
    const second = AppProcess.start('sync-engine', env({ IM_ENGINE_PORT: String(await freePort()) }));
    processes.push(second);
    const { code } = await second.exit();
    expect(code).toBe(1);
    const fatal = second.records().find((r) => r['level'] === 'fatal');
    expect(fatal?.['code']).toBe('ENGINE_ALREADY_RUNNING');
    expect(String(fatal?.['msg'])).toContain(`another engine is running on this database: engine `);
    expect(String(fatal?.['msg'])).toContain(`pid ${engine.child.pid}`);
  });

  it('keeps a standby passive and promotes it once the active engine stops', async () => {
    const standbyUrl = `http://127.0.0.1:${await freePort()}`;
    const standby = AppProcess.start('sync-engine', env({ IM_ENGINE_PORT: new URL(standbyUrl).port, IM_ENGINE_ON_CONFLICT: 'passive' }));
    processes.push(standby);
    const ready = await waitForStatus(`${standbyUrl}/health/ready`, 200, standby);
    const body = (await ready.json()) as { checks: Array<{ name: string; detail: string }> };
    expect(body.checks.find((c) => c.name === 'engine-registry')?.detail).toMatch(/\(passive\)$/);
    expect(await (await fetch(`${standbyUrl}/metrics`)).text()).toContain('identitymesh_engine_active{app="sync-engine"} 0');

    expect(await engine.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const deadline = Date.now() + 20_000;
    let metrics = '';
    while (Date.now() < deadline) {
      metrics = await (await fetch(`${standbyUrl}/metrics`)).text();
      if (metrics.includes('identitymesh_engine_active{app="sync-engine"} 1')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(metrics).toContain('identitymesh_engine_active{app="sync-engine"} 1');
    expect(await standby.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('stops on SIGTERM with exit 0 and a final "shutdown complete" in the daily log file', async () => {
    expect(await admin.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    for (const app of ['admin-api', 'sync-engine'] as const) {
      const records = logFileRecords(dataDir, app);
      expect(records.length).toBeGreaterThan(0);
      const complete = records.filter((r) => r['msg'] === 'shutdown complete');
      expect(complete.length).toBeGreaterThan(0);
      // Nothing is logged by a process after its own "shutdown complete".
      for (const record of complete) {
        const later = records.filter((r) => r['pid'] === record['pid'] && String(r['time']) > String(record['time']));
        expect(later).toEqual([]);
      }
    }
  });

  it('leaves every engine marked stopped in the registry, with no lease held', () => {
    const db = new Database(join(dataDir, 'identitymesh.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT status, stoppedAt FROM IM_EngineInstances').all() as Array<{ status: string; stoppedAt: string | null }>;
      expect(rows.length).toBe(2);
      expect(rows.every((r) => r.status === 'stopped' && r.stoppedAt !== null)).toBe(true);
      expect(db.prepare('SELECT COUNT(*) AS n FROM IM_ConnectorLeases').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});

describe('engine restart after kill -9', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-kill-'));
  const processes: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts again at once: the registry row of a dead process on this host does not block it', async () => {
    const port = await freePort();
    const env = { IM_DATA_DIR: dataDir, IM_ENGINE_PORT: String(port) };
    const first = AppProcess.start('sync-engine', env);
    processes.push(first);
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, first);
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

    const second = AppProcess.start('sync-engine', env);
    processes.push(second);
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, second);
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
