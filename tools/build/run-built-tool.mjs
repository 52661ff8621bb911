// Runs an operator tool from a checkout: builds it when it is missing or older
// than its sources, then runs it with this process's arguments, stdin and exit
// code. A copied build folder runs directly: `node main.js <command>`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

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

// `libs/*/src`: a `*` segment stands for every folder at that level.
function expand(folder) {
  const star = folder.indexOf('/*/');
  if (star < 0) return [join(root, folder)];
  const parent = join(root, folder.slice(0, star));
  return readdirSync(parent).map((name) => join(parent, name, folder.slice(star + 3)));
}

/**
 * Builds the tool if needed, runs it, and exits with its exit code.
 *
 * @param {object} tool
 * @param {string} tool.name How error messages name it (`license`).
 * @param {string} tool.project Its Nx project (`license-tool`).
 * @param {string} tool.main Its built entry point, from the workspace root (`dist/tools/license/main.js`).
 * @param {string[]} tool.sources The folders it is built from, from the workspace root; one `*` segment matches every folder at that level.
 * @param {boolean} [tool.fromCallerFolder] Run it in the folder `npm run` was started from rather than the workspace root. @default false
 */
export function runBuiltTool({ name, project, main: mainPath, sources, fromCallerFolder = false }) {
  const main = join(root, mainPath);
  const folders = sources.flatMap(expand);
  const stale = () => statSync(main).mtimeMs < Math.max(...folders.filter((d) => existsSync(d)).map(newestSource));
  if (!existsSync(main) || stale()) {
    const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
    // Build output goes to stderr: stdout carries only what the command prints (`license show --json`, `secretscli get --reveal` pipe it).
    const build = spawnSync('npx', ['nx', 'build', project, '--output-style=static'], { cwd: root, env, stdio: ['ignore', 2, 2] });
    if (build.status !== 0) {
      console.error(`${name}: building it failed; run \`npx nx build ${project}\` to see why`);
      process.exit(1);
    }
  }
  // npm runs scripts from the workspace root, but says where it was started.
  const callerFolder = process.env.INIT_CWD && existsSync(process.env.INIT_CWD) ? process.env.INIT_CWD : process.cwd();
  const run = spawnSync(process.execPath, [main, ...process.argv.slice(2)], { stdio: 'inherit', cwd: fromCallerFolder ? callerFolder : undefined });
  process.exit(run.status ?? 1);
}
