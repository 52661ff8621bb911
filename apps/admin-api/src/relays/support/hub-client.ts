import { io, Socket } from 'socket.io-client';
import { HUB_NAMESPACE, HubAck } from '@identitymesh/connector-sdk';

/** A socket of a test peer, with what it received by event name. */
export interface HubClient {
  socket: Socket;
  received: Map<string, unknown[][]>;
  /** Resolves at the next arrival of `event` (or at once if `count` arrivals are there already). */
  next(event: string, count?: number): Promise<unknown[]>;
  /** Sends a message and resolves with its acknowledgement. */
  send<T = HubAck>(event: string, message?: unknown): Promise<T>;
  close(): void;
}

const clients = new Set<HubClient>();

/** Dials the hub the way a relay agent does (WebSocket only, no reconnection of its own: each test decides). */
export function dialHub(baseUrl: string, auth: Record<string, unknown> | undefined, namespace = HUB_NAMESPACE): HubClient {
  const socket = io(`${baseUrl}${namespace}`, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
  const received = new Map<string, unknown[][]>();
  const waiters: Array<{ event: string; count: number; resolve: (args: unknown[]) => void }> = [];
  socket.onAny((event: string, ...args: unknown[]) => {
    const list = received.get(event) ?? [];
    list.push(args);
    received.set(event, list);
    for (const waiter of [...waiters]) {
      if (waiter.event === event && list.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(list[waiter.count - 1] as unknown[]);
      }
    }
  });
  const client: HubClient = {
    socket,
    received,
    next(event, count) {
      const have = received.get(event) ?? [];
      const wanted = count ?? have.length + 1;
      if (have.length >= wanted) return Promise.resolve(have[wanted - 1] as unknown[]);
      return new Promise((resolve) => waiters.push({ event, count: wanted, resolve }));
    },
    send<T>(event: string, message?: unknown) {
      return socket.emitWithAck(event, message) as Promise<T>;
    },
    close() {
      socket.disconnect();
      clients.delete(client);
    },
  };
  clients.add(client);
  return client;
}

/** Resolves when the handshake succeeds; rejects with the hub's refusal. */
export function connected(client: HubClient): Promise<void> {
  return new Promise((resolve, reject) => {
    if (client.socket.connected) return resolve();
    client.socket.once('connect', () => resolve());
    client.socket.once('connect_error', (error) => reject(error));
  });
}

/** Resolves with the refusal of the handshake; rejects if the hub let the socket in. */
export function refused(client: HubClient): Promise<{ message: string; code: unknown }> {
  return new Promise((resolve, reject) => {
    client.socket.once('connect', () => reject(new Error('the hub accepted the handshake')));
    client.socket.once('connect_error', (error: Error & { data?: { code?: unknown } }) => resolve({ message: error.message, code: error.data?.code }));
  });
}

/** Resolves with the reason once the socket is disconnected. */
export function disconnected(client: HubClient): Promise<string> {
  return new Promise((resolve) => {
    if (!client.socket.connected && !client.socket.active) return resolve('closed');
    client.socket.once('disconnect', (reason) => resolve(reason));
  });
}

/** Closes every socket a test opened and did not close (a dangling socket hangs jest). */
export function closeAllHubClients(): void {
  for (const client of [...clients]) client.close();
}
