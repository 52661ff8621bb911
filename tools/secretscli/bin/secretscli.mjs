#!/usr/bin/env node
// secretscli from a checkout: builds the CLI when it is missing or older than
// its sources, then runs it with this process's arguments, stdin and exit code. An
// installed copy runs the built folder directly: `node main.js <command>`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const main = join(root, 'dist/tools/secretscli/main.js');

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

const sources = [join(root, 'tools/secretscli/src'), ...readdirSync(join(root, 'libs')).map((lib) => join(root, 'libs', lib, 'src'))];
const stale = () => statSync(main).mtimeMs < Math.max(...sources.filter((d) => existsSync(d)).map(newestSource));
if (!existsSync(main) || stale()) {
  const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
  // Build output goes to stderr: stdout carries only what the command prints (get --reveal pipes it).
  const build = spawnSync('npx', ['nx', 'build', 'secretscli', '--output-style=static'], { cwd: root, env, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) {
    console.error('secretscli: building it failed; run `npx nx build secretscli` to see why');
    process.exit(1);
  }
}
const run = spawnSync(process.execPath, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
