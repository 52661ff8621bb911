import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
export type AppName = 'admin-api' | 'sync-engine' | 'relay-agent';

/** A free loopback port, so parallel tests never collide. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => res(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export function builtMain(app: AppName): string {
  const main = join(WORKSPACE_ROOT, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx run-many -t build\` before the end-to-end tests`);
  return main;
}

/** One app process as an operator starts it: `node main.js` with IM_* settings. */
export class AppProcess {
  readonly output: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly app: AppName,
    readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
  }

  static start(app: AppName, env: Record<string, string>, options: { main?: string; cwd?: string; args?: string[] } = {}): AppProcess {
    const child = spawn(process.execPath, [options.main ?? builtMain(app), ...(options.args ?? [])], {
      cwd: options.cwd ?? WORKSPACE_ROOT,
      // Only what the test gives, plus PATH: the developer's own IM_* settings must not leak in.
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(app, child);
  }

  /** Waits for the process to end by itself. */
  async exit(timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${this.app} did not exit within ${timeoutMs} ms; output:\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit(timeoutMs);
  }

  /** For afterAll: never leaves a process behind, whatever the test did. */
  async ensureStopped(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }

  /** Parsed JSON log lines from stdout. */
  records(): Array<Record<string, unknown>> {
    return this.output.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}

/** Polls a URL until it answers with `status`, or fails with the app's output. */
export async function waitForStatus(url: string, status: number, app: AppProcess, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null) throw new Error(`${app.app} exited with ${app.child.exitCode} while waiting for ${url}:\n${app.tail()}`);
    try {
      const res = await fetch(url);
      if (res.status === status) return res;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last}); ${app.app} output:\n${app.tail()}`);
}

export function todaysLogFile(dataDir: string): string {
  return join(dataDir, 'logs', `identitymesh-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}.log`);
}

/** The JSON records of the shared daily log file, optionally of one app. */
export function logFileRecords(dataDir: string, app?: AppName): Array<Record<string, unknown>> {
  const file = todaysLogFile(dataDir);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((r) => !app || r['app'] === app);
}

/**
 * An Admin API key made the way an operator makes the first one:
 * `node main.js create-api-key <name> <role> <days>` with the Admin API's
 * settings. The key is printed once, on a line of its own.
 */
export async function createApiKey(env: Record<string, string>, role: 'admin' | 'operator' | 'reader' = 'reader', name = 'e2e'): Promise<string> {
  const command = AppProcess.start('admin-api', env, { args: ['create-api-key', name, role, '1'] });
  const { code } = await command.exit();
  const key = command.output.find((line) => /^im_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/.test(line));
  if (code !== 0 || !key) throw new Error(`create-api-key exited with ${code} and printed no key:\n${command.tail()}`);
  return key;
}
