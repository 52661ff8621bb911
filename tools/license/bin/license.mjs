#!/usr/bin/env node
// The license tool from a checkout (`npm run license -- <command>`): builds it
// when it is missing or older than its sources, then runs it with this
// process's arguments and exit code. A copied build folder runs directly:
// `node main.js <command>`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(root, 'dist/tools/license/main.js');

/** The newest modification time of the TypeScript sources under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = [join(root, 'tools/license/src'), join(root, 'libs/license/src'), join(root, 'libs/domain/src')];
const stale = () => statSync(main).mtimeMs < Math.max(...sources.filter((d) => existsSync(d)).map(newestSource));
if (!existsSync(main) || stale()) {
  const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
  // Build output goes to stderr: stdout carries only what the command prints (show --json pipes it).
  const build = spawnSync('npx', ['nx', 'build', 'license-tool', '--output-style=static'], { cwd: root, env, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) {
    console.error('license: building the tool failed; run `npx nx build license-tool` to see why');
    process.exit(1);
  }
}
// Relative paths in the arguments mean the caller's folder: npm runs scripts from the root, but says where it was started.
const cwd = process.env.INIT_CWD && existsSync(process.env.INIT_CWD) ? process.env.INIT_CWD : process.cwd();
const run = spawnSync(process.execPath, [main, ...process.argv.slice(2)], { stdio: 'inherit', cwd });
process.exit(run.status ?? 1);
