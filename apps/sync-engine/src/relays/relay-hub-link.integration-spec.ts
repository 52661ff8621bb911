import { createServer, Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Server } from 'socket.io';
import { HUB_EVENTS, HUB_NAMESPACE, HubAck } from '@identitymesh/connector-sdk';
import type { KeyRing } from '@identitymesh/key-ring';
import { MetricsRegistry } from '@identitymesh/platform';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { RelayHubLink } from './relay-hub-link.service';

jest.setTimeout(30_000);

const dataDir = join(tmpdir(), 'im-relay-hub-link-spec');

/** A hub on loopback: checks the handshake's token as the real one does (before the socket is connected), records work:enqueued. */
async function startHub(accept: (token: unknown) => boolean) {
  const http: HttpServer = createServer();
  const io = new Server(http);
  const tokens: unknown[] = [];
  const enqueued: unknown[] = [];
  io.of(HUB_NAMESPACE).use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    tokens.push(token);
    if (accept(token)) return next();
    const error = new Error('HUB_UNAUTHENTICATED: the engine token was not accepted') as Error & { data?: unknown };
    error.data = { code: 'HUB_UNAUTHENTICATED' };
    next(error);
  });
  io.of(HUB_NAMESPACE).on('connection', (socket) => {
    socket.on(HUB_EVENTS.workEnqueued, (message: unknown, ack: (reply: HubAck) => void) => {
      enqueued.push(message);
      ack({ ok: true });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    tokens,
    enqueued,
    /** Sends an event to every engine connected, as the hub's engines room does. */
    emit: (event: string, message: unknown) => io.of(HUB_NAMESPACE).emit(event, message),
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${what} did not happen`);
}

describe('RelayHubLink', () => {
  const links: RelayHubLink[] = [];
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  afterEach(() => {
    for (const link of links.splice(0)) link.beforeApplicationShutdown();
  });

  function link(hubUrl: string | undefined, keyRing: KeyRing | null): RelayHubLink {
    const config = SyncEngineConfig.load({ IM_DATA_DIR: dataDir, ...(hubUrl ? { IM_HUB_URL: hubUrl } : {}) }, '/');
    const made = new RelayHubLink(config, { instanceId: 'engine-7', isActive: true }, keyRing, new MetricsRegistry());
    links.push(made);
    return made;
  }

  /** Protects the payload as the token itself, so the hub side can read what the engine minted. */
  const keyRing = (minted: Array<{ purpose: string; payload: string; expiresAt?: Date }>): KeyRing => ({
    protect: async (purpose, payload, options) => {
      minted.push({ purpose, payload: String(payload), expiresAt: options?.expiresAt });
      return `token-${minted.length}:${String(payload)}`;
    },
    unprotect: () => Promise.reject(new Error('not used')),
  });

  it('connects with a key-ring engine token and tells the hub about queued work', async () => {
    const hub = await startHub(() => true);
    try {
      const minted: Array<{ purpose: string; payload: string; expiresAt?: Date }> = [];
      const engineLink = link(hub.url, keyRing(minted));
      engineLink.onApplicationBootstrap();
      await until('the link connected', () => engineLink.connected);
      expect(minted).toEqual([{ purpose: 'relay-token', payload: JSON.stringify({ kind: 'engine', instanceId: 'engine-7' }), expiresAt: expect.any(Date) }]);
      expect(hub.tokens).toEqual([`token-1:${minted[0].payload}`]);

      engineLink.notifyEnqueued('branch-office');
      await until('the hub got work:enqueued', () => hub.enqueued.length === 1);
      expect(hub.enqueued).toEqual([{ relayGroup: 'branch-office' }]);
    } finally {
      await hub.close();
    }
  });

  it('wakes the waits on an item at work:progress, ignores one that does not parse, and wakes every wait once connected', async () => {
    const hub = await startHub(() => true);
    try {
      const engineLink = link(hub.url, keyRing([]));
      const woken: string[] = [];
      // Open before the link is up: whatever the hub said meanwhile was lost, so it is woken on connect.
      const early = engineLink.watch('item-0');
      engineLink.onApplicationBootstrap();
      await until('the link connected', () => engineLink.connected);
      early.onNext(() => woken.push('item-0'));
      expect(woken).toEqual(['item-0']);

      const first = engineLink.watch('item-1');
      const second = engineLink.watch('item-2');
      first.onNext(() => woken.push('item-1'));
      second.onNext(() => woken.push('item-2'));
      for (const bad of [{ itemId: '' }, { itemId: 42 }, 'item-2', null, { itemId: 'x'.repeat(65) }]) hub.emit(HUB_EVENTS.workProgress, bad);
      hub.emit(HUB_EVENTS.workProgress, { itemId: 'item-1' });
      // Events on one socket arrive in order: the bad ones were handled (and dropped) before this one.
      await until('item-1 was woken', () => woken.includes('item-1'));
      expect(woken).toEqual(['item-0', 'item-1']);
      expect(engineLink.connected).toBe(true);
      for (const watch of [early, first, second]) watch.close();
    } finally {
      await hub.close();
    }
  });

  it('mints a new token for every attempt and keeps trying after the hub refused it', async () => {
    let refusals = 1;
    const hub = await startHub(() => refusals-- <= 0);
    try {
      const minted: Array<{ purpose: string; payload: string }> = [];
      const engineLink = link(hub.url, keyRing(minted));
      engineLink.onApplicationBootstrap();
      await until('the link connected after a refusal', () => engineLink.connected);
      expect(hub.tokens).toEqual(['token-1:' + minted[0].payload, 'token-2:' + minted[1].payload]);
    } finally {
      await hub.close();
    }
  });

  it('without IM_HUB_URL, or while not connected, queued work is not announced and nothing fails', () => {
    const unconfigured = link(undefined, null);
    unconfigured.onApplicationBootstrap();
    expect(unconfigured.connected).toBe(false);
    expect(() => unconfigured.notifyEnqueued('branch-office')).not.toThrow();
    // A hub that does not answer at all.
    const unreachable = link('http://127.0.0.1:1', keyRing([]));
    unreachable.onApplicationBootstrap();
    expect(() => unreachable.notifyEnqueued('branch-office')).not.toThrow();
  });
});
