import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * better-sqlite3 gives TypeORM one connection per process, and TypeORM hands
 * every caller the same query runner. Two transactions in flight at once (two
 * runs, or a run and a heartbeat) would then share one SQLite transaction: a
 * heartbeat written in the middle of a batch would roll back with it, and a
 * second transaction would become a savepoint inside the first. Opening a
 * second connection does not help either: its busy wait blocks the event loop,
 * so the connection holding the lock can never finish.
 *
 * This gate makes one transaction at a time own the connection. A statement
 * issued from inside the owning transaction runs at once; any other statement
 * or transaction waits until the owner commits or rolls back. Ownership
 * follows the async call chain (AsyncLocalStorage), so repositories need no
 * changes. SQLite writes one transaction at a time anyway, so nothing is lost.
 */
export function serializeSqliteAccess(dataSource: DataSource): void {
  if (dataSource.options.type !== 'better-sqlite3') return;
  const gate = new ConnectionGate();

  const manager = dataSource.manager;
  const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  manager.transaction = ((...args: unknown[]) => gate.exclusive(() => transaction(...args))) as EntityManager['transaction'];

  // The driver caches its single runner, so this is the one every caller gets.
  const runner: QueryRunner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = ((...args: unknown[]) => gate.exclusive(() => query(...args))) as QueryRunner['query'];
}

class ConnectionGate {
  private readonly owner = new AsyncLocalStorage<symbol>();
  private holder: symbol | undefined;
  private tail: Promise<void> = Promise.resolve();

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    // Called from inside the transaction that holds the connection: part of it.
    if (this.holder !== undefined && this.owner.getStore() === this.holder) return work();
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    const token = Symbol('sqlite-connection-owner');
    this.holder = token;
    try {
      return await this.owner.run(token, work);
    } finally {
      this.holder = undefined;
      release();
    }
  }
}
