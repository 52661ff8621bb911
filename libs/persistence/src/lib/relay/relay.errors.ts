/**
 * The engine tried to apply an import batch that is not waiting to be
 * applied: it was applied already, or it was never staged. Thrown inside the
 * batch's transaction, which then rolls back whole, so a batch is never
 * applied twice.
 */
export class RelayBatchNotStagedError extends Error {
  readonly code = 'RELAY_BATCH_NOT_STAGED';

  constructor(
    readonly workItemId: string,
    readonly seq: number,
    readonly state: 'applied' | 'missing',
  ) {
    super(`import batch ${seq} of relay work item ${workItemId} ${state === 'applied' ? 'was applied already' : 'was never staged'}; the transaction was rolled back`);
    this.name = 'RelayBatchNotStagedError';
  }
}
