import { hostname } from 'node:os';
import type { Server as HttpServer } from 'node:http';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Namespace, Server, Socket } from 'socket.io';
import type { z } from 'zod';
import {
  engineWorkEnqueuedSchema,
  HUB_EVENTS,
  HUB_MAX_MESSAGE_BYTES,
  HUB_NAMESPACE,
  HubAck,
  importBatchMessageSchema,
  parseHubMessage,
  RelayCommand,
  workPullRequestSchema,
  workResultMessageSchema,
  workStartedMessageSchema,
  WorkProgress,
} from '@identitymesh/connector-sdk';
import { RelayRepository, RelayWorkQueueRepository } from '@identitymesh/persistence';
import { AdminApiConfig } from '../config/admin-api.config';
import { ConnectedRelays, RelayPresence } from './connected-relays';
import { HubPeer, RelayHubAuthenticator, RelayPeer } from './relay-hub-auth';
import { HubRefusal, refuse } from './relay-hub.errors';
import { RelayItemProgress } from './relay-item-progress.service';
import { RelayWorkService, staleBefore } from './relay-work.service';

/** Every 15 s: relays' last sign of life, overdue items expired, and a nudge to groups whose work waits (the engine's work:enqueued only makes it sooner). */
export const HUB_POLL_INTERVAL_MS = 15_000;

/** How often the poll purges closed relay work (each time a bounded number of items). */
const PURGE_INTERVAL_MS = 60_000;
export const ENGINES_ROOM = 'engines';
export const relayRoom = (relayId: string) => `relay:${relayId}`;
export const groupRoom = (relayGroup: string) => `group:${relayGroup}`;

/** The answer of a relay to an operator's command, or why there is none. */
export type CommandDelivery = { outcome: 'answered'; reply: unknown } | { outcome: 'timeout' } | { outcome: 'not-connected' };

type Ack = (reply: unknown) => void;

/**
 * The hub: a socket.io namespace (`/hub`) on the Admin API's own HTTP
 * server, where relay agents and engines connect.
 *
 * A plain socket.io Server rather than a Nest gateway (@WebSocketGateway):
 * what the hub does is socket.io itself — a namespace middleware that
 * authenticates before any room is joined, rooms per relay and per group,
 * acknowledgements held for backpressure, `emitWithAck` to one relay's
 * socket from a REST call, disconnecting a revoked relay's sockets — and a
 * gateway would only pass those through while hiding the server behind an
 * adapter that Nest loads by name at run time (which the build's package
 * list cannot see). The server attaches to the HTTP server Nest created,
 * so the hub shares the Admin API's port and TLS.
 */
@Injectable()
export class RelayHubGateway implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** The Admin API process a relay is connected to, as `GET /api/relays` shows it. */
  readonly instanceId = `${hostname()}:${process.pid}`;
  private readonly logger = new Logger('RelayHub');
  private io: Server | null = null;
  private hub: Namespace | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  /** When the poll last purged closed work (epoch ms). */
  private purgedAt = 0;
  private stopProgress: (() => void) | null = null;

  constructor(
    private readonly http: HttpAdapterHost,
    private readonly auth: RelayHubAuthenticator,
    private readonly work: RelayWorkService,
    private readonly relays: RelayRepository,
    private readonly queue: RelayWorkQueueRepository,
    private readonly connected: ConnectedRelays,
    private readonly progress: RelayItemProgress,
    private readonly config: AdminApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.http.httpAdapter.getHttpServer() as HttpServer;
    this.io = new Server(server, { maxHttpBufferSize: HUB_MAX_MESSAGE_BYTES, serveClient: false });
    // Only the hub's namespace takes sockets; one on the default namespace would sit there unauthenticated.
    this.io.use((_socket, next) => next(refuse('HUB_UNAUTHENTICATED', `connect to the ${HUB_NAMESPACE} namespace`).handshakeError()));
    const hub = this.io.of(HUB_NAMESPACE);
    hub.use((socket, next) => {
      this.auth.authenticate(socket.handshake.auth).then(
        (peer) => {
          socket.data.peer = peer;
          next();
        },
        (error: unknown) => next(this.refusalOf(error, 'handshake').handshakeError()),
      );
    });
    hub.on('connection', (socket) => this.onConnection(socket));
    this.hub = hub;
    this.stopProgress = this.progress.subscribe((itemId) => this.notifyEngines(itemId));
    this.timer = setInterval(() => void this.poll(), HUB_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopProgress?.();
    this.stopProgress = null;
    // Upgraded sockets would keep the HTTP server's close waiting; relays reconnect to whichever instance is up.
    this.hub?.disconnectSockets(true);
    this.io?.engine.close();
    await this.polling;
  }

  /**
   * The periodic look at SQL: touches the connected relays' lastSeenAt in
   * one statement, expires overdue items, disconnects relays revoked
   * elsewhere, and tells connected groups whose work is claimable.
   */
  poll(now = new Date()): Promise<void> {
    this.polling ??= this.pollOnce(now)
      .catch((error: unknown) => this.logger.warn(`hub poll failed: ${(error as Error)?.message ?? String(error)}`))
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  /** Tells the relays of a group that work waits (the engine's work:enqueued, and the poll). */
  notifyGroup(relayGroup: string): void {
    this.hub?.to(groupRoom(relayGroup)).emit(HUB_EVENTS.workAvailable);
  }

  /**
   * Tells the engines connected here that an item got a staged batch or was
   * completed, so their waits look at SQL now rather than at their next
   * poll. Engines connected to another instance are not told; they poll.
   */
  notifyEngines(itemId: string): void {
    this.hub?.to(ENGINES_ROOM).emit(HUB_EVENTS.workProgress, { itemId } satisfies WorkProgress);
  }

  /** A revoked relay: told so, then every socket of it closed at once; its handshakes are refused from now on (the status is in SQL). */
  expel(relayId: string): void {
    this.auth.forget(relayId);
    if (!this.hub) return;
    this.hub.to(relayRoom(relayId)).emit(HUB_EVENTS.revoked);
    this.hub.in(relayRoom(relayId)).disconnectSockets(true);
    this.connected.removeRelay(relayId);
  }

  presence(relayId: string): RelayPresence | null {
    return this.connected.presence(relayId);
  }

  /** Sends a command to the relay's newest socket and waits for its acknowledgement. */
  async command(relayId: string, command: RelayCommand, timeoutMs: number): Promise<CommandDelivery> {
    const socketId = this.connected.newestSocket(relayId);
    const socket = socketId ? this.hub?.sockets.get(socketId) : undefined;
    if (!socket?.connected) return { outcome: 'not-connected' };
    try {
      return { outcome: 'answered', reply: await socket.timeout(timeoutMs).emitWithAck(HUB_EVENTS.command, command) };
    } catch {
      // socket.io rejects with its timeout error only; a socket that closed meanwhile ends the same way.
      return { outcome: 'timeout' };
    }
  }

  private async pollOnce(now: Date): Promise<void> {
    const relayIds = this.connected.relayIds();
    if (relayIds.length > 0) {
      await this.relays.touch(relayIds, now);
      // Revoked through another instance (or straight in SQL): this instance learns it here at the latest.
      const revoked = (await this.relays.list()).filter((relay) => relay.status !== 'active' && this.connected.has(relay.id));
      for (const relay of revoked) this.expel(relay.id);
    }
    await this.queue.expireOverdue(now);
    // Closed work is kept a while for operators to look at, then purged in bounded bites, at most once a minute.
    if (now.getTime() - this.purgedAt >= PURGE_INTERVAL_MS) {
      this.purgedAt = now.getTime();
      const purged = await this.queue.purgeClosed(new Date(now.getTime() - this.config.relayWorkRetentionMs));
      if (purged > 0) this.logger.log(`purged ${purged} relay work item(s) closed more than ${Math.round(this.config.relayWorkRetentionMs / 86_400_000)} day(s) ago`);
    }
    const groups = this.connected.groups();
    if (groups.length === 0) return;
    for (const group of await this.queue.groupsWithClaimableWork(groups, staleBefore(now), now)) this.notifyGroup(group);
  }

  private onConnection(socket: Socket): void {
    const peer = socket.data.peer as HubPeer;
    if (peer.kind === 'engine') {
      void socket.join(ENGINES_ROOM);
      this.on(socket, HUB_EVENTS.workEnqueued, engineWorkEnqueuedSchema, async (message) => {
        this.notifyGroup(message.relayGroup);
        return { ok: true };
      });
      for (const event of [HUB_EVENTS.workPull, HUB_EVENTS.workStarted, HUB_EVENTS.importBatch, HUB_EVENTS.workResult]) {
        this.refuseEvent(socket, event, 'only relays send this message');
      }
      return;
    }
    void socket.join([relayRoom(peer.relayId), groupRoom(peer.relayGroup)]);
    this.connected.add(peer.relayId, peer.relayGroup, { socketId: socket.id, connectedAt: new Date(), host: peer.host, version: peer.version });
    socket.on('disconnect', () => this.connected.remove(peer.relayId, socket.id));
    const reported = { ...(peer.host !== null ? { host: peer.host } : {}), ...(peer.version !== null ? { version: peer.version } : {}) };
    this.relays.touch([peer.relayId], new Date(), reported).catch((error: unknown) => this.logger.warn(`relay ${peer.relayId}: last seen not recorded: ${(error as Error)?.message ?? String(error)}`));

    this.onRelay(socket, peer, HUB_EVENTS.workPull, workPullRequestSchema, async (message) => ({ ok: true, ...(await this.work.pull(peer, message)) }));
    this.onRelay(socket, peer, HUB_EVENTS.workStarted, workStartedMessageSchema, (message) => this.work.started(peer, message));
    this.onRelay(socket, peer, HUB_EVENTS.importBatch, importBatchMessageSchema, (message) => this.work.importBatch(peer, message, () => socket.connected));
    this.onRelay(socket, peer, HUB_EVENTS.workResult, workResultMessageSchema, (message) => this.work.result(peer, message));
    this.refuseEvent(socket, HUB_EVENTS.workEnqueued, 'only engines send this message');
  }

  /** A relay's message: handled only while the relay is still active in SQL; one revoked meanwhile is told so and expelled. */
  private onRelay<T>(socket: Socket, peer: RelayPeer, event: string, schema: z.ZodType<T>, handle: (message: T) => Promise<unknown>): void {
    this.on(socket, event, schema, async (message) => {
      try {
        await this.auth.assertActive(peer.relayId);
      } catch (error) {
        if (error instanceof HubRefusal && error.code === 'RELAY_REVOKED') setImmediate(() => this.expel(peer.relayId));
        throw error;
      }
      return handle(message);
    });
  }

  /** Parses each message with its schema and answers through its acknowledgement: the handler's reply, or a HubAck refusal. */
  private on<T>(socket: Socket, event: string, schema: z.ZodType<T>, handle: (message: T) => Promise<unknown>): void {
    socket.on(event, (...args: unknown[]) => {
      const ack: Ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Ack) : () => undefined;
      const parsed = parseHubMessage(schema, args[0]);
      if (!parsed.ok) {
        ack(refuse('MESSAGE_INVALID', parsed.message).ack());
        return;
      }
      handle(parsed.value).then(ack, (error: unknown) => ack(this.refusalOf(error, event).ack()));
    });
  }

  private refuseEvent(socket: Socket, event: string, reason: string): void {
    socket.on(event, (...args: unknown[]) => {
      const ack = args[args.length - 1];
      if (typeof ack === 'function') (ack as Ack)(refuse('HUB_UNAUTHENTICATED', reason).ack() satisfies HubAck);
    });
  }

  /** A refusal as it is; anything else (the database did not answer) is the hub's trouble: the peer tries again later. */
  private refusalOf(error: unknown, what: string): HubRefusal {
    if (error instanceof HubRefusal) return error;
    this.logger.warn(`hub ${what} failed: ${(error as Error)?.message ?? String(error)}`);
    return refuse('HUB_UNAVAILABLE', 'the hub could not complete this; try again');
  }
}
