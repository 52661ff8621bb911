import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtMain, WORKSPACE_ROOT } from './app-process';

export function builtSecretsCli(): string {
  const main = join(WORKSPACE_ROOT, 'dist/tools/secretscli/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx build secretscli\` before this end-to-end test`);
  return main;
}

/**
 * Stores a secret the way docs/secrets.md tells an operator to: the built
 * secretscli with the engine's own IM_DATA_DIR, IM_DB_* and IM_SECRETS_*
 * settings, the value piped on stdin (never on the command line). Fails
 * with the tool's output unless it exits 0.
 */
export async function storeSecret(env: Record<string, string>, reference: string, value: string): Promise<void> {
  await setWithStdin(builtSecretsCli(), ['set', reference], env, value);
}

/**
 * Stores a connector secret on a relay agent's host, as docs/relays.md tells
 * an operator to: `node main.js secret set <reference>` of the built agent
 * with the agent's own IM_DATA_DIR, the value piped on stdin.
 */
export async function storeRelaySecret(env: Record<string, string>, reference: string, value: string): Promise<void> {
  await setWithStdin(builtMain('relay-agent'), ['secret', 'set', reference], env, value);
}

async function setWithStdin(main: string, args: string[], env: Record<string, string>, value: string): Promise<void> {
  const child = spawn(process.execPath, [main, ...args], { cwd: WORKSPACE_ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stdin.end(value);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${main} ${args.join(' ')} exited with ${code}:\n${output}`);
}
