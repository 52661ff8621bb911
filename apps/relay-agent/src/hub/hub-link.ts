import { EventEmitter } from 'node:events';
import { io, Socket } from 'socket.io-client';
import {
  HUB_ERROR_CODES,
  HUB_EVENTS,
  HUB_NAMESPACE,
  HubErrorCode,
  parseHubMessage,
  reconnectDelayMs,
  ReconnectPolicy,
  RelayCommand,
  relayCommandSchema,
  RelayCommandReply,
} from '@identitymesh/connector-sdk';
import type { RelayMetrics } from '../metrics/relay-metrics';
import type { RelayLogger } from '../runtime/relay-logger';
import { REAL_TIMERS, Timers } from '../runtime/timers';


/** Refusals after which dialing again cannot help: the credential is no longer accepted. */
export const FINAL_REFUSALS = ['RELAY_REVOKED', 'HUB_UNAUTHENTICATED'] as const;
export type FinalRefusal = (typeof FINAL_REFUSALS)[number];

export type HubLinkState =
  | { status: 'idle' }
  | { status: 'connecting'; attempt: number; lastError?: string }
  | { status: 'connected'; since: Date }
  | { status: 'waiting'; attempt: number; delayMs: number; lastError: string }
  | { status: 'refused'; code: FinalRefusal; reason: string }
  | { status: 'closed' };

export interface HubLinkEvents {
  connected: [];
  disconnected: [reason: string];
  /** The hub will not take this relay back (revoked, or its credential refused); the link stays down. */
  refused: [code: FinalRefusal, reason: string];
  'work-available': [];
}

export interface HubLinkOptions {
  /** The Admin API's base URL; the link dials its `/hub` namespace. */
  hubUrl: string;
  credential: string;
  host: string;
  version: string;
  logger: RelayLogger;
  metrics: RelayMetrics;
  /** Answers the hub's relay:command messages. */
  commands: (command: RelayCommand) => Promise<RelayCommandReply>;
  /** @default the real timers */
  timers?: Timers;
  /** The jitter's source. @default Math.random */
  random?: () => number;
  /** @default RECONNECT_POLICY of the relay protocol */
  reconnectPolicy?: ReconnectPolicy;
  /** How long one dial may take before it counts as failed. @default 20000 */
  connectTimeoutMs?: number;
}

/**
 * The relay's socket.io connection to the hub. It dials once and then
 * reconnects by itself with the protocol's backoff (reconnectDelayMs), also
 * after the hub refused a handshake for a passing reason (its database was
 * down): socket.io's own reconnection gives up after a middleware refusal, so
 * it is off and every dial is made here. A revocation or a refused credential
 * ends the link for good.
 */
export class HubLink {
  readonly events = new EventEmitter<HubLinkEvents>();
  private socket?: Socket;
  private currentState: HubLinkState = { status: 'idle' };
  /** Failed dials since the last connection: the backoff's exponent. */
  private failures = 0;
  private dials = 0;
  private timer?: unknown;
  private readonly timers: Timers;
  private readonly random: () => number;

  constructor(private readonly options: HubLinkOptions) {
    this.timers = options.timers ?? REAL_TIMERS;
    this.random = options.random ?? Math.random;
  }

  get state(): HubLinkState {
    return this.currentState;
  }

  /** The socket while the link is up; undefined while it is down. */
  connectedSocket(): Socket | undefined {
    return this.currentState.status === 'connected' && this.socket?.connected ? this.socket : undefined;
  }

  open(): void {
    if (this.socket) return;
    const { hubUrl, credential, host, version } = this.options;
    this.socket = io(`${hubUrl}${HUB_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      autoConnect: false,
      forceNew: true,
      timeout: this.options.connectTimeoutMs ?? 20_000,
      auth: { token: credential, host: host.slice(0, 255), version: version.slice(0, 64) },
    });
    this.socket.on('connect', () => this.onConnect());
    this.socket.on('connect_error', (error: Error & { data?: unknown }) => this.onConnectError(error));
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on(HUB_EVENTS.workAvailable, () => this.events.emit('work-available'));
    this.socket.on(HUB_EVENTS.revoked, () => this.refuse('RELAY_REVOKED', 'the hub revoked this relay'));
    this.socket.on(HUB_EVENTS.command, (message: unknown, ack?: unknown) => void this.onCommand(message, ack));
    this.dial();
  }

  /** Ends the link (shutdown); no further dial. */
  close(): void {
    if (this.currentState.status !== 'refused') this.currentState = { status: 'closed' };
    this.stopDialing();
  }

  /** The hub answered a message with a refusal that ends the link (a revocation seen in an acknowledgement). */
  refuse(code: FinalRefusal, reason: string): void {
    if (this.currentState.status === 'refused' || this.currentState.status === 'closed') return;
    this.currentState = { status: 'refused', code, reason };
    this.options.logger.error('the hub refuses this relay; it stops dialing until it is enrolled again', { code, reason });
    this.stopDialing();
    this.events.emit('refused', code, reason);
  }

  private stopDialing(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const wasConnected = this.socket?.connected ?? false;
    this.socket?.disconnect();
    this.options.metrics.hubConnected(false);
    if (wasConnected) this.events.emit('disconnected', 'closed by the relay');
  }

  private dial(): void {
    this.timer = undefined;
    if (!this.socket || this.currentState.status === 'refused' || this.currentState.status === 'closed') return;
    this.dials += 1;
    if (this.dials > 1) this.options.metrics.reconnectAttempt();
    const lastError = this.currentState.status === 'waiting' ? this.currentState.lastError : undefined;
    this.currentState = { status: 'connecting', attempt: this.failures + 1, lastError };
    this.socket.connect();
  }

  private onConnect(): void {
    if (this.currentState.status === 'refused' || this.currentState.status === 'closed') return;
    this.failures = 0;
    this.currentState = { status: 'connected', since: new Date() };
    this.options.metrics.hubConnected(true);
    this.options.logger.info('connected to the hub', { hubUrl: this.options.hubUrl });
    this.events.emit('connected');
  }

  private onConnectError(error: Error & { data?: unknown }): void {
    const code = hubErrorCodeOf(error);
    if (code === 'RELAY_REVOKED' || code === 'HUB_UNAUTHENTICATED') {
      this.refuse(code, error.message);
      return;
    }
    this.scheduleDial(`the hub refused or could not be reached: ${error.message}`);
  }

  private onDisconnect(reason: string): void {
    this.options.metrics.hubConnected(false);
    if (this.currentState.status === 'refused' || this.currentState.status === 'closed') return;
    this.options.logger.warn('disconnected from the hub', { reason });
    this.events.emit('disconnected', reason);
    this.scheduleDial(`disconnected (${reason})`);
  }

  private scheduleDial(lastError: string): void {
    if (this.currentState.status === 'refused' || this.currentState.status === 'closed' || this.timer !== undefined) return;
    const delayMs = reconnectDelayMs(this.failures, this.random, this.options.reconnectPolicy);
    this.failures += 1;
    this.currentState = { status: 'waiting', attempt: this.failures, delayMs, lastError };
    this.options.logger.warn('dialing the hub again after a wait', { attempt: this.failures, delayMs, lastError });
    this.timer = this.timers.setTimeout(() => this.dial(), delayMs);
  }

  private async onCommand(message: unknown, ack: unknown): Promise<void> {
    if (typeof ack !== 'function') return;
    const parsed = parseHubMessage(relayCommandSchema, message);
    if (!parsed.ok) {
      ack({ ok: false, detail: `MESSAGE_INVALID: ${parsed.message}` } satisfies RelayCommandReply);
      return;
    }
    let reply: RelayCommandReply;
    try {
      reply = await this.options.commands(parsed.value);
    } catch (error) {
      reply = { ok: false, detail: (error as Error).message };
    }
    this.options.logger.info('answered a command of the hub', { kind: parsed.value.kind, ok: reply.ok });
    ack({ ok: reply.ok, detail: reply.detail.slice(0, 4000) });
  }
}

/** The hub puts its code in the error's data, and at the start of its message. */
export function hubErrorCodeOf(error: Error & { data?: unknown }): HubErrorCode | undefined {
  const data = error.data as { code?: unknown } | undefined;
  const fromData = typeof data?.code === 'string' ? data.code : undefined;
  const fromMessage = /^([A-Z_]+):/.exec(error.message)?.[1];
  return [fromData, fromMessage].find((code): code is HubErrorCode => HUB_ERROR_CODES.includes(code as HubErrorCode));
}
