import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { AppProcess, builtMain, freePort, logFileRecords, waitForStatus, WORKSPACE_ROOT } from './support/app-process';

const ENROLLMENT_TOKEN = `ime_enr1_${'A'.repeat(43)}`;
const CREDENTIAL = `imr_relay1_${'B'.repeat(43)}`;

/** `node main.js <args>` of the built agent with `input` on stdin, as an operator pipes a value in. */
async function relayCommand(env: Record<string, string>, args: string[], input: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [builtMain('relay-agent'), ...args], { cwd: WORKSPACE_ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
  return { code, output };
}

/**
 * The smallest hub the agent can enroll with and connect to: the enrollment
 * route and the `/hub` namespace's credential check, as the Admin API serves them.
 */
class MiniHub {
  readonly handshakeTokens: unknown[] = [];
  readonly enrollments: Array<Record<string, unknown>> = [];
  private readonly http: HttpServer;
  private readonly io: Server;

  constructor() {
    this.http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        const ok = req.method === 'POST' && req.url === '/api/relays/enroll' && body['token'] === ENROLLMENT_TOKEN && this.enrollments.length === 0;
        if (ok) this.enrollments.push(body);
        res.writeHead(ok ? 201 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { relayId: 'relay1', name: body['name'], relayGroup: 'branch', credential: CREDENTIAL } : { title: 'Unauthorized' }));
      });
    });
    this.io = new Server(this.http, { transports: ['websocket'] });
    const hub = this.io.of('/hub');
    hub.use((socket, next) => {
      const token = (socket.handshake.auth as Record<string, unknown>)['token'];
      this.handshakeTokens.push(token);
      if (token === CREDENTIAL) return next();
      next(Object.assign(new Error('HUB_UNAUTHENTICATED: unknown credential'), { data: { code: 'HUB_UNAUTHENTICATED' } }));
    });
    hub.on('connection', (socket) => socket.on('work:pull', (_message: unknown, ack: (reply: unknown) => void) => ack({ items: [] })));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await this.io.close();
    this.http.closeAllConnections();
  }
}

describe('relay agent process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-relay-'));
  const processes: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to start without a hub, or without a credential or an enrollment token, saying which setting is missing', async () => {
    const port = await freePort();
    const noHub = AppProcess.start('relay-agent', { IM_DATA_DIR: join(dataDir, 'fresh'), IM_RELAY_PORT: String(port) });
    processes.push(noHub);
    expect(await noHub.exit()).toEqual({ code: 78, signal: null });
    expect(noHub.output.join('\n')).toContain('IM_HUB_URL: is required');

    const noCredential = AppProcess.start('relay-agent', { IM_DATA_DIR: join(dataDir, 'fresh'), IM_RELAY_PORT: String(port), IM_HUB_URL: 'http://127.0.0.1:9' });
    processes.push(noCredential);
    expect(await noCredential.exit()).toEqual({ code: 78, signal: null });
    expect(noCredential.output.join('\n')).toContain('IM_RELAY_ENROLLMENT_TOKEN: is required on the first start: no relay credential is stored yet');
  });

  it('stores connector secrets on its host with `main.js secret set`, value from stdin, never in clear', async () => {
    const env = { IM_DATA_DIR: join(dataDir, 'secrets') };
    const set = await relayCommand(env, ['secret', 'set', 'ldap/branch/bind-password'], 'pa55-w0rd\n');
    expect(set.code).toBe(0);
    expect(set.output).toMatch(/stored ldap\/branch\/bind-password \(version 1, host key host:[0-9a-f]+\)/);
    const file = join(dataDir, 'secrets', 'secrets.json');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('ldap/branch/bind-password');
    expect(readFileSync(file, 'utf8')).not.toContain('pa55-w0rd');

    const list = await relayCommand(env, ['secret', 'list'], '');
    expect(list.code).toBe(0);
    expect(list.output).toContain('ldap/branch/bind-password\tversion 1\thost');
  });

  it('serves health and metrics without any database, and is not ready while the hub is unreachable', async () => {
    const env = { IM_DATA_DIR: join(dataDir, 'unreachable') };
    // A relay enrolled earlier: its credential is in its secret store.
    expect((await relayCommand(env, ['secret', 'set', 'relay/credential'], CREDENTIAL)).code).toBe(0);
    const port = await freePort();
    const hubPort = await freePort();
    const relay = AppProcess.start('relay-agent', { ...env, IM_RELAY_PORT: String(port), IM_RELAY_NAME: 'branch-1', IM_HUB_URL: `http://127.0.0.1:${hubPort}` });
    processes.push(relay);
    const notReady = await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 503, relay);
    const report = (await notReady.json()) as { status: string; checks: Array<{ name: string; status: string; detail: string }> };
    expect(report).toMatchObject({ status: 'down', checks: [{ name: 'hub', status: 'down' }] });
    expect(report.checks[0].detail).toMatch(new RegExp(`(connecting to|not connected to) http://127.0.0.1:${hubPort}`));
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('identitymesh_build_info{version="0.1.0",app="relay-agent"} 1');
    expect(metrics).toContain('identitymesh_relay_hub_connected{app="relay-agent"} 0');
    expect(await relay.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('enrolls with its token on the first start, connects, and comes back with the stored credential alone', async () => {
    const hub = new MiniHub();
    const hubUrl = await hub.listen();
    try {
      const env = { IM_DATA_DIR: join(dataDir, 'enrolled'), IM_HUB_URL: hubUrl, IM_RELAY_NAME: 'branch-2' };
      const port = await freePort();
      const first = AppProcess.start('relay-agent', { ...env, IM_RELAY_PORT: String(port), IM_RELAY_ENROLLMENT_TOKEN: ENROLLMENT_TOKEN });
      processes.push(first);
      const ready = (await (await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, first)).json()) as { checks: Array<{ detail: string }> };
      expect(ready.checks[0].detail).toContain(`connected to ${hubUrl}`);
      expect(hub.enrollments).toEqual([expect.objectContaining({ token: ENROLLMENT_TOKEN, name: 'branch-2', version: '0.1.0' })]);
      expect(readFileSync(join(dataDir, 'enrolled', 'secrets.json'), 'utf8')).not.toContain(CREDENTIAL);
      expect(await first.stop('SIGINT')).toEqual({ code: 0, signal: null });
      const records = logFileRecords(join(dataDir, 'enrolled'), 'relay-agent').filter((r) => r['pid'] === first.child.pid);
      expect(records[records.length - 1]?.['msg']).toBe('shutdown complete');
      expect(JSON.stringify(records)).not.toContain(CREDENTIAL);

      const again = AppProcess.start('relay-agent', { ...env, IM_RELAY_PORT: String(port) });
      processes.push(again);
      await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, again);
      expect(hub.enrollments).toHaveLength(1);
      expect(hub.handshakeTokens).toEqual([CREDENTIAL, CREDENTIAL]);
      expect(await again.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await hub.close();
    }
  });
});
