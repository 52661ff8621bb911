import type { DataSource, EntityManager } from 'typeorm';
import { withTransientRetry } from '../retry/retry-policy';

const managers = new WeakMap<Transaction, EntityManager>();

/**
 * An open database transaction. Services pass it from one repository method
 * to the next so that everything a unit of work writes commits together; only
 * repositories can reach the connection behind it.
 */
export class Transaction {
  /** @internal made by TransactionRunner only. */
  constructor(manager: EntityManager) {
    managers.set(this, manager);
  }
}

/** The EntityManager of an open transaction; for repositories of this lib only (not exported from the lib). */
export function managerOf(tx: Transaction): EntityManager {
  const manager = managers.get(tx);
  if (!manager) throw new Error('not a transaction of this data source');
  return manager;
}

/** Opens transactions for services, which never see TypeORM themselves. */
export class TransactionRunner {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction: it commits when `work` resolves and rolls back when it throws. */
  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(new Transaction(manager)));
  }

  /**
   * As {@link run}, and runs the whole transaction again after a transient
   * fault (lost connection, deadlock victim). Only for work that is safe to
   * repeat: it must read what it needs inside the transaction, so a repeat
   * after a commit whose answer was lost finds its own writes and changes nothing.
   */
  runIdempotent<T>(operation: string, work: (tx: Transaction) => Promise<T>): Promise<T> {
    return withTransientRetry(operation, () => this.run(work));
  }
}
