import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, Socket } from 'socket.io';
import {
  HUB_EVENTS,
  HUB_MAX_MESSAGE_BYTES,
  HUB_NAMESPACE,
  HubAck,
  HubErrorCode,
  importBatchMessageSchema,
  parseHubMessage,
  RelayCommandKind,
  RelayCommandReply,
  RelayWorkOrder,
  workPullRequestSchema,
  workResultMessageSchema,
  workStartedMessageSchema,
} from '@identitymesh/connector-sdk';

/** A message a relay sent, as the hub received it. */
export interface ReceivedMessage {
  event: string;
  message: Record<string, unknown>;
}

/**
 * What the hub does with one message: answer it, hold the answer until the
 * test releases it (backpressure), or drop the relay's connection without
 * answering (a network failure mid-message).
 */
export type HubReaction = HubAck | 'hold' | 'drop';

interface HeldAck {
  event: string;
  message: Record<string, unknown>;
  ack: (reply: HubAck) => void;
}

/**
 * A hub for the relay agent's tests: a real socket.io server on loopback
 * that follows the relay protocol (handshake check, work:pull, acks,
 * refusals) and the enrollment route, and lets a test hold acknowledgements,
 * refuse messages and drop or revoke the relay.
 */
export class FakeHub {
  /** Every message and connection event, in order; tests wait on it. */
  readonly changes = new EventEmitter();
  readonly received: ReceivedMessage[] = [];
  /** The `auth` of every handshake, accepted or not. */
  readonly handshakes: Array<Record<string, unknown>> = [];
  readonly enrollRequests: Array<Record<string, unknown>> = [];
  /** Credentials the hub accepts, by relay id. */
  readonly credentials = new Map<string, string>();
  readonly revoked = new Set<string>();
  /** One-time enrollment tokens still valid. */
  readonly enrollmentTokens = new Set<string>();
  readonly takenNames = new Set<string>();
  /** Status codes the enrollment route answers with next, before it looks at the token (a hub that is down). */
  readonly enrollFailures: number[] = [];
  /** Codes the next handshakes are refused with, one each. */
  readonly handshakeRefusals: HubErrorCode[] = [];
  /** Decides each relay message's answer; the default accepts it. */
  react: (event: string, message: Record<string, unknown>) => HubReaction = () => ({ ok: true });
  readonly held: HeldAck[] = [];
  private readonly orders: RelayWorkOrder[] = [];
  private readonly closed = new Set<string>();
  private readonly http: HttpServer;
  private readonly io: Server;
  private relaySockets: Socket[] = [];

  private constructor() {
    this.http = createServer((req, res) => void this.onHttp(req, res));
    this.io = new Server(this.http, { maxHttpBufferSize: HUB_MAX_MESSAGE_BYTES, transports: ['websocket'] });
    const hub = this.io.of(HUB_NAMESPACE);
    hub.use((socket, next) => {
      const auth = socket.handshake.auth as Record<string, unknown>;
      this.handshakes.push(auth);
      this.changed();
      const refusal = this.handshakeRefusals.shift() ?? this.authProblem(auth['token']);
      if (refusal) {
        const error = new Error(`${refusal}: the fake hub refuses this handshake`) as Error & { data?: unknown };
        error.data = { code: refusal };
        next(error);
        return;
      }
      next();
    });
    hub.on('connection', (socket) => this.onRelay(socket));
  }

  static async start(): Promise<FakeHub> {
    const hub = new FakeHub();
    await new Promise<void>((resolve) => hub.http.listen(0, '127.0.0.1', resolve));
    return hub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get connectedRelays(): number {
    return this.relaySockets.filter((s) => s.connected).length;
  }

  /** A credential the hub accepts, as enrollment would have issued it. */
  issueCredential(relayId = `relay-${randomBytes(4).toString('hex')}`): string {
    const credential = `imr_${relayId}_${randomBytes(32).toString('base64url')}`;
    this.credentials.set(relayId, credential);
    return credential;
  }

  /** An order the next work:pull hands out. */
  enqueue(order: RelayWorkOrder): void {
    this.orders.push(order);
  }

  notifyWorkAvailable(): void {
    for (const socket of this.relaySockets) socket.emit(HUB_EVENTS.workAvailable);
  }

  /** The relay's connection breaks, as a network failure would break it. */
  dropRelays(): void {
    for (const socket of this.relaySockets) socket.conn.close();
  }

  /** Revokes the credential: relay:revoked, then the connection is closed, and the credential is refused from now on. */
  revoke(credential: string): void {
    this.revoked.add(credential);
    for (const socket of this.relaySockets) {
      if ((socket.handshake.auth as Record<string, unknown>)['token'] !== credential) continue;
      socket.emit(HUB_EVENTS.revoked);
      socket.disconnect(true);
    }
  }

  async command(kind: RelayCommandKind): Promise<RelayCommandReply> {
    const socket = this.relaySockets.find((s) => s.connected);
    if (!socket) throw new Error('no relay is connected to the fake hub');
    return (await socket.timeout(10_000).emitWithAck(HUB_EVENTS.command, { kind, sentAt: new Date().toISOString() })) as RelayCommandReply;
  }

  /** Answers the oldest held acknowledgement (ok unless told otherwise). */
  release(reply: HubAck = { ok: true }): HeldAck {
    const held = this.held.shift();
    if (!held) throw new Error('no acknowledgement is held');
    held.ack(reply);
    this.changed();
    return held;
  }

  messages(event: string): Array<Record<string, unknown>> {
    return this.received.filter((r) => r.event === event).map((r) => r.message);
  }

  /** Resolves once `condition` holds, checked after every change of the hub. */
  async until(condition: () => boolean, what: string, timeoutMs = 4_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.changes.off('change', check);
        resolve();
      };
      // A guard so a broken test fails with what it waited for instead of jest's bare timeout.
      const timer = setTimeout(() => {
        this.changes.off('change', check);
        reject(new Error(`the fake hub waited ${timeoutMs} ms for ${what}`));
      }, timeoutMs);
      this.changes.on('change', check);
    });
  }

  async close(): Promise<void> {
    await this.io.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private authProblem(token: unknown): HubErrorCode | undefined {
    if (typeof token !== 'string') return 'HUB_UNAUTHENTICATED';
    if (this.revoked.has(token)) return 'RELAY_REVOKED';
    return [...this.credentials.values()].includes(token) ? undefined : 'HUB_UNAUTHENTICATED';
  }

  private onRelay(socket: Socket): void {
    this.relaySockets = [...this.relaySockets.filter((s) => s.connected), socket];
    socket.on('disconnect', () => this.changed());
    socket.on(HUB_EVENTS.workPull, (message: unknown, ack: (reply: unknown) => void) => {
      const parsed = parseHubMessage(workPullRequestSchema, message);
      if (!parsed.ok) return ack({ ok: false, code: 'MESSAGE_INVALID', message: parsed.message });
      ack({ items: this.orders.filter((o) => !this.closed.has(o.id)).slice(0, parsed.value.max) });
    });
    this.handle(socket, HUB_EVENTS.workStarted, (m) => parseHubMessage(workStartedMessageSchema, m));
    this.handle(socket, HUB_EVENTS.importBatch, (m) => parseHubMessage(importBatchMessageSchema, m));
    this.handle(socket, HUB_EVENTS.workResult, (m) => parseHubMessage(workResultMessageSchema, m));
    this.changed();
  }

  private handle(socket: Socket, event: string, parse: (message: unknown) => { ok: true; value: unknown } | { ok: false; message: string }): void {
    socket.on(event, (message: unknown, ack: (reply: HubAck) => void) => {
      const parsed = parse(message);
      if (!parsed.ok) {
        ack({ ok: false, code: 'MESSAGE_INVALID', message: parsed.message });
        return;
      }
      const value = parsed.value as Record<string, unknown>;
      this.received.push({ event, message: value });
      const reaction = this.react(event, value);
      if (reaction === 'drop') {
        socket.conn.close();
      } else if (reaction === 'hold') {
        this.held.push({ event, message: value, ack });
      } else {
        // A finished item, or one this relay may no longer work on, is not handed out again.
        const ends = reaction.ok ? event === HUB_EVENTS.workResult : reaction.code === 'WORK_CLOSED' || reaction.code === 'WORK_NOT_YOURS';
        if (ends) this.closed.add(String(value['itemId']));
        ack(reaction);
      }
      this.changed();
    });
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/api/relays/enroll') return answer(res, 404, { title: 'not found' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    this.enrollRequests.push(body);
    this.changed();
    const failure = this.enrollFailures.shift();
    if (failure) return answer(res, failure, { title: 'the hub cannot enroll now' });
    const token = String(body['token']);
    if (!this.enrollmentTokens.has(token)) return answer(res, 401, { title: 'Unauthorized', detail: 'the enrollment token is unknown, used or expired' });
    const name = String(body['name']);
    if (this.takenNames.has(name)) return answer(res, 409, { title: 'Conflict', detail: `a relay named ${name} exists` });
    this.enrollmentTokens.delete(token);
    this.takenNames.add(name);
    const relayId = `relay-${randomBytes(4).toString('hex')}`;
    return answer(res, 201, { relayId, name, relayGroup: 'branch', credential: this.issueCredential(relayId) });
  }

  private changed(): void {
    this.changes.emit('change');
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
  res.end(JSON.stringify(body));
}
