import type { RelayWorkQueueRepository } from '@identitymesh/persistence';

/** What the engine uses of the relay work queue: enqueueing, waiting on items and marking their results applied. */
export type RelayWorkQueue = Pick<
  RelayWorkQueueRepository,
  'enqueue' | 'get' | 'findForRun' | 'findUnappliedByKey' | 'stagedBatch' | 'batchProgress' | 'markBatchApplied' | 'markResultApplied'
>;
