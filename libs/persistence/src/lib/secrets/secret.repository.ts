import type { DataSource, EntityManager } from 'typeorm';
import type { SecretRecord, SecretRecords } from '@identitymesh/secrets';
import { SecretEntity } from '../entities/secret.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';

// 7 parameters a row: 250 rows stay under SQL Server's 2,100 parameters a statement.
const UPSERT_CHUNK = 250;

/** `IM_Secrets` as the secret store's SecretRecords port. Holds ciphertext only; values never reach SQL. */
export class SecretRepository implements SecretRecords {
  constructor(private readonly dataSource: DataSource) {}

  async find(reference: string): Promise<SecretRecord | null> {
    const row = await withTransientRetry('secret find', () => this.dataSource.getRepository(SecretEntity).findOneBy({ reference }));
    return row ? toRecord(row) : null;
  }

  async list(): Promise<SecretRecord[]> {
    const rows = await withTransientRetry('secret list', () => this.dataSource.getRepository(SecretEntity).find({ order: { reference: 'ASC' } }));
    return rows.map(toRecord);
  }

  async save(record: SecretRecord): Promise<void> {
    await withTransientRetry('secret save', () => upsert(this.dataSource.manager, [record]));
  }

  /** One transaction, one upsert statement per chunk: a rewrap lands whole or not at all. */
  async saveAll(records: SecretRecord[]): Promise<void> {
    if (records.length === 0) return;
    await withTransientRetry('secret save all', () =>
      this.dataSource.transaction(async (manager) => {
        for (let i = 0; i < records.length; i += UPSERT_CHUNK) await upsert(manager, records.slice(i, i + UPSERT_CHUNK));
      }),
    );
  }

  /**
   * The same records read and written inside `tx`, so a change of a secret
   * commits together with its audit entry (the Admin API's `PUT
   * /api/secrets/{ref}`).
   */
  within(tx: Transaction): SecretRecords {
    const manager = managerOf(tx);
    return {
      find: async (reference) => {
        const row = await manager.getRepository(SecretEntity).findOneBy({ reference });
        return row ? toRecord(row) : null;
      },
      list: async () => (await manager.getRepository(SecretEntity).find({ order: { reference: 'ASC' } })).map(toRecord),
      save: (record) => upsert(manager, [record]),
      saveAll: async (records) => {
        for (let i = 0; i < records.length; i += UPSERT_CHUNK) await upsert(manager, records.slice(i, i + UPSERT_CHUNK));
      },
      delete: async (reference) => ((await manager.getRepository(SecretEntity).delete({ reference })).affected ?? 0) > 0,
    };
  }

  async delete(reference: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(SecretEntity).delete({ reference });
    return (result.affected ?? 0) > 0;
  }
}

async function upsert(manager: EntityManager, records: SecretRecord[]): Promise<void> {
  await manager.getRepository(SecretEntity).upsert(
    records.map((r) => ({ ...r })),
    { conflictPaths: ['reference'], skipUpdateIfNoValuesChanged: false },
  );
}

function toRecord(row: SecretEntity): SecretRecord {
  return {
    reference: row.reference,
    provider: row.provider,
    ciphertext: row.ciphertext,
    keyId: row.keyId,
    version: Number(row.version),
    createdAt: row.createdAt,
    rotatedAt: row.rotatedAt ?? null,
  };
}
