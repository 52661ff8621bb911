import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { ApiKeyEntity } from '../entities/api-key.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';

/** An Admin API key as stored: the secret only as its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The non-secret part of the key that finds its row. */
  prefix: string;
  /** Made by the Admin API (a slow hash with its parameters); never the secret itself. */
  secretHash: string;
  permissions: string[];
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export type NewApiKey = Omit<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>;

/**
 * `IM_ApiKeys`. What makes a key valid (hash, expiry, revocation) is the
 * Admin API's to judge; this stores and finds keys. Lookups go by prefix
 * (unique), so a presented key costs one indexed read.
 */
export class ApiKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores a new key inside `tx`, so the key and the audit entry of its creation commit together. */
  async insert(tx: Transaction, key: NewApiKey): Promise<ApiKeyRecord> {
    const row: ApiKeyEntity = { ...key, permissions: [...key.permissions], revokedAt: null, lastUsedAt: null };
    await managerOf(tx).getRepository(ApiKeyEntity).insert({ ...row });
    return toRecord(row);
  }

  async findByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    const row = await withTransientRetry('api key find', () => this.dataSource.getRepository(ApiKeyEntity).findOneBy({ prefix }));
    return row ? toRecord(row) : null;
  }

  /** One key, read inside `tx` when given (the state a change starts from). */
  async findById(id: string, tx?: Transaction): Promise<ApiKeyRecord | null> {
    const manager = tx ? managerOf(tx) : this.dataSource.manager;
    const row = await manager.getRepository(ApiKeyEntity).findOneBy({ id });
    return row ? toRecord(row) : null;
  }

  /**
   * Keys newest first, `limit` of them after the key `after` (its creation
   * time and id: a keyset page that neither skips nor repeats when keys are
   * added meanwhile).
   */
  async list(page: { limit: number; after?: { createdAt: Date; id: string } | null }): Promise<ApiKeyRecord[]> {
    const query = this.dataSource.getRepository(ApiKeyEntity).createQueryBuilder('k').orderBy('k.createdAt', 'DESC').addOrderBy('k.id', 'DESC').take(page.limit);
    if (page.after) query.where('(k.createdAt < :at OR (k.createdAt = :at AND k.id < :id))', { at: page.after.createdAt, id: page.after.id });
    const rows = await withTransientRetry('api keys list', () => query.getMany());
    return rows.map(toRecord);
  }

  /** Revokes a key that is not revoked yet; false when it was (the first revocation time stays). */
  async revoke(tx: Transaction, id: string, at: Date): Promise<boolean> {
    const result = await managerOf(tx)
      .getRepository(ApiKeyEntity)
      .createQueryBuilder()
      .update()
      .set({ revokedAt: at })
      .where({ id, revokedAt: IsNull() })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Records a use of the key; callers do it at most once a minute per key, not per request. */
  async touch(id: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(ApiKeyEntity).update({ id }, { lastUsedAt: at });
  }
}

function toRecord(row: ApiKeyEntity): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    secretHash: row.secretHash,
    permissions: Array.isArray(row.permissions) ? [...row.permissions] : [],
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}
