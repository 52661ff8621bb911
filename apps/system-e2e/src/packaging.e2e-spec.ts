import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppName, AppProcess, freePort, waitForStatus, WORKSPACE_ROOT } from './support/app-process';
import { licensedEnv } from './support/license';

/**
 * Each app ships on its own: its build folder, with nothing but the
 * dependencies of its generated package.json installed, runs with
 * `node main.js`. This is what a container image or a Windows service folder
 * gets, so it is tried outside the workspace's node_modules.
 */
describe.each([
  ['admin-api', 'IM_ADMIN_PORT', ['better-sqlite3', 'pg', 'mysql2', 'mssql', 'typeorm', '@nestjs/core', 'pino', 'socket.io']],
  ['relay-agent', 'IM_RELAY_PORT', ['@nestjs/core', 'pino', 'prom-client', 'socket.io-client', 'ldapts']],
] as Array<[AppName, string, string[]]>)('%s as a standalone folder', (app, portSetting, expectedDependencies) => {
  const folder = mkdtempSync(join(tmpdir(), `im-package-${app}-`));
  let proc: AppProcess | undefined;
  afterAll(async () => {
    await proc?.ensureStopped();
    rmSync(folder, { recursive: true, force: true });
  });

  it('lists every runtime dependency in its generated package.json, the dynamically loaded SQL drivers included', () => {
    cpSync(join(WORKSPACE_ROOT, 'dist/apps', app), folder, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string> };
    expect(pkg.main).toBe('main.js');
    for (const dependency of expectedDependencies) expect(Object.keys(pkg.dependencies)).toContain(dependency);
    if (app === 'relay-agent') {
      // The relay never touches SQL, so it carries no driver and no ORM.
      for (const forbidden of ['typeorm', 'pg', 'mysql2', 'mssql', 'better-sqlite3']) expect(Object.keys(pkg.dependencies)).not.toContain(forbidden);
    }
  });

  it(
    'installs with `npm install --omit=dev` and runs with `node main.js`',
    async () => {
      execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: folder, stdio: 'pipe', timeout: 540_000 });
      const port = await freePort();
      // The Admin API is ready only with a license. The relay agent needs none, but it starts only with an enrollment
      // token (or a stored credential), and it is ready only once it reached its hub, which does not exist here: it must
      // come up alive and keep trying.
      const own = app === 'admin-api' ? licensedEnv(join(folder, 'data')) : { IM_RELAY_ENROLLMENT_TOKEN: `ime_packaging_${'x'.repeat(43)}` };
      proc = AppProcess.start(
        app,
        { IM_DATA_DIR: join(folder, 'data'), [portSetting]: String(port), IM_HUB_URL: 'http://127.0.0.1:9', ...own },
        { main: join(folder, 'main.js'), cwd: folder },
      );
      await waitForStatus(`http://127.0.0.1:${port}/health/${app === 'admin-api' ? 'ready' : 'live'}`, 200, proc, 60_000);
      expect(await proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    },
    600_000,
  );
});
