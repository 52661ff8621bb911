import { Injectable, Logger } from '@nestjs/common';
import {
  HubAck,
  ImportBatchMessage,
  parseHubMessage,
  RelayWorkOrder,
  relayWorkOrderSchema,
  WorkPullReply,
  WorkPullRequest,
  WorkResultMessage,
  WorkStartedMessage,
} from '@identitymesh/connector-sdk';
import { ConnectorDefinition, ConnectorRepository, JsonObject, RelayWorkItemView, RelayWorkQueueRepository } from '@identitymesh/persistence';
import type { RelayPeer } from './relay-hub-auth';
import { refuse } from './relay-hub.errors';
import { RelayItemProgress } from './relay-item-progress.service';

/** A relay whose last sign of life is older than this is gone: its claimed work may move to another relay of its group. */
export const RELAY_STALE_AFTER_MS = 60_000;

/** Import batches staged and not yet applied by the engine beyond which the hub holds the next batch's acknowledgement. */
export const IMPORT_WINDOW_BATCHES = 4;

/** How often a held acknowledgement looks whether the engine caught up. */
const WINDOW_POLL_MS = 100;
/** After this the relay is told HUB_UNAVAILABLE and sends the batch again later (staged already, it is then a duplicate). */
const WINDOW_GIVE_UP_MS = 60_000;

const OK: HubAck = { ok: true };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * What the hub does with a relay's messages, over the relay work queue in
 * SQL: hand out work of the relay's own group, stage import batches once
 * each, and close items with their result. Every item-level message names
 * the item and the attempt; the repository refuses an item not delivered
 * to this relay at this attempt, so a relay can neither see nor finish
 * another's work. A batch staged or an item completed is reported to
 * RelayItemProgress (not a duplicate of either), which wakes the waiters.
 */
@Injectable()
export class RelayWorkService {
  private readonly logger = new Logger('RelayHub');

  constructor(
    private readonly queue: RelayWorkQueueRepository,
    private readonly connectors: ConnectorRepository,
    private readonly progress: RelayItemProgress,
  ) {}

  /** Work already delivered to this relay (a replay after a reconnect), then new work of its group. */
  async pull(relay: RelayPeer, request: WorkPullRequest): Promise<WorkPullReply> {
    const now = new Date();
    const items = await this.queue.claim(relay.relayId, relay.relayGroup, { max: request.max, staleBefore: staleBefore(now) }, now);
    if (items.length === 0) return { items: [] };
    const connectorIds = items.map((item) => item.connectorId).filter((id): id is string => id !== null);
    const connectors = new Map((await this.connectors.findByIds(connectorIds)).map((c) => [c.id, c]));
    const orders: RelayWorkOrder[] = [];
    for (const item of items) {
      const order = await this.orderOf(item, item.connectorId ? connectors.get(item.connectorId) : undefined);
      if ('order' in order) {
        orders.push(order.order);
        continue;
      }
      // The item cannot be run as it is (its connector is gone, or the engine wrote a payload the protocol cannot carry): it fails instead of waiting forever.
      this.logger.warn(`relay work item ${item.id} cannot be delivered: ${order.problem}`);
      const outcome = await this.queue.complete(item.id, relay.relayId, item.attempts, 'failed', { error: { code: 'CONNECTOR_CONFIG_INVALID', message: order.problem, retryable: false } }, now);
      if (outcome === 'completed') this.progress.reported(item.id);
    }
    return { items: orders };
  }

  async started(relay: RelayPeer, message: WorkStartedMessage): Promise<HubAck> {
    if (await this.queue.markRunning(message.itemId, relay.relayId, message.attempt, new Date())) return OK;
    const item = await this.queue.get(message.itemId);
    if (!item || item.relayId !== relay.relayId) throw refuse('WORK_NOT_YOURS', `work item ${message.itemId} is not delivered to this relay`);
    // The same message again (its acknowledgement was lost): nothing to change.
    if (item.status === 'running' && item.attempts === message.attempt) return OK;
    throw refuse('WORK_CLOSED', `work item ${message.itemId} is ${item.status} (attempt ${item.attempts}); stop working on attempt ${message.attempt}`);
  }

  /**
   * Stages one batch (a batch sent twice is stored once), then holds the
   * acknowledgement while more than IMPORT_WINDOW_BATCHES wait for the
   * engine: the relay sends its next batch only after the acknowledgement,
   * so neither the relay nor the hub ever holds a whole directory.
   */
  async importBatch(relay: RelayPeer, message: ImportBatchMessage, connected: () => boolean): Promise<HubAck> {
    const payload: JsonObject = { changes: message.changes as unknown as JsonObject[], errors: message.errors as unknown as JsonObject[] };
    if (message.watermark !== undefined) payload['watermark'] = message.watermark;
    const outcome = await this.queue.stageImportBatch(message.itemId, relay.relayId, message.attempt, { seq: message.seq, payload, isLast: message.last }, new Date());
    switch (outcome) {
      case 'staged':
        this.progress.reported(message.itemId);
        await this.awaitWindow(message.itemId, connected);
        return OK;
      case 'duplicate':
        await this.awaitWindow(message.itemId, connected);
        return OK;
      case 'not-yours':
        throw refuse('WORK_NOT_YOURS', `work item ${message.itemId} is not delivered to this relay at attempt ${message.attempt}`);
      case 'closed':
        throw refuse('WORK_CLOSED', `work item ${message.itemId} is finished, expired or in another attempt than ${message.attempt}`);
    }
  }

  async result(relay: RelayPeer, message: WorkResultMessage): Promise<HubAck> {
    const result: JsonObject = {};
    if (message.export) result['export'] = message.export as unknown as JsonObject;
    if (message.testConnection) result['testConnection'] = message.testConnection as unknown as JsonObject;
    if (message.error) result['error'] = message.error as unknown as JsonObject;
    const outcome = await this.queue.complete(message.itemId, relay.relayId, message.attempt, message.status, result, new Date());
    switch (outcome) {
      case 'completed':
        this.progress.reported(message.itemId);
        return OK;
      case 'duplicate':
        return OK;
      case 'not-yours':
        throw refuse('WORK_NOT_YOURS', `work item ${message.itemId} is not delivered to this relay at attempt ${message.attempt}`);
      case 'closed':
        throw refuse('WORK_CLOSED', `work item ${message.itemId} is finished, expired or in another attempt than ${message.attempt}`);
    }
  }

  private async awaitWindow(itemId: string, connected: () => boolean): Promise<void> {
    const giveUpAt = Date.now() + WINDOW_GIVE_UP_MS;
    while ((await this.queue.unappliedBatchCount(itemId)) > IMPORT_WINDOW_BATCHES) {
      // Nobody would read the acknowledgement; the relay resends the batch after it reconnects.
      if (!connected()) throw refuse('HUB_UNAVAILABLE', 'the connection closed while the batch waited for the engine');
      if (Date.now() >= giveUpAt) throw refuse('HUB_UNAVAILABLE', `the engine has not applied the earlier batches of work item ${itemId} for ${WINDOW_GIVE_UP_MS / 1000} s; send this batch again later`);
      await sleep(WINDOW_POLL_MS);
    }
  }

  private async orderOf(item: RelayWorkItemView, connector: ConnectorDefinition | undefined): Promise<{ order: RelayWorkOrder } | { problem: string }> {
    if (!connector) return { problem: `its connector ${item.connectorId ?? '(none)'} does not exist` };
    const order: Record<string, unknown> = {
      id: item.id,
      kind: item.kind,
      attempt: item.attempts,
      deadlineAt: item.deadlineAt.toISOString(),
      connector: { id: connector.id, name: connector.name, type: connector.type, config: connector.config },
    };
    if (item.kind === 'import') {
      const progress = await this.queue.batchProgress(item.id);
      const { mode, watermark, batchSize } = item.payload;
      order['import'] = { mode, watermark: watermark ?? undefined, batchSize: batchSize ?? connector.batchSize, nextSeq: progress.lastStaged + 1 };
    } else if (item.kind === 'export') {
      order['export'] = { changes: item.payload['changes'] };
    }
    const parsed = parseHubMessage(relayWorkOrderSchema, order);
    return parsed.ok ? { order: parsed.value } : { problem: `its ${item.kind} order does not match the protocol (${parsed.message})` };
  }
}

export function staleBefore(now: Date): Date {
  return new Date(now.getTime() - RELAY_STALE_AFTER_MS);
}
