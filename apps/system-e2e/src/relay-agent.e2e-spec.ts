import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, freePort, logFileRecords, waitForStatus } from './support/app-process';

describe('relay agent process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-relay-'));
  const processes: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves health and metrics without any database, and is not ready without a hub to dial', async () => {
    const port = await freePort();
    const relay = AppProcess.start('relay-agent', { IM_DATA_DIR: dataDir, IM_RELAY_PORT: String(port), IM_RELAY_NAME: 'branch-1' });
    processes.push(relay);
    const notReady = await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 503, relay);
    expect(await notReady.json()).toMatchObject({ status: 'down', checks: [{ name: 'hub', status: 'down' }] });
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('identitymesh_build_info{version="0.1.0",app="relay-agent"} 1');
    expect(await relay.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('is ready with a hub configured and logs its shutdown to the daily file', async () => {
    const port = await freePort();
    const relay = AppProcess.start('relay-agent', { IM_DATA_DIR: dataDir, IM_RELAY_PORT: String(port), IM_HUB_URL: 'https://hub.identitymesh.test' });
    processes.push(relay);
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, relay);
    expect(await relay.stop('SIGINT')).toEqual({ code: 0, signal: null });
    const records = logFileRecords(dataDir, 'relay-agent').filter((r) => r['pid'] === relay.child.pid);
    expect(records[records.length - 1]?.['msg']).toBe('shutdown complete');
  });
});
