#!/usr/bin/env node
// npm run bench [-- options]: makes sure the services are up (PostgreSQL, the
// test slapd; tools/dev-services/services.sh is idempotent), builds what the
// benchmark runs — the Sync Engine, the Admin API, the relay agent and the
// benchmark itself — and runs it. `--skip-services` and `--skip-build` leave those steps out;
// every other option goes to the benchmark (`npm run bench -- --help`).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
const launcherOptions = new Set(['--skip-services', '--skip-build']);
const args = process.argv.slice(2);
const benchArgs = args.filter((arg) => !launcherOptions.has(arg));
const help = benchArgs.includes('--help') || benchArgs.includes('-h');

function step(name, command, commandArgs) {
  const started = Date.now();
  // Output goes to stderr: stdout carries only the benchmark's table.
  const result = spawnSync(command, commandArgs, { cwd: root, env, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    console.error(`bench: ${name} failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
  console.error(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (!help && !args.includes('--skip-services')) step('services', 'bash', [join(root, 'tools/dev-services/services.sh')]);
if (!help && !args.includes('--skip-build')) step('build', 'npx', ['nx', 'run-many', '-t', 'build', '-p', 'sync-engine', 'admin-api', 'relay-agent', 'bench', '--output-style=static']);
const run = spawnSync(process.execPath, [join(root, 'dist/tools/bench/main.js'), ...benchArgs], { cwd: root, env, stdio: 'inherit' });
process.exit(run.status ?? 1);
