import { reconnectDelayMs } from '@identitymesh/connector-sdk';
import type { ReconnectPolicy, RelayCommand, RelayCommandReply } from '@identitymesh/connector-sdk';
import type { HealthCheckResult } from '@identitymesh/platform';
import { enrollRelay, Fetch } from '../enrollment/relay-enrollment';
import type { RelayMetrics } from '../metrics/relay-metrics';
import type { RelayLogger } from '../runtime/relay-logger';
import { REAL_TIMERS, sleep, Timers } from '../runtime/timers';
import { RELAY_CREDENTIAL_REFERENCE } from '../secrets/relay-secrets';
import type { RelayConnectorHost } from '../work/relay-connector-host';
import { RelayWorkLoop } from '../work/work-loop';
import { HubLink } from './hub-link';

/** Where the relay keeps its credential. */
export interface CredentialStore {
  read(): Promise<string | null>;
  save(credential: string): Promise<void>;
}

export interface RelayAgentOptions {
  hubUrl: string;
  name: string;
  host: string;
  version: string;
  /** Used only while no credential is stored. */
  enrollmentToken?: string;
  maxConcurrentItems: number;
  credentials: CredentialStore;
  connectors: RelayConnectorHost;
  commands: (command: RelayCommand) => Promise<RelayCommandReply>;
  metrics: RelayMetrics;
  logger: (context: string) => RelayLogger;
  /** @default the real timers */
  timers?: Timers;
  /** @default Math.random */
  random?: () => number;
  /** @default RECONNECT_POLICY of the relay protocol */
  reconnectPolicy?: ReconnectPolicy;
  /** See WorkLoopOptions. */
  retryDelayMs?: number;
  ackTimeoutMs?: number;
  /** @default the global fetch */
  fetch?: Fetch;
}

type Phase =
  | { status: 'starting' }
  | { status: 'enrolling'; attempt: number; lastError?: string }
  | { status: 'enrollment-refused'; reason: string }
  | { status: 'failed'; reason: string }
  | { status: 'linked' }
  | { status: 'stopped' };

class Stopped extends Error {}

/**
 * One relay: enrolls on its first start, then keeps its link to the hub and
 * runs the work the hub hands out, until it is stopped or the hub refuses it.
 */
export class RelayAgent {
  private phase: Phase = { status: 'starting' };
  private link?: HubLink;
  private loop?: RelayWorkLoop;
  private readonly stopping = new AbortController();
  private readonly timers: Timers;
  private readonly logger: RelayLogger;

  constructor(private readonly options: RelayAgentOptions) {
    this.timers = options.timers ?? REAL_TIMERS;
    this.logger = options.logger('RelayAgent');
  }

  /** The link's state, for tests and the health check. */
  get hubLink(): HubLink | undefined {
    return this.link;
  }

  get itemsInHand(): number {
    return this.loop?.itemsInHand ?? 0;
  }

  /** Resolves once the link is open (it then connects and reconnects by itself), or when enrollment is refused or the agent stopped. */
  async start(): Promise<void> {
    let credential: string | null;
    try {
      credential = await this.credential();
    } catch (error) {
      if (error instanceof Stopped) return;
      // The secret store could not be read or written (a damaged file, a missing key): readiness says why.
      this.phase = { status: 'failed', reason: (error as Error).message };
      throw error;
    }
    if (!credential || this.stopping.signal.aborted) return;
    const { options } = this;
    this.link = new HubLink({
      hubUrl: options.hubUrl,
      credential,
      host: options.host,
      version: options.version,
      logger: options.logger('HubLink'),
      metrics: options.metrics,
      commands: options.commands,
      timers: options.timers,
      random: options.random,
      reconnectPolicy: options.reconnectPolicy,
    });
    this.loop = new RelayWorkLoop(this.link, options.connectors, options.metrics, options.logger('RelayWorkLoop'), {
      maxItems: options.maxConcurrentItems,
      retryDelayMs: options.retryDelayMs,
      ackTimeoutMs: options.ackTimeoutMs,
      timers: options.timers,
    });
    this.loop.start();
    this.phase = { status: 'linked' };
    this.link.open();
  }

  /** Stops pulling work, lets what is in hand finish or abandons it within `graceMs`, and closes the link. */
  async stop(graceMs: number): Promise<void> {
    this.stopping.abort(new Stopped('the relay is stopping'));
    this.phase = { status: 'stopped' };
    await this.loop?.stop(graceMs);
    this.link?.close();
  }

  health(): HealthCheckResult {
    const hub = this.options.hubUrl;
    switch (this.phase.status) {
      case 'starting':
        return { status: 'down', detail: 'starting' };
      case 'enrolling':
        return {
          status: 'down',
          detail: `enrolling at ${hub} (attempt ${this.phase.attempt})${this.phase.lastError ? `; last error: ${this.phase.lastError}` : ''}`,
        };
      case 'enrollment-refused':
        return { status: 'down', detail: `enrollment refused: ${this.phase.reason}` };
      case 'failed':
        return { status: 'down', detail: `the relay cannot use its credential: ${this.phase.reason}` };
      case 'stopped':
        return { status: 'down', detail: 'the relay is stopping' };
      case 'linked':
        return this.linkHealth(hub);
    }
  }

  private linkHealth(hub: string): HealthCheckResult {
    const state = this.link?.state ?? { status: 'idle' };
    switch (state.status) {
      case 'connected':
        return { status: 'up', detail: `connected to ${hub} since ${state.since.toISOString()}; ${this.itemsInHand} work item(s) in hand` };
      case 'idle':
      case 'connecting':
        return { status: 'down', detail: `connecting to ${hub} (attempt ${'attempt' in state ? state.attempt : 1})${'lastError' in state && state.lastError ? `; last error: ${state.lastError}` : ''}` };
      case 'waiting':
        return { status: 'down', detail: `not connected to ${hub}: ${state.lastError}; dialing again in ${state.delayMs} ms (attempt ${state.attempt + 1})` };
      case 'refused':
        return {
          status: 'down',
          detail:
            `the hub refuses this relay (${state.code}: ${state.reason}); it no longer dials. To enroll it again, run ` +
            `"node main.js secret delete ${RELAY_CREDENTIAL_REFERENCE}" and start it with a new IM_RELAY_ENROLLMENT_TOKEN`,
        };
      case 'closed':
        return { status: 'down', detail: 'the hub link is closed' };
    }
  }

  /** The stored credential, or a new one from enrollment; null when enrollment was refused. */
  private async credential(): Promise<string | null> {
    const stored = await this.options.credentials.read();
    if (stored) {
      if (this.options.enrollmentToken) this.logger.info('IM_RELAY_ENROLLMENT_TOKEN is ignored: this relay is enrolled already');
      return stored;
    }
    const token = this.options.enrollmentToken;
    if (!token) {
      this.phase = { status: 'enrollment-refused', reason: 'no credential is stored and IM_RELAY_ENROLLMENT_TOKEN is not set' };
      return null;
    }
    const { hubUrl, name, host, version } = this.options;
    for (let attempt = 0; ; attempt += 1) {
      if (this.stopping.signal.aborted) throw this.stopping.signal.reason;
      const lastError = this.phase.status === 'enrolling' ? this.phase.lastError : undefined;
      this.phase = { status: 'enrolling', attempt: attempt + 1, lastError };
      const outcome = await enrollRelay(hubUrl, { token, name, host, version }, this.options.fetch);
      switch (outcome.kind) {
        case 'enrolled':
          await this.options.credentials.save(outcome.credential);
          this.logger.info('enrolled with the hub', { relayId: outcome.relayId, relayGroup: outcome.relayGroup, name });
          return outcome.credential;
        case 'refused':
          this.phase = { status: 'enrollment-refused', reason: outcome.reason };
          this.logger.error('enrollment refused; the relay does not dial the hub', { reason: outcome.reason });
          return null;
        case 'unreachable': {
          const delayMs = reconnectDelayMs(attempt, this.options.random, this.options.reconnectPolicy);
          this.phase = { status: 'enrolling', attempt: attempt + 1, lastError: outcome.reason };
          this.logger.warn('enrollment failed; trying again after a wait', { reason: outcome.reason, delayMs });
          await sleep(this.timers, delayMs, this.stopping.signal);
        }
      }
    }
  }
}
