/**
 * A row changed under a writer between its read and its write: another
 * engine's sync (or import) got there first. Thrown inside the transaction,
 * which then rolls back whole; the caller repeats the unit of work, which
 * reads the rows again and decides on what it finds then.
 */
export class ConcurrentChangeError extends Error {
  readonly code = 'CONCURRENT_CHANGE';

  constructor(
    readonly table: string,
    readonly expected: number,
    readonly changed: number,
  ) {
    super(`${expected - changed} of ${expected} rows of ${table} changed since they were read; the transaction was rolled back`);
    this.name = 'ConcurrentChangeError';
  }
}
