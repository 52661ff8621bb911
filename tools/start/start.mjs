// npm start: builds the Admin API and the Sync Engine, then runs both on the
// embedded SQLite default under ./data (the single-instance topology), with
// readable console output and an evaluation license it makes for itself.
// Once both are ready it runs the demo (tools/demo, docs/demo.md), which
// configures a generated HR feed, a SQLite directory and a CSV phone list and
// follows the engine's cycles; IM_DEMO=off leaves the engine empty instead.
// Ctrl+C (or SIGTERM) stops everything cleanly.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
const adminPort = env.IM_ADMIN_PORT || '8080';
const enginePort = env.IM_ENGINE_PORT || '8081';
const host = env.IM_BIND_ADDRESS || '127.0.0.1';

const dataDir = env.IM_DATA_DIR ? resolve(root, env.IM_DATA_DIR) : join(root, 'data');
// The demo is on unless switched off; the setting is read here only, the demo tool itself always runs when started.
const demoOn = !['off', 'false', '0', 'no'].includes((env.IM_DEMO ?? '').trim().toLowerCase());

const projects = ['admin-api', 'sync-engine', 'license-tool', ...(demoOn ? ['demo'] : [])];
console.log(`Building admin-api, sync-engine, the license tool${demoOn ? ' and the demo' : ''} …`);
const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', ...projects, '--output-style=static'], {
  cwd: root,
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (build.status !== 0) process.exit(build.status ?? 1);

const licenseTool = join(root, 'dist/tools/license/main.js');
const runLicenseTool = (...args) => spawnSync(process.execPath, [licenseTool, ...args], { cwd: root, encoding: 'utf8' });

/**
 * The demo's own vendor: a key pair and a 30-day evaluation license under
 * <data>/evaluation/, made on the first run and renewed once expired. The apps
 * are told only where the license and the public key are; the private key is
 * used by this script alone (and IM_LICENSE_PUBLIC_KEYS refuses a private key).
 */
function evaluationLicense() {
  const dir = join(dataDir, 'evaluation');
  const privateKey = join(dir, 'vendor-private.pem');
  const publicKey = join(dir, 'vendor-public.pem');
  const file = join(dir, 'license.key');
  const fail = (step, result, fatal = true) => {
    console.error(`npm start: ${step} failed: ${(result.stderr || result.stdout).trim()}`);
    if (fatal) process.exit(1);
  };
  if (!existsSync(privateKey) || !existsSync(publicKey)) {
    // Half a key pair can't be completed; a new pair means a new license too.
    for (const path of [privateKey, publicKey, file]) rmSync(path, { force: true });
    const keygen = runLicenseTool('keygen', '--out', dir);
    if (keygen.status !== 0) fail('making the evaluation key pair', keygen);
  }
  const renew = (fatal) => {
    const verify = runLicenseTool('verify', file, '--public-key', publicKey);
    if (verify.status === 0) return;
    const issue = runLicenseTool('issue', '--key', privateKey, '--customer', 'IdentityMesh evaluation (npm start)', '--expires', '+30', '--evaluation', '--out', file, '--force');
    if (issue.status !== 0) return fail('issuing the evaluation license', issue, fatal);
    const why = verify.status === 66 ? 'created' : verify.status === 2 ? 'renewed (the previous one expired)' : `replaced (${verify.stderr.trim()})`;
    console.log(`Evaluation license ${why}: ${file}`);
  };
  renew(true);
  // The apps pick a replaced file up without a restart, so a demo left running past 30 days keeps going.
  setInterval(() => renew(false), 3_600_000).unref();
  return { IM_LICENSE_FILE: file, IM_LICENSE_PUBLIC_KEYS: publicKey };
}

// An operator's own license settings win; the evaluation license is only the default.
const ownLicense = Boolean(env.IM_LICENSE_FILE || env.IM_LICENSE_PUBLIC_KEYS);
if (!ownLicense) Object.assign(env, evaluationLicense());

const children = new Map();
let stopping = false;

/**
 * Starts a built app (or, with `main`, a built tool) with the console output
 * relayed line by line under its name. A service that ends stops the rest;
 * the demo ending leaves the services running (`essential: false`).
 */
function start(app, { main = join(root, 'dist/apps', app, 'main.js'), essential = true } = {}) {
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
    if (!stopping && essential) {
      console.error(`${app} exited (${signal ?? code}); stopping the rest`);
      stopAll('SIGTERM', code || 1);
    } else if (!stopping) {
      console.error(`${app} exited (${signal ?? code}); the services keep running`);
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

/** What the Admin API says about its license, for the banner. */
async function describeLicense(adminUrl) {
  try {
    const res = await fetch(`${adminUrl}/api/license`);
    if (!res.ok) {
      // /api routes may ask for sign-in; the evaluation license can be checked here with its public key instead.
      const verify = ownLicense ? null : runLicenseTool('verify', env.IM_LICENSE_FILE, '--public-key', env.IM_LICENSE_PUBLIC_KEYS);
      const expires = verify?.status === 0 ? /^\s*expires\s+(\S+)/m.exec(verify.stdout)?.[1] : undefined;
      if (expires) return `EVALUATION license (made by npm start; not for production), valid until ${expires}`;
      return `see ${adminUrl}/api/license (it answered ${res.status} without sign-in)`;
    }
    const license = await res.json();
    if (license.status !== 'valid') return `${license.status}: ${license.reason}`;
    const kind = license.evaluation ? 'EVALUATION license (made by npm start; not for production)' : `license for "${license.customer}"`;
    return `${kind}, valid until ${license.expiresAt}   ${adminUrl}/api/license`;
  } catch (error) {
    return `unknown (${error.message})`;
  }
}

/** Says which readiness checks are down, so a launch that never gets ready is not silent. */
async function reportNotReady(app, url) {
  try {
    const report = await (await fetch(url)).json();
    for (const check of report.checks.filter((c) => c.status !== 'up')) console.error(`${app} is not ready: ${check.name}: ${check.detail}`);
  } catch (error) {
    console.error(`${app} is not ready: ${error.message}`);
  }
}

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
        `  Data         ${dataDir} (database identitymesh.sqlite, logs/identitymesh-YYYYMMDD.log)`,
        `  License      ${await describeLicense(adminUrl)}`,
        ...(ownLicense ? [] : [`               ${env.IM_LICENSE_FILE}, trusting only ${env.IM_LICENSE_PUBLIC_KEYS}`]),
        demoOn
          ? `  Demo         an HR feed synced into a SQLite directory and a CSV phone list under ${join(dataDir, 'demo')} (docs/demo.md; IM_DEMO=off to skip)`
          : '  Demo         off (IM_DEMO=off): npm start configures nothing',
        `Press Ctrl+C to stop ${demoOn ? 'everything' : 'both'}.`,
        '',
      ].join('\n'),
    );
    if (demoOn && !stopping) start('demo', { main: join(root, 'dist/tools/demo/main.js'), essential: false });
  } else if (!stopping) {
    await reportNotReady('sync-engine', `${engineUrl}/health/ready`);
  }
} else if (!stopping) {
  await reportNotReady('admin-api', `${adminUrl}/health/ready`);
}
