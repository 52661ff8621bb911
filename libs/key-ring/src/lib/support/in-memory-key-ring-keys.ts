import type { KeyRingKeyRecord, KeyRingKeys } from '../key-ring.port';

/**
 * KeyRingKeys in memory for unit tests. Two rings given the same instance
 * behave like two processes on one database: they share the rows and the lock.
 */
export class InMemoryKeyRingKeys implements KeyRingKeys {
  readonly rows = new Map<string, KeyRingKeyRecord>();
  /** Set to make every read fail, as a database outage would. */
  failReads = false;
  reads = 0;
  private lock: Promise<unknown> = Promise.resolve();

  async list(): Promise<KeyRingKeyRecord[]> {
    this.reads++;
    // A real store answers asynchronously; yielding lets concurrent callers interleave as they would there.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failReads) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return [...this.rows.values()].map(copy);
  }

  async insert(record: KeyRingKeyRecord): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.rows.has(record.id)) throw new Error(`duplicate key ${record.id}`);
    this.rows.set(record.id, copy(record));
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row) return false;
    row.revokedAt ??= new Date(at);
    return true;
  }

  async remove(ids: string[]): Promise<number> {
    return ids.filter((id) => this.rows.delete(id)).length;
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

function copy(record: KeyRingKeyRecord): KeyRingKeyRecord {
  return {
    ...record,
    createdAt: new Date(record.createdAt),
    activatesAt: new Date(record.activatesAt),
    expiresAt: new Date(record.expiresAt),
    revokedAt: record.revokedAt ? new Date(record.revokedAt) : null,
  };
}
