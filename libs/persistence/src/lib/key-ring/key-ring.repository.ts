import type { DataSource } from 'typeorm';
import { In, IsNull } from 'typeorm';
import type { KeyRingKeyRecord, KeyRingKeys } from '@identitymesh/key-ring';
import { KeyRingKeyEntity } from '../entities/key-ring-key.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { withDatabaseLock } from '../schema/database-lock';

/**
 * `IM_KeyRingKeys` as the key ring's KeyRingKeys port. Holds sealed material
 * only; the ring's secret provider opens it.
 *
 * Reads and key creation are not retried here: the ring keeps serving the
 * ring it last read and tries again at its next refresh, so a retry would
 * only hold up the request that triggered the read, and a retried insert
 * whose first attempt did commit would fail on the primary key.
 */
export class KeyRingRepository implements KeyRingKeys {
  constructor(private readonly dataSource: DataSource) {}

  async list(): Promise<KeyRingKeyRecord[]> {
    const rows = await this.dataSource.getRepository(KeyRingKeyEntity).find({ order: { purpose: 'ASC', activatesAt: 'ASC' } });
    return rows.map(toRecord);
  }

  async insert(record: KeyRingKeyRecord): Promise<void> {
    await this.dataSource.getRepository(KeyRingKeyEntity).insert({ ...record });
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    return withTransientRetry('key ring revoke', async () => {
      const repo = this.dataSource.getRepository(KeyRingKeyEntity);
      // Only an unrevoked key changes, so the first revocation time stays.
      const result = await repo.update({ id, revokedAt: IsNull() }, { revokedAt: at });
      return (result.affected ?? 0) > 0 || repo.existsBy({ id });
    });
  }

  async remove(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return withTransientRetry('key ring remove', async () => {
      const result = await this.dataSource.getRepository(KeyRingKeyEntity).delete({ id: In(ids) });
      return result.affected ?? 0;
    });
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return withDatabaseLock(this.dataSource, 'key-ring', work);
  }
}

function toRecord(row: KeyRingKeyEntity): KeyRingKeyRecord {
  return {
    id: row.id,
    purpose: row.purpose,
    material: row.material,
    algorithm: row.algorithm,
    createdAt: row.createdAt,
    activatesAt: row.activatesAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt ?? null,
  };
}
