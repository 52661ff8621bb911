import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { io, Socket } from 'socket.io-client';
import { HUB_EVENTS, HUB_NAMESPACE, HubAck, parseHubMessage, reconnectDelayMs, RelayProgressSignals, RelayProgressSource, RelayProgressWatch, workProgressSchema } from '@identitymesh/connector-sdk';
import type { KeyRing } from '@identitymesh/key-ring';
import { MetricsRegistry } from '@identitymesh/platform';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { EngineIdentity } from '../registry/engine-identity';

/** The key ring the engine mints its hub token with; null without IM_HUB_URL. */
export const RELAY_KEY_RING = Symbol('identitymesh.relay-key-ring');

/** How long an engine token is valid: it is minted anew for every (re)connect. */
export const ENGINE_TOKEN_LIFETIME_MS = 10 * 60_000;
/** How long a work:enqueued waits for the hub's acknowledgement; the hub's poll covers a lost one. */
const ACK_TIMEOUT_MS = 5_000;

/**
 * The engine's socket to the hub (`IM_HUB_URL`): after queuing relay work the
 * engine emits `work:enqueued`, so the group's relays pull it at once rather
 * than at the hub's next poll of the work queue. The link is a shortcut, not
 * a dependency: without IM_HUB_URL, while the hub is away or refuses the
 * engine, nothing fails and the work waits in SQL for the poll.
 *
 * The other way, the hub sends `work:progress {itemId}` when it staged an
 * import batch or completed an item; the link wakes the waits on that item
 * (`watch`), which then look at SQL at once. Those wake-ups are a shortcut
 * too: the waits keep polling, and after a reconnect every wait is woken
 * because wake-ups sent meanwhile were lost.
 *
 * The handshake carries a key-ring token (`relay-token`: kind engine, this
 * instance's id) minted for every attempt; reconnects follow the protocol's
 * backoff with jitter.
 */
@Injectable()
export class RelayHubLink implements OnApplicationBootstrap, BeforeApplicationShutdown, RelayProgressSource {
  private readonly logger = new Logger('RelayHub');
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private readonly up;
  private readonly notifications;
  private readonly progress = new RelayProgressSignals();

  constructor(
    private readonly config: SyncEngineConfig,
    private readonly engine: EngineIdentity,
    @Inject(RELAY_KEY_RING) private readonly keyRing: KeyRing | null,
    metrics: MetricsRegistry,
  ) {
    this.up = metrics.gauge('relay_hub_connected', 'Whether the engine is connected to the hub (1) or not (0); relay work waits for the hub poll while it is not');
    this.notifications = metrics.counter('relay_hub_notifications_total', 'work:enqueued notifications to the hub, by outcome', ['outcome']);
  }

  get connected(): boolean {
    return this.socket?.connected === true;
  }

  onApplicationBootstrap(): void {
    const hubUrl = this.config.relays.hubUrl;
    if (!hubUrl || !this.keyRing) {
      this.logger.log('IM_HUB_URL is not set: relays find queued work at the hub poll');
      return;
    }
    this.up.set(0);
    this.socket = io(`${hubUrl}${HUB_NAMESPACE}`, { transports: ['websocket'], reconnection: false, autoConnect: false, forceNew: true });
    this.socket.on('connect', () => {
      this.attempt = 0;
      this.up.set(1);
      this.logger.log({ hub: hubUrl, msg: `connected to the hub at ${hubUrl}` });
      this.progress.signalAll();
    });
    this.socket.on(HUB_EVENTS.workProgress, (message: unknown) => this.onProgress(message));
    this.socket.on('connect_error', (error: Error) => {
      // The first failure of a streak is worth a warning; the retries that follow every up to 30 s are not.
      const message = { hub: hubUrl, msg: `the hub at ${hubUrl} refused or did not answer the connection: ${error.message}; trying again` };
      if (this.attempt === 0) this.logger.warn(message);
      else this.logger.debug(message);
      this.retry();
    });
    this.socket.on('disconnect', (reason) => {
      this.up.set(0);
      if (this.stopped) return;
      this.logger.warn({ hub: hubUrl, msg: `disconnected from the hub (${reason}); reconnecting` });
      this.retry();
    });
    void this.dial();
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.disconnect();
    this.socket?.removeAllListeners();
    this.up.set(0);
  }

  /** Tells the hub that `relayGroup` has new work. Never throws and never waits. */
  notifyEnqueued(relayGroup: string): void {
    const socket = this.socket;
    if (!socket?.connected) {
      this.notifications.inc({ outcome: 'not-connected' });
      return;
    }
    socket.timeout(ACK_TIMEOUT_MS).emit(HUB_EVENTS.workEnqueued, { relayGroup }, (error: Error | null, ack?: HubAck) => {
      if (!error && ack?.ok) {
        this.notifications.inc({ outcome: 'sent' });
        return;
      }
      this.notifications.inc({ outcome: 'failed' });
      const why = error ? error.message : ack && !ack.ok ? `${ack.code}: ${ack.message}` : 'no answer';
      this.logger.debug({ relayGroup, msg: `the hub did not take work:enqueued (${why}); its poll finds the work` });
    });
  }

  /**
   * Opens a watch on the wake-ups of `itemId`. It works without a hub link
   * too (it is then never woken); close it when the wait ends.
   */
  watch(itemId: string): RelayProgressWatch {
    return this.progress.watch(itemId);
  }

  /** A work:progress from the hub: parsed first; one that does not parse is dropped (the waits' poll covers it). */
  private onProgress(message: unknown): void {
    const parsed = parseHubMessage(workProgressSchema, message);
    if (!parsed.ok) {
      this.logger.debug({ msg: `ignored a work:progress that does not parse (${parsed.message})` });
      return;
    }
    this.progress.signal(parsed.value.itemId);
  }

  /** Mints a token and opens the socket; a token that cannot be minted now (the database is away) is tried again later. */
  private async dial(): Promise<void> {
    if (this.stopped || !this.socket || !this.keyRing) return;
    try {
      const token = await this.keyRing.protect('relay-token', JSON.stringify({ kind: 'engine', instanceId: this.engine.instanceId }), {
        expiresAt: new Date(Date.now() + ENGINE_TOKEN_LIFETIME_MS),
      });
      if (this.stopped) return;
      this.socket.auth = { token };
      this.socket.connect();
    } catch (error) {
      this.logger.warn({ msg: `could not mint the engine's hub token: ${(error as Error).message}` });
      this.retry();
    }
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    const delayMs = reconnectDelayMs(this.attempt++);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.dial();
    }, delayMs);
    this.timer.unref();
  }
}
