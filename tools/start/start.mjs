// npm start: builds the Admin API and the Sync Engine, then runs both on the
// embedded SQLite default under ./data (the single-instance topology), with
// readable console output. Ctrl+C (or SIGTERM) stops both cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
const adminPort = env.IM_ADMIN_PORT || '8080';
const enginePort = env.IM_ENGINE_PORT || '8081';
const host = env.IM_BIND_ADDRESS || '127.0.0.1';

console.log('Building admin-api and sync-engine …');
const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', 'admin-api', 'sync-engine', '--output-style=static'], {
  cwd: root,
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (build.status !== 0) process.exit(build.status ?? 1);

const children = new Map();
let stopping = false;

function start(app) {
  const main = join(root, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing after the build`);
  const child = spawn(process.execPath, [main], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(app, child);
  const relay = (stream, out) => {
    let buffer = '';
    stream.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        out.write(`${format(app, buffer.slice(0, nl))}\n`);
        buffer = buffer.slice(nl + 1);
      }
    });
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(app);
    if (!stopping) {
      console.error(`${app} exited (${signal ?? code}); stopping the rest`);
      stopAll('SIGTERM', code || 1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
  return child;
}

/** One readable line per JSON log record; the log file keeps the JSON. */
function format(app, line) {
  try {
    const record = JSON.parse(line);
    const extra = record.url ? ` ${record.url}` : '';
    return `${app.padEnd(11)} ${String(record.level).padEnd(5)} ${record.msg ?? ''}${record.msg?.includes(record.url ?? '\0') ? '' : extra}`;
  } catch {
    return `${app.padEnd(11)} ${line}`;
  }
}

let exitCode = 0;
function stopAll(signal, code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  if (children.size === 0) process.exit(exitCode);
  for (const child of children.values()) child.kill(signal);
}
process.on('SIGINT', () => stopAll('SIGTERM'));
process.on('SIGTERM', () => stopAll('SIGTERM'));

async function waitReady(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

// The Admin API starts first: on the embedded default it creates and migrates
// the SQLite file, which the engine then opens.
start('admin-api');
const adminUrl = `http://${host}:${adminPort}`;
const engineUrl = `http://${host}:${enginePort}`;
if (await waitReady(`${adminUrl}/health/ready`)) {
  start('sync-engine');
  if (await waitReady(`${engineUrl}/health/ready`)) {
    console.log(
      [
        '',
        'IdentityMesh is running (single-instance topology, embedded SQLite):',
        `  Admin API    ${adminUrl}   health ${adminUrl}/health/ready   metrics ${adminUrl}/metrics`,
        `  Sync Engine  ${engineUrl}   health ${engineUrl}/health/ready   metrics ${engineUrl}/metrics`,
        `  Data         ${env.IM_DATA_DIR ? resolve(root, env.IM_DATA_DIR) : join(root, 'data')} (database identitymesh.sqlite, logs/identitymesh-YYYYMMDD.log)`,
        'Press Ctrl+C to stop both.',
        '',
      ].join('\n'),
    );
  }
}
