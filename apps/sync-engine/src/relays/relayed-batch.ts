import type { ImportBatch } from '@identitymesh/connector-sdk';
import type { Transaction } from '@identitymesh/persistence';

const RELAYED_BATCH = Symbol('identitymesh.relayed-batch');

/** Where an import batch a relay staged came from, and how its staging row is marked applied. */
export interface RelayedBatchMarker {
  itemId: string;
  seq: number;
  /** Marks the staged batch applied in the transaction that commits it; throws when it was applied already, rolling that transaction back. */
  markApplied(tx: Transaction, now: Date): Promise<void>;
}

/** An import batch that carries its relay marker beside the connector contract's fields. */
export function withRelayedBatchMarker(batch: ImportBatch, marker: RelayedBatchMarker): ImportBatch {
  return Object.assign(batch, { [RELAYED_BATCH]: marker });
}

/**
 * The marker of a batch a relay staged, or undefined for a batch a local
 * connector read. The import runner marks it applied in the batch's own
 * transaction, so a batch is applied exactly once: a crash before the commit
 * leaves it staged, a repeat after the commit is refused.
 */
export function relayedBatchOf(batch: ImportBatch): RelayedBatchMarker | undefined {
  return (batch as ImportBatch & { [RELAYED_BATCH]?: RelayedBatchMarker })[RELAYED_BATCH];
}
