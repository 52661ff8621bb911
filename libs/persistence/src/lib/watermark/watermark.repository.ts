import type { DataSource } from 'typeorm';
import { WatermarkEntity } from '../entities/watermark.entity';
import { withTransientRetry } from '../retry/retry-policy';
import { managerOf, Transaction } from '../transaction/transaction';

/**
 * The watermark scope of an import of every object type of a connector: a
 * connector streams all its types as one import with one opaque position.
 * An import of chosen types keeps its own position under the type's name.
 */
export const ALL_OBJECT_TYPES = '*';

/**
 * The scope under which a full sync keeps its checkpoint (the last
 * connector-space object it committed, and its run): not an object type,
 * so it never meets an import's watermark.
 */
export const FULL_SYNC_CHECKPOINT = '#full-sync';

/** `IM_Watermarks`: where a delta import resumes, per connector and object type (or {@link ALL_OBJECT_TYPES}). */
export class WatermarkRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The committed position, or undefined before the first import that reported one. */
  async read(connectorId: string, objectType = ALL_OBJECT_TYPES): Promise<string | undefined> {
    const row = await withTransientRetry('watermark read', () => this.dataSource.getRepository(WatermarkEntity).findOneBy({ connectorId, objectType }));
    return row?.value;
  }

  /** The committed position with the run that wrote it, e.g. a full sync's checkpoint ({@link FULL_SYNC_CHECKPOINT}). */
  async readWithRun(connectorId: string, objectType: string): Promise<{ value: string; runId: string | null } | undefined> {
    const row = await withTransientRetry('watermark read', () => this.dataSource.getRepository(WatermarkEntity).findOneBy({ connectorId, objectType }));
    return row ? { value: row.value, runId: row.runId } : undefined;
  }

  /**
   * Moves the position, inside the transaction of the batch it covers: it
   * commits with that batch or not at all, so it is never ahead of the data.
   */
  async write(tx: Transaction, connectorId: string, value: string, runId: string, now: Date, objectType = ALL_OBJECT_TYPES): Promise<void> {
    await managerOf(tx)
      .createQueryBuilder()
      .insert()
      .into(WatermarkEntity)
      .values({ connectorId, objectType, value, runId, updatedAt: now })
      .orUpdate(['value', 'runId', 'updatedAt'], ['connectorId', 'objectType'])
      .updateEntity(false)
      .execute();
  }
}
