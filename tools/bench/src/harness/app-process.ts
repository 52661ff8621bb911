import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

export type BuiltApp = 'sync-engine' | 'admin-api' | 'relay-agent';

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An API key made the way an operator makes the first one
 * (`node dist/apps/admin-api/main.js create-api-key <name> <role> <days>`) on the
 * database of `env`; undefined for a build that cannot make one.
 */
export async function createApiKey(root: string, env: Record<string, string>, name: string, role: 'reader' | 'operator' | 'admin'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist/apps/admin-api/main.js'), 'create-api-key', name, role, '1'], { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.on('error', () => resolve(undefined));
    child.on('exit', (code) => resolve(code === 0 ? /^(im_\S+)$/m.exec(stdout)?.[1] : undefined));
  });
}

/**
 * One built app (`dist/apps/<app>/main.js`) started as an operator starts it,
 * with `IM_*` settings only: the process whose cost the benchmark reports.
 */
export class AppProcess {
  private readonly output: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly app: BuiltApp,
    readonly child: ChildProcess,
    readonly url: string,
    log: WriteStream | undefined,
  ) {
    const collect = (chunk: Buffer) => {
      log?.write(chunk);
      this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      // Only the tail is ever shown; a long run must not grow the bench's own memory.
      if (this.output.length > 400) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        log?.end();
        resolve({ code, signal });
      }),
    );
  }

  /**
   * `nodeArgs`: options for node itself, such as `--cpu-prof` (see `--profile-engine`);
   * `logFile`: where the process's output (its JSON log lines) is kept.
   */
  static async start(root: string, app: BuiltApp, env: Record<string, string>, port: number, options: { nodeArgs?: string[]; logFile?: string } = {}): Promise<AppProcess> {
    const main = join(root, 'dist/apps', app, 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: build it with \`npx nx build ${app}\` (npm run bench does)`);
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), main], { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (options.logFile) mkdirSync(dirname(options.logFile), { recursive: true });
    const started = new AppProcess(app, child, `http://127.0.0.1:${port}`, options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined);
    await started.waitReady();
    return started;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.app} has no process id`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private async waitReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.app} exited (${this.child.exitCode ?? this.child.signalCode}) before it was ready:\n${this.tail()}`);
      try {
        const res = await fetch(`${this.url}/health/ready`);
        if (res.status === 200) return;
        last = `${res.status} ${await res.text()}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`${this.app} was not ready within ${timeoutMs} ms (last: ${last}):\n${this.tail()}`);
  }

  /** The value of one metric (summed over its label sets) on the app's /metrics. */
  async metric(name: string): Promise<number> {
    const res = await fetch(`${this.url}/metrics`);
    const text = await res.text();
    let sum = 0;
    let found = false;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    if (!found) throw new Error(`${name} is not on ${this.url}/metrics`);
    return sum;
  }

  /**
   * Resets the kernel's peak-RSS mark (VmHWM) of the process (`clear_refs`
   * 5, Linux ≥ 4.0), so the next reading is the peak of one run, not of
   * the process's life. False where that is not allowed.
   */
  resetPeakRss(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Peak resident set size (VmHWM) in bytes, or undefined off Linux. */
  peakRssBytes(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined;
    }
  }

  async stop(timeoutMs = 60_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  tail(lines = 40): string {
    return this.output.slice(-lines).join('\n');
  }
}
