import type { Socket } from 'socket.io-client';
import {
  Connector,
  ConnectorError,
  HUB_ERROR_CODES,
  HUB_EVENTS,
  HubAck,
  HubErrorCode,
  ImportBatch,
  ImportBatchMessage,
  parseHubMessage,
  RelayWorkOrder,
  WorkResultMessage,
  workPullReplySchema,
  WorkStartedMessage,
} from '@identitymesh/connector-sdk';
import type { HubLink } from '../hub/hub-link';
import type { ItemOutcome, RelayMetrics } from '../metrics/relay-metrics';
import type { RelayLogger } from '../runtime/relay-logger';
import { REAL_TIMERS, sleep, Timers } from '../runtime/timers';
import type { RelayConnectorHost } from './relay-connector-host';

export interface WorkLoopOptions {
  /** Items run at once; work:pull asks for this many. */
  maxItems: number;
  /** The wait before a message the hub could not take (HUB_UNAVAILABLE) is sent again. @default 1000 */
  retryDelayMs?: number;
  /**
   * How long an acknowledgement may take before the message is sent again. Longer than the hub holds an import
   * batch's acknowledgement for backpressure (60 s), so a full window is waited out, not flooded. @default 90000
   */
  ackTimeoutMs?: number;
  timers?: Timers;
}

/** Why an item is put down without an end reported: the hub closed it, or the relay is stopping. */
class ItemAbandoned extends Error {}

/** The hub refused a message as malformed: sending it again cannot help. */
class MessageRefused extends Error {
  constructor(
    readonly event: string,
    message: string,
  ) {
    super(message);
  }
}

type MessageOf = { [HUB_EVENTS.workStarted]: WorkStartedMessage; [HUB_EVENTS.importBatch]: ImportBatchMessage; [HUB_EVENTS.workResult]: WorkResultMessage };
type ItemEvent = keyof MessageOf;

/** One work order in hand. */
class ItemRun {
  readonly abort = new AbortController();
  connector?: Connector;
  private closing?: Promise<void>;

  constructor(readonly order: RelayWorkOrder) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  abandon(reason: string): void {
    if (!this.signal.aborted) this.abort.abort(new ItemAbandoned(reason));
  }

  /** Closes the connector once, whoever asks first (the item's end or a shutdown that could not wait for it). */
  closeConnector(logger: RelayLogger): Promise<void> {
    this.closing ??= (this.connector?.close() ?? Promise.resolve()).catch((error: unknown) => {
      logger.warn('the connector did not close cleanly', { itemId: this.order.id, error: (error as Error).message });
    });
    return this.closing;
  }
}

/**
 * Pulls work from the hub and runs it. Every message about an item is sent
 * until the hub acknowledges it: a message whose acknowledgement did not
 * arrive (the socket dropped, the hub timed out) is sent again, unchanged,
 * once the link is back; the hub stores each (item, seq) once, so a resent
 * batch or result changes nothing twice.
 *
 * An import holds one batch at a time: the connector's stream is read for
 * the next batch only after the hub acknowledged the previous one, and the
 * hub holds that acknowledgement while the engine is behind (backpressure),
 * so a directory never sits in the relay's memory whole.
 */
export class RelayWorkLoop {
  private readonly runs = new Map<string, { run: ItemRun; done: Promise<void> }>();
  private readonly retryDelayMs: number;
  private readonly ackTimeoutMs: number;
  private readonly timers: Timers;
  private pulling = false;
  private pullAgain = false;
  private stopping = false;
  private retryTimer?: unknown;

  constructor(
    private readonly link: HubLink,
    private readonly connectors: RelayConnectorHost,
    private readonly metrics: RelayMetrics,
    private readonly logger: RelayLogger,
    private readonly options: WorkLoopOptions,
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 90_000;
    this.timers = options.timers ?? REAL_TIMERS;
  }

  /** Items in hand, for the ping command and the health detail. */
  get itemsInHand(): number {
    return this.runs.size;
  }

  start(): void {
    this.link.events.on('connected', () => void this.pull());
    this.link.events.on('work-available', () => void this.pull());
    this.link.events.on('disconnected', () => {
      // Nothing in hand waits for a link that will not come back during a shutdown.
      if (this.stopping) for (const { run } of this.runs.values()) run.abandon('the relay is stopping and the hub link is down');
    });
    this.link.events.on('refused', (code) => {
      for (const { run } of this.runs.values()) run.abandon(`the hub refuses this relay (${code})`);
    });
    if (this.link.connectedSocket()) void this.pull();
  }

  /**
   * Stops pulling; lets items in hand reach their next acknowledgement (an
   * import stops after the batch in flight, an export or connection test
   * reports its result) for at most `graceMs`, then abandons what is left and
   * closes every connector. The hub replays abandoned items when the relay
   * is back.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    if (!this.link.connectedSocket()) for (const { run } of this.runs.values()) run.abandon('the relay is stopping and the hub link is down');
    const settled = Promise.all([...this.runs.values()].map((entry) => entry.done));
    let timer: unknown;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      timer = this.timers.setTimeout(() => resolve('grace-over'), graceMs);
    });
    const first = await Promise.race([settled.then(() => 'settled' as const), graceOver]);
    this.timers.clearTimeout(timer);
    if (first === 'grace-over') {
      this.logger.warn('stopping with work in hand; the hub replays it when the relay is back', { items: [...this.runs.keys()] });
      for (const { run } of this.runs.values()) run.abandon('the relay is stopping');
      await Promise.all([...this.runs.values()].map(({ run }) => run.closeConnector(this.logger)));
    }
  }

  /** Asks the hub for work while there is room; one pull at a time, and once more if asked meanwhile. */
  private async pull(): Promise<void> {
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = true;
    try {
      do {
        this.pullAgain = false;
        await this.pullOnce();
      } while (this.pullAgain);
    } finally {
      this.pulling = false;
    }
  }

  private async pullOnce(): Promise<void> {
    if (this.stopping || this.runs.size >= this.options.maxItems) return;
    const socket = this.link.connectedSocket();
    if (!socket) return; // the next connection pulls
    let reply: unknown;
    try {
      // The hub replays items it delivered to this relay first; those in hand are skipped below.
      reply = await socket.timeout(this.ackTimeoutMs).emitWithAck(HUB_EVENTS.workPull, { max: this.options.maxItems });
    } catch (error) {
      this.logger.warn('work:pull got no answer; pulling again on the next connection or notice', { error: (error as Error).message });
      return;
    }
    const refusal = refusalOf(reply);
    if (refusal) {
      this.onPullRefused(refusal);
      return;
    }
    const parsed = parseHubMessage(workPullReplySchema, reply);
    if (!parsed.ok) {
      this.logger.error('the hub answered work:pull with something that is not work', { problem: parsed.message });
      return;
    }
    for (const order of parsed.value.items) {
      if (this.runs.has(order.id)) continue;
      // Over the limit only when the hub stopped replaying an item still in hand; it is replayed again later.
      if (this.runs.size >= this.options.maxItems) break;
      this.begin(order);
    }
  }

  private onPullRefused(refusal: { code: HubErrorCode; message: string }): void {
    if (refusal.code === 'RELAY_REVOKED' || refusal.code === 'HUB_UNAUTHENTICATED') {
      this.link.refuse(refusal.code, refusal.message);
      return;
    }
    this.logger.warn('the hub could not hand out work; pulling again after a wait', { ...refusal, delayMs: this.retryDelayMs });
    if (refusal.code === 'HUB_UNAVAILABLE' && this.retryTimer === undefined) {
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = undefined;
        void this.pull();
      }, this.retryDelayMs);
    }
  }

  private begin(order: RelayWorkOrder): void {
    const run = new ItemRun(order);
    const done = this.execute(run).then((outcome) => {
      this.runs.delete(order.id);
      this.metrics.itemFinished(order.kind, outcome);
      void this.pull();
    });
    this.runs.set(order.id, { run, done });
  }

  private async execute(run: ItemRun): Promise<ItemOutcome> {
    const { order } = run;
    const fields = { itemId: order.id, attempt: order.attempt, kind: order.kind, connectorId: order.connector.id };
    this.logger.info('work item started', fields);
    try {
      await this.deliver(run, HUB_EVENTS.workStarted, { itemId: order.id, attempt: order.attempt });
      const result = await this.perform(run);
      await this.deliver(run, HUB_EVENTS.workResult, result);
      this.logger.info('work item finished', { ...fields, status: result.status, ...(result.error ? { code: result.error.code } : {}) });
      return result.status;
    } catch (error) {
      if (error instanceof ItemAbandoned) {
        this.logger.warn('work item abandoned', { ...fields, reason: error.message });
        return 'abandoned';
      }
      return this.reportFailure(run, error, fields);
    } finally {
      await run.closeConnector(this.logger);
    }
  }

  /** An item that cannot go on for a reason of its own: the hub is told it failed, if it still listens. */
  private async reportFailure(run: ItemRun, error: unknown, fields: Record<string, unknown>): Promise<ItemOutcome> {
    this.logger.error('work item failed', { ...fields, error: (error as Error).message });
    if (error instanceof MessageRefused && error.event === HUB_EVENTS.workResult) return 'failed';
    try {
      await this.deliver(run, HUB_EVENTS.workResult, {
        itemId: run.order.id,
        attempt: run.order.attempt,
        status: 'failed',
        error: { code: 'SYSTEM_ERROR', message: truncate((error as Error).message), retryable: false },
      });
    } catch (reportError) {
      this.logger.warn('the failure could not be reported to the hub', { ...fields, error: (reportError as Error).message });
      return reportError instanceof ItemAbandoned ? 'abandoned' : 'failed';
    }
    return 'failed';
  }

  /** Runs the order's connector work; connector failures become a failed result, the rest propagates. */
  private async perform(run: ItemRun): Promise<WorkResultMessage> {
    const { order } = run;
    const base = { itemId: order.id, attempt: order.attempt };
    try {
      const connector = (run.connector = this.connectors.create(order.connector, { itemId: order.id }));
      switch (order.kind) {
        case 'import':
          await this.streamImport(run, connector);
          return { ...base, status: 'done' };
        case 'export':
          if (!order.export) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'an export order without changes');
          return { ...base, status: 'done', export: { results: await connector.export(order.export.changes) } };
        case 'test-connection':
          return { ...base, status: 'done', testConnection: await connector.testConnection() };
      }
    } catch (error) {
      if (error instanceof ItemAbandoned || error instanceof MessageRefused) throw error;
      if (run.signal.aborted) throw run.signal.reason;
      return { ...base, status: 'failed', error: failureOf(error) };
    }
  }

  private async streamImport(run: ItemRun, connector: Connector): Promise<void> {
    const { order } = run;
    if (!order.import) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'an import order without its import settings');
    const { mode, watermark, batchSize, nextSeq } = order.import;
    const stream = connector.import({ mode, watermark, batchSize, objectTypes: [], signal: run.signal });
    const iterator = stream[Symbol.asyncIterator]();
    let seq = nextSeq;
    let finished = false;
    try {
      for (;;) {
        if (this.stopping) throw new ItemAbandoned('the relay is stopping');
        const next: IteratorResult<ImportBatch> = await iterator.next();
        // A stream cut short by the abort signal ends like a finished one; it must not be reported as complete.
        if (run.signal.aborted) throw run.signal.reason;
        if (next.done) {
          finished = true;
          break;
        }
        const batch = next.value;
        await this.deliver(run, HUB_EVENTS.importBatch, {
          itemId: order.id,
          attempt: order.attempt,
          seq,
          changes: batch.changes,
          errors: batch.errors,
          ...(batch.watermark !== undefined ? { watermark: batch.watermark } : {}),
          last: false,
        });
        this.metrics.importBatchSent();
        seq += 1;
      }
    } finally {
      if (!finished) await iterator.return?.().catch(() => undefined);
    }
    // The stream's end as a batch of its own: the relay never reads ahead to learn which batch was the last.
    await this.deliver(run, HUB_EVENTS.importBatch, { itemId: order.id, attempt: order.attempt, seq, changes: [], errors: [], last: true });
    this.metrics.importBatchSent();
  }

  /**
   * Sends one message about an item until the hub acknowledges it. The same
   * message goes again after a dropped socket (once the link is back), a
   * missing acknowledgement, or HUB_UNAVAILABLE (after a short wait).
   */
  private async deliver<E extends ItemEvent>(run: ItemRun, event: E, message: MessageOf[E]): Promise<void> {
    for (;;) {
      if (run.signal.aborted) throw run.signal.reason;
      const socket = this.link.connectedSocket();
      if (!socket) {
        if (this.stopping) throw new ItemAbandoned('the relay is stopping and the hub link is down');
        await this.nextConnection(run);
        continue;
      }
      let reply: unknown;
      try {
        reply = await untilAbandoned(run, this.emit(socket, event, message));
      } catch (error) {
        if (error instanceof ItemAbandoned) throw error;
        // Disconnected or unanswered: the loop sends the same message again.
        this.logger.debug('no acknowledgement; sending again', { event, itemId: run.order.id, error: (error as Error).message });
        continue;
      }
      const refusal = refusalOf(reply) ?? (isOk(reply) ? undefined : { code: 'MESSAGE_INVALID' as const, message: 'the hub answered with something that is not an acknowledgement' });
      if (!refusal) return;
      switch (refusal.code) {
        case 'HUB_UNAVAILABLE':
          this.logger.warn('the hub could not take a message; sending it again after a wait', { event, itemId: run.order.id, delayMs: this.retryDelayMs });
          await sleep(this.timers, this.retryDelayMs, run.signal);
          continue;
        case 'WORK_CLOSED':
        case 'WORK_NOT_YOURS':
          throw new ItemAbandoned(`${refusal.code}: ${refusal.message}`);
        case 'RELAY_REVOKED':
        case 'HUB_UNAUTHENTICATED':
          this.link.refuse(refusal.code, refusal.message);
          throw new ItemAbandoned(`${refusal.code}: ${refusal.message}`);
        case 'MESSAGE_INVALID':
          throw new MessageRefused(event, `the hub refused ${event} as invalid: ${refusal.message}`);
      }
    }
  }

  private emit(socket: Socket, event: string, message: unknown): Promise<unknown> {
    return socket.timeout(this.ackTimeoutMs).emitWithAck(event, message);
  }

  private nextConnection(run: ItemRun): Promise<void> {
    return new Promise((resolve, reject) => {
      const onConnected = () => {
        cleanup();
        resolve();
      };
      const onAbort = () => {
        cleanup();
        reject(run.signal.reason);
      };
      const cleanup = () => {
        this.link.events.off('connected', onConnected);
        run.signal.removeEventListener('abort', onAbort);
      };
      if (run.signal.aborted) return reject(run.signal.reason);
      this.link.events.on('connected', onConnected);
      run.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Settles with `work`, or rejects as soon as the item is abandoned (the acknowledgement is then not waited for). */
function untilAbandoned<T>(run: ItemRun, work: Promise<T>): Promise<T> {
  if (run.signal.aborted) return Promise.reject(run.signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(run.signal.reason);
    run.signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        run.signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        run.signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function isOk(reply: unknown): reply is { ok: true } {
  return typeof reply === 'object' && reply !== null && (reply as HubAck).ok === true;
}

/** The refusal in a hub's answer, when it is one. */
function refusalOf(reply: unknown): { code: HubErrorCode; message: string } | undefined {
  if (typeof reply !== 'object' || reply === null || (reply as HubAck).ok !== false) return undefined;
  const { code, message } = reply as { code?: unknown; message?: unknown };
  const known = HUB_ERROR_CODES.includes(code as HubErrorCode) ? (code as HubErrorCode) : 'MESSAGE_INVALID';
  return { code: known, message: typeof message === 'string' ? message : 'no message' };
}

function failureOf(error: unknown): NonNullable<WorkResultMessage['error']> {
  if (error instanceof ConnectorError) return { code: error.code, message: truncate(error.message), retryable: error.retryable };
  return { code: 'SYSTEM_ERROR', message: truncate((error as Error)?.message ?? String(error)), retryable: false };
}

function truncate(message: string): string {
  return message.length > 4000 ? `${message.slice(0, 3997)}...` : message;
}
