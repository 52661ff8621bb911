// npm run db:migrate: applies pending schema migrations to the database the
// IM_DB_* settings name, using the built Admin API's `migrate` command (the
// same code an installed app folder runs with `node main.js migrate`).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
const build = spawnSync('npx', ['nx', 'build', 'admin-api', '--output-style=static'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) {
  console.error('building admin-api failed; run `npx nx build admin-api` to see why');
  process.exit(build.status ?? 1);
}
const migrate = spawnSync(process.execPath, [join(root, 'dist/apps/admin-api/main.js'), 'migrate'], { cwd: root, env, stdio: 'inherit' });
process.exit(migrate.status ?? 1);
