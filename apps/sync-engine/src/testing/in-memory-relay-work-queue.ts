import type { RelayWorkKind } from '@identitymesh/domain';
import type { JsonObject, RelayWorkItemView, StagedImportBatch, Transaction } from '@identitymesh/persistence';
import type { RelayWorkQueue } from '../relays/relay-work-queue';

interface StoredBatch extends StagedImportBatch {
  appliedAt: Date | null;
}

/**
 * The relay work queue in memory, with the repository's rules for what the
 * engine uses, and the relay's side for tests to play: stage a batch,
 * finish an item. `onWait` is called whenever the engine looks for a batch or
 * a result that is not there yet, so a test acts at the moment the engine
 * waits instead of racing it.
 */
export class InMemoryRelayWorkQueue implements RelayWorkQueue {
  readonly items = new Map<string, RelayWorkItemView>();
  readonly batches = new Map<string, Map<number, StoredBatch>>();
  /** Called when the engine finds nothing new: with the item and what it looked for (a batch's seq, or 'result'). */
  onWait: ((item: RelayWorkItemView, awaiting: number | 'result') => void | Promise<void>) | undefined;
  private next = 1;

  async enqueue(input: Parameters<RelayWorkQueue['enqueue']>[0], now: Date): Promise<RelayWorkItemView> {
    const item: RelayWorkItemView = { id: `item-${this.next++}`, ...input, status: 'queued', relayId: null, attempts: 0, result: null, resultAppliedAt: null, createdAt: now, updatedAt: now };
    this.items.set(item.id, item);
    return { ...item };
  }

  async get(itemId: string): Promise<RelayWorkItemView | null> {
    const item = this.items.get(itemId);
    if (!item) return null;
    if (item.status !== 'done' && item.status !== 'failed' && item.status !== 'expired') await this.onWait?.(item, 'result');
    const current = this.items.get(itemId);
    return current ? { ...current } : null;
  }

  async findForRun(connectorId: string, runId: string, kind: RelayWorkKind): Promise<RelayWorkItemView | null> {
    const found = [...this.items.values()]
      .filter((item) => item.connectorId === connectorId && item.runId === runId && item.kind === kind && item.status !== 'expired')
      .filter((item) => kind !== 'import' || !this.lastApplied(item.id))
      .pop();
    return found ? { ...found } : null;
  }

  async findUnappliedByKey(connectorId: string, workKey: string): Promise<RelayWorkItemView | null> {
    const found = [...this.items.values()].filter((item) => item.connectorId === connectorId && item.workKey === workKey && item.resultAppliedAt === null).pop();
    return found ? { ...found } : null;
  }

  async stagedBatch(itemId: string, seq: number): Promise<StagedImportBatch | null> {
    const batch = this.batches.get(itemId)?.get(seq);
    if (batch && batch.appliedAt === null) return { seq: batch.seq, payload: batch.payload, isLast: batch.isLast };
    const item = this.items.get(itemId);
    if (!batch && item) await this.onWait?.(item, seq);
    return null;
  }

  async batchProgress(itemId: string): Promise<{ lastApplied: number; lastStaged: number; lastIsApplied: boolean }> {
    const batches = [...(this.batches.get(itemId)?.values() ?? [])];
    const lastApplied = Math.max(0, ...batches.filter((b) => b.appliedAt !== null).map((b) => b.seq));
    const lastStaged = Math.max(0, ...batches.map((b) => b.seq));
    return { lastApplied, lastStaged, lastIsApplied: this.lastApplied(itemId) };
  }

  async markBatchApplied(_tx: Transaction, itemId: string, seq: number, now: Date): Promise<void> {
    const batch = this.batches.get(itemId)?.get(seq);
    if (!batch || batch.appliedAt !== null) throw new Error(`batch ${seq} of work item ${itemId} is not staged or was applied already`);
    batch.appliedAt = now;
    batch.payload = {};
  }

  async markResultApplied(itemId: string, now: Date): Promise<boolean> {
    const item = this.items.get(itemId);
    if (!item || item.resultAppliedAt !== null) return false;
    item.resultAppliedAt = now;
    return true;
  }

  /** The relay's side: claims the item (delivered, attempt 1) unless it was claimed. */
  deliver(itemId: string): void {
    const item = this.required(itemId);
    if (item.status === 'queued') Object.assign(item, { status: 'delivered', relayId: 'relay-1', attempts: item.attempts + 1 });
  }

  /** The relay's side: stages one batch (changes, errors and watermark as the protocol carries them). */
  stage(itemId: string, seq: number, payload: JsonObject, isLast = false): void {
    this.deliver(itemId);
    const batches = this.batches.get(itemId) ?? new Map<number, StoredBatch>();
    this.batches.set(itemId, batches);
    if (!batches.has(seq)) batches.set(seq, { seq, payload, isLast, appliedAt: null });
  }

  /** The relay's (or the hub's) side: the item's end. */
  finish(itemId: string, status: 'done' | 'failed' | 'expired', result: JsonObject | null = null): void {
    if (status !== 'expired') this.deliver(itemId);
    Object.assign(this.required(itemId), { status, result });
  }

  private lastApplied(itemId: string): boolean {
    return [...(this.batches.get(itemId)?.values() ?? [])].some((b) => b.isLast && b.appliedAt !== null);
  }

  private required(itemId: string): RelayWorkItemView {
    const item = this.items.get(itemId);
    if (!item) throw new Error(`no work item ${itemId}`);
    return item;
  }
}
