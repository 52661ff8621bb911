import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppName, AppProcess } from './support/app-process';

/**
 * A bad or missing setting stops start-up before anything runs, with a
 * non-zero exit code (78, EX_CONFIG) and the setting's name.
 */
describe('configuration errors at start-up', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-config-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const cases: Array<[AppName, Record<string, string>, string]> = [
    ['admin-api', { IM_ADMIN_PORT: 'eighty' }, 'IM_ADMIN_PORT'],
    ['admin-api', { IM_ADMIN_PORT: '70000' }, 'IM_ADMIN_PORT'],
    ['admin-api', { IM_DB_TYPE: 'oracle' }, 'IM_DB_TYPE'],
    ['admin-api', { IM_DB_TYPE: 'postgres' }, 'IM_DB_URL'],
    ['admin-api', { IM_DB_TYPE: 'postgres', IM_DB_URL: 'http://db.example/identitymesh' }, 'IM_DB_URL'],
    ['sync-engine', { IM_LOG_LEVEL: 'loud' }, 'IM_LOG_LEVEL'],
    ['sync-engine', { IM_ENGINE_HEARTBEAT_SECONDS: '30', IM_ENGINE_STALE_AFTER_SECONDS: '40' }, 'IM_ENGINE_STALE_AFTER_SECONDS'],
    ['sync-engine', { IM_CLUSTER_MODE: 'cluster' }, 'IM_CLUSTER_MODE'],
    ['admin-api', { IM_LICENSE_PUBLIC_KEYS: 'no-such-key.pem' }, 'IM_LICENSE_PUBLIC_KEYS'],
    ['admin-api', { IM_LICENSE_FILE: tmpdir() }, 'IM_LICENSE_FILE'],
    ['sync-engine', { IM_LICENSE_PUBLIC_KEYS: 'not-a-key' }, 'IM_LICENSE_PUBLIC_KEYS'],
    ['relay-agent', { IM_HUB_URL: 'not a url' }, 'IM_HUB_URL'],
    ['relay-agent', { IM_CLUSTER_MODE: 'cluster' }, 'IM_CLUSTER_MODE'],
  ];

  it.each(cases)('%s refuses %j naming %s', async (app, settings, name) => {
    const proc = AppProcess.start(app, { IM_DATA_DIR: dataDir, ...settings });
    const { code } = await proc.exit(30_000);
    expect(code).toBe(78);
    expect(proc.tail()).toContain(`IdentityMesh cannot start: invalid configuration: ${name}:`);
  });

  it('says plainly that cluster mode is not available yet', async () => {
    const proc = AppProcess.start('admin-api', { IM_DATA_DIR: dataDir, IM_CLUSTER_MODE: 'cluster' });
    await proc.exit(30_000);
    expect(proc.tail()).toContain('cluster is not available in this version');
  });

  it('reads settings from IM_CONFIG_FILE, with the environment winning', async () => {
    const file = join(dataDir, 'identitymesh.json');
    writeFileSync(file, JSON.stringify({ IM_ADMIN_PORT: 'not-a-port', IM_LOG_LEVEL: 'info' }));
    const fromFile = AppProcess.start('admin-api', { IM_DATA_DIR: dataDir, IM_CONFIG_FILE: file });
    expect((await fromFile.exit(30_000)).code).toBe(78);
    expect(fromFile.tail()).toContain('IM_ADMIN_PORT');

    writeFileSync(file, '{ not json');
    const broken = AppProcess.start('admin-api', { IM_DATA_DIR: dataDir, IM_CONFIG_FILE: file });
    expect((await broken.exit(30_000)).code).toBe(78);
    expect(broken.tail()).toContain('IM_CONFIG_FILE: not valid JSON');
  });
});
