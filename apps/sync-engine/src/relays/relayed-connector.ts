import { createHash } from 'node:crypto';
import { ConnectionTestResult, Connector, ConnectorCapabilities, ConnectorError, ConnectorSchema, ExportChange, ExportResult, ImportBatch, importBatchMessageSchema, ImportRequest, ItemWait, parseHubMessage, PollBackoff, RELAY_MAX_POLL_MS, RELAY_POLL_MS, RelayProgressSource, workResultMessageSchema } from '@identitymesh/connector-sdk';
import type { RelayWorkKind } from '@identitymesh/domain';
import type { JsonObject, RelayWorkItemView, StagedImportBatch } from '@identitymesh/persistence';
import { withRelayedBatchMarker } from './relayed-batch';
import { relayedConnectorSchema } from './relay-schemas';
import type { RelayWorkQueue } from './relay-work-queue';

/** The largest import batch a relay takes (the protocol's bound). */
const MAX_BATCH_SIZE = 10_000;
const DEFAULT_BATCH_SIZE = 500;

/** What a staged batch's payload is: an import batch message without its ids. Parsed before use: a relay is not trusted to send what the engine can take. */
const stagedPayloadSchema = importBatchMessageSchema.pick({ changes: true, errors: true, watermark: true });
/** What a finished item's result is: a work result message without its ids and status. */
const resultSchema = workResultMessageSchema.pick({ export: true, testConnection: true, error: true });
type WorkResult = ReturnType<typeof resultSchema.parse>;

/** The connector row, as far as running it through relays goes. */
export interface RelayedConnectorDefinition {
  id: string;
  name: string;
  type: string;
  relayGroup: string;
  /** The schema stored with the connector, if any: preferred to asking the connected system, which only the relay reaches. */
  objectTypes?: readonly JsonObject[];
}

/** Counts and times relay work for the engine's metrics. */
export interface RelayWorkObserver {
  enqueued(kind: RelayWorkKind): void;
  /** The engine waited `seconds` for a relay: for one import batch, an export's results, a connection test. */
  waited(kind: RelayWorkKind, seconds: number): void;
}

export interface RelayedConnectorOptions {
  connector: RelayedConnectorDefinition;
  /** An instance of the connector's own type over the same validated config, never opened: capabilities and schema come from it. */
  local: Connector;
  validatedConfig: unknown;
  queue: RelayWorkQueue;
  /** Tells the hub that the group has new work; never throws, never waits. */
  notify(relayGroup: string): void;
  /** How long an item may wait for a relay and run before the engine gives up on it. */
  deadlineMs: number;
  /** The run the work belongs to: a resumed run goes on with its import item. */
  runId?: string;
  /** Ends every wait, as `close()` does: export and connection tests have no signal of their own. */
  signal?: AbortSignal;
  /** Wake-ups from the hub (`work:progress`): a wait looks at the queue at once when its item made progress. Without it, waits only poll. */
  progress?: RelayProgressSource;
  /** The first poll interval of a wait, and the one it goes back to on a wake-up. @default RELAY_POLL_MS */
  pollMs?: number;
  /** The longest poll interval of a wait that hears nothing. @default RELAY_MAX_POLL_MS */
  maxPollMs?: number;
  observer?: RelayWorkObserver;
  /** @default () => new Date() */
  now?: () => Date;
}

/**
 * A connector whose connected system only a relay of its group reaches. It
 * answers capabilities and schema itself, from an unopened instance of its
 * type; imports, exports and connection tests become items of the relay work
 * queue in SQL, which a relay claims through the hub and answers there:
 *
 * - an import yields the batches the relay staged, in sequence, each with a
 *   marker so the import runner marks it applied in the batch's own
 *   transaction; a resumed run goes on with its item after the last batch
 *   applied;
 * - an export waits for the item's per-change results; the same batch sent
 *   again after an engine crash finds the item it sent before by its key;
 * - a failed item throws the relay's error, an expired one
 *   CONNECTOR_UNREACHABLE (retryable).
 *
 * Everything a relay sends is parsed with the protocol's schemas before the
 * engine uses it. SQL is the truth: a wait looks at the queue when the hub
 * says its item made progress, and polls as well, every 100 ms at first and
 * doubling while nothing changes up to 2 s, so it works without a hub link
 * too. Every wait ends on abort or `close()`.
 */
export class RelayedConnector implements Connector {
  readonly type: string;
  private readonly connector: RelayedConnectorDefinition;
  private readonly queue: RelayWorkQueue;
  private readonly pollMs: number;
  private readonly maxPollMs: number;
  private readonly now: () => Date;
  /** Aborted by close() and by the signal given at creation. */
  private readonly stop = new AbortController();

  constructor(private readonly options: RelayedConnectorOptions) {
    this.connector = options.connector;
    this.type = options.connector.type;
    this.queue = options.queue;
    this.pollMs = options.pollMs ?? RELAY_POLL_MS;
    this.maxPollMs = options.maxPollMs ?? RELAY_MAX_POLL_MS;
    this.now = options.now ?? (() => new Date());
    const { signal } = options;
    if (signal?.aborted) this.stop.abort(signal.reason);
    else signal?.addEventListener('abort', () => this.stop.abort(signal.reason), { once: true });
  }

  capabilities(): ConnectorCapabilities {
    return this.options.local.capabilities();
  }

  schema(): Promise<ConnectorSchema> {
    return relayedConnectorSchema(this.connector, this.options.validatedConfig, this.options.local);
  }

  async testConnection(): Promise<ConnectionTestResult> {
    const item = await this.enqueue('test-connection', {}, null);
    const result = await this.awaitResult(item);
    if (!result.testConnection) throw new ConnectorError('SYSTEM_ERROR', `the relay finished the connection test (work item ${item.id}) without its result`);
    return result.testConnection;
  }

  async *import(request: ImportRequest): AsyncGenerator<ImportBatch> {
    const signal = request.signal ? AbortSignal.any([this.stop.signal, request.signal]) : this.stop.signal;
    if (signal.aborted) return;
    const item = await this.importItem(request);
    const progress = await this.queue.batchProgress(item.id);
    if (progress.lastIsApplied) return;
    for (let seq = progress.lastApplied + 1; ; seq++) {
      const staged = await this.nextBatch(item, seq, signal);
      if (!staged) return;
      const itemId = item.id;
      yield withRelayedBatchMarker(this.parseBatch(item, staged), { itemId, seq, markApplied: (tx, now) => this.queue.markBatchApplied(tx, itemId, seq, now) });
      if (staged.isLast) return;
    }
  }

  async export(changes: ExportChange[]): Promise<ExportResult[]> {
    if (changes.length === 0) return [];
    const workKey = exportWorkKey(changes);
    // An item already sent with these changes (the engine stopped before it applied the answer) is waited on, not sent again.
    const sent = await this.queue.findUnappliedByKey(this.connector.id, workKey);
    const item = sent ?? (await this.enqueue('export', { changes: changes as unknown as JsonObject[] }, workKey));
    const result = await this.awaitResult(item);
    return this.matchResults(item, changes, result.export?.results);
  }

  /** Ends every wait; the connector is of no further use. */
  async close(): Promise<void> {
    if (!this.stop.signal.aborted) this.stop.abort();
    await this.options.local.close();
  }

  private async importItem(request: ImportRequest): Promise<RelayWorkItemView> {
    if (this.options.runId !== undefined) {
      const open = await this.queue.findForRun(this.connector.id, this.options.runId, 'import');
      if (open) return open;
    }
    const batchSize = Math.min(MAX_BATCH_SIZE, Math.max(1, Math.floor(request.batchSize ?? DEFAULT_BATCH_SIZE)));
    const payload: JsonObject = { mode: request.mode, batchSize };
    if (request.watermark !== undefined) payload['watermark'] = request.watermark;
    return this.enqueue('import', payload, null);
  }

  private async enqueue(kind: RelayWorkKind, payload: JsonObject, workKey: string | null): Promise<RelayWorkItemView> {
    const now = this.now();
    const item = await this.queue.enqueue(
      { relayGroup: this.connector.relayGroup, connectorId: this.connector.id, runId: this.options.runId ?? null, workKey, kind, payload, deadlineAt: new Date(now.getTime() + this.options.deadlineMs) },
      now,
    );
    this.options.observer?.enqueued(kind);
    this.options.notify(this.connector.relayGroup);
    return item;
  }

  /** Batch `seq` once the relay staged it; null when the wait was stopped. Throws when the item ended without it. */
  private async nextBatch(item: RelayWorkItemView, seq: number, signal: AbortSignal): Promise<StagedImportBatch | null> {
    const started = this.now().getTime();
    const found = (staged: StagedImportBatch) => {
      this.options.observer?.waited('import', (this.now().getTime() - started) / 1000);
      return staged;
    };
    const wait = this.waitOn(item, signal);
    try {
      for (;;) {
        const staged = await this.queue.stagedBatch(item.id, seq);
        if (staged) return found(staged);
        const current = await this.current(item);
        const state = this.stateOf(current);
        if (state !== 'open') {
          // Staged just before the item ended: a relay stages every batch before it finishes the item.
          const late = await this.queue.stagedBatch(item.id, seq);
          if (late) return found(late);
          if (state === 'failed') throw this.failure(current);
          if (state === 'expired') throw this.expiry(current);
          throw new ConnectorError('SYSTEM_ERROR', `the relay finished the import (work item ${item.id}) without staging batch ${seq} or marking an earlier one the last`);
        }
        if (!(await wait.pause())) return null;
      }
    } finally {
      wait.close();
    }
  }

  private parseBatch(item: RelayWorkItemView, staged: StagedImportBatch): ImportBatch {
    const parsed = parseHubMessage(stagedPayloadSchema, staged.payload);
    if (!parsed.ok) {
      throw new ConnectorError('SYSTEM_ERROR', `batch ${staged.seq} the relay sent for work item ${item.id} is not a valid import batch (${parsed.message}); it was not applied`);
    }
    const { changes, errors, watermark } = parsed.value;
    return watermark === undefined ? { changes, errors } : { changes, errors, watermark };
  }

  /** The result of a finished item, marked applied so a later batch with the same key is sent anew. */
  private async awaitResult(item: RelayWorkItemView): Promise<WorkResult> {
    const started = this.now().getTime();
    const wait = this.waitOn(item, this.stop.signal);
    try {
      for (;;) {
        const current = await this.current(item);
        const state = this.stateOf(current);
        if (state !== 'open') {
          this.options.observer?.waited(item.kind, (this.now().getTime() - started) / 1000);
          await this.queue.markResultApplied(current.id, this.now());
          if (state === 'failed') throw this.failure(current);
          if (state === 'expired') throw this.expiry(current);
          const parsed = parseHubMessage(resultSchema, current.result ?? {});
          if (!parsed.ok) throw new ConnectorError('SYSTEM_ERROR', `the result the relay sent for work item ${current.id} is not valid (${parsed.message})`);
          return parsed.value;
        }
        if (!(await wait.pause())) {
          throw new ConnectorError('CONNECTOR_UNREACHABLE', `stopped waiting for the relay's answer to work item ${item.id}: the run is stopping; the item stays queued`, true);
        }
      }
    } finally {
      wait.close();
    }
  }

  /** One result per change, in the order of the changes; anything else from a relay is refused whole. */
  private matchResults(item: RelayWorkItemView, changes: ExportChange[], results: ExportResult[] | undefined): ExportResult[] {
    if (!results) throw new ConnectorError('SYSTEM_ERROR', `the relay finished the export (work item ${item.id}) without its results`);
    const byId = new Map<string, ExportResult>();
    for (const result of results) {
      if (byId.has(result.id)) throw new ConnectorError('SYSTEM_ERROR', `the relay answered change ${result.id} twice in work item ${item.id}; its results were not used`);
      byId.set(result.id, result);
    }
    const missing = changes.filter((change) => !byId.has(change.id));
    if (missing.length > 0 || results.length !== changes.length) {
      throw new ConnectorError(
        'SYSTEM_ERROR',
        `the relay answered ${results.length} result(s) for the ${changes.length} change(s) of work item ${item.id}${missing.length > 0 ? `, none for ${missing[0].id}` : ''}; its results were not used`,
      );
    }
    return changes.map((change) => byId.get(change.id) as ExportResult);
  }

  private async current(item: RelayWorkItemView): Promise<RelayWorkItemView> {
    const current = await this.queue.get(item.id);
    if (!current) throw new ConnectorError('SYSTEM_ERROR', `relay work item ${item.id} of connector "${this.connector.name}" is gone from the work queue`);
    return current;
  }

  /** An open item past its deadline is expired here even before the hub's next sweep says so: no relay may answer it any more. */
  private stateOf(item: RelayWorkItemView): 'open' | 'done' | 'failed' | 'expired' {
    if (item.status === 'done' || item.status === 'failed' || item.status === 'expired') return item.status;
    return this.now().getTime() >= item.deadlineAt.getTime() ? 'expired' : 'open';
  }

  private failure(item: RelayWorkItemView): ConnectorError {
    const parsed = parseHubMessage(resultSchema, item.result ?? {});
    const error = parsed.ok ? parsed.value.error : undefined;
    if (!error) return new ConnectorError('SYSTEM_ERROR', `the relay reported work item ${item.id} failed without a valid reason${parsed.ok ? '' : ` (${parsed.message})`}`);
    return new ConnectorError(error.code, `${error.message} (reported by the relay of group "${this.connector.relayGroup}" for work item ${item.id})`, error.retryable);
  }

  private expiry(item: RelayWorkItemView): ConnectorError {
    const deadline = item.deadlineAt.toISOString();
    const message =
      item.attempts === 0
        ? `no relay of group "${this.connector.relayGroup}" took the work before its deadline (${deadline}): is a relay of the group enrolled and connected to the hub?`
        : `the relay of group "${this.connector.relayGroup}" that took work item ${item.id} did not finish it before its deadline (${deadline})`;
    return new ConnectorError('CONNECTOR_UNREACHABLE', message, true);
  }

  /** A wait on the item that starts at the first poll interval: something just arrived, or the work was just sent. */
  private waitOn(item: RelayWorkItemView, signal: AbortSignal): ItemWait {
    return new ItemWait(item.id, this.options.progress, new PollBackoff(this.pollMs, this.maxPollMs), signal);
  }
}

/** The dedup key of an export batch: the same change ids in the same order are the same batch. */
export function exportWorkKey(changes: readonly ExportChange[]): string {
  return createHash('sha256')
    .update(JSON.stringify(changes.map((change) => change.id)))
    .digest('hex');
}
