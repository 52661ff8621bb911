import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';

export const ECHO_NAMESPACE = '/echo';
export const ECHO_EVENT = 'echo';

/** The first IPC message to the echo server. */
export interface EchoServerStart {
  /** What `/canned` answers. */
  cannedBody: string;
  /** socket.io's `maxHttpBufferSize`, the hub's. */
  maxHttpBufferSize: number;
}

/** The echo server's answer: it listens on 127.0.0.1:port. */
export interface EchoServerReady {
  port: number;
}

export interface SocketEchoServer {
  /** `http://127.0.0.1:<port>`: socket.io at `/echo`, the canned body at `/canned`. */
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** Starts `dist/tools/bench/socket-echo-server.js` (built with the benchmark) and waits until it listens. */
export async function startSocketEchoServer(root: string, start: EchoServerStart, timeoutMs = 30_000): Promise<SocketEchoServer> {
  const main = join(root, 'dist/tools/bench/socket-echo-server.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build the benchmark with \`npx nx build bench\` (npm run bench does)`);
  const child = fork(main, [], { cwd: root, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the socket.io echo server did not listen within ${timeoutMs} ms`)), timeoutMs);
    child.once('message', (message: unknown) => {
      clearTimeout(timer);
      resolve((message as EchoServerReady).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the socket.io echo server exited (${code}) before it listened`));
    });
    child.send(start);
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A socket.io client of the echo server as a relay dials the hub: websocket transport only, no reconnection. */
export async function connectEchoClient(url: string, timeoutMs = 10_000): Promise<Socket> {
  const socket = io(`${url}${ECHO_NAMESPACE}`, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: timeoutMs });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(new Error(`the echo client could not connect to ${url}: ${error.message}`)));
  });
  return socket;
}
