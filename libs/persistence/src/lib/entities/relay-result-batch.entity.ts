import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { idColumn, integerColumn, timestampColumn } from './column-types';
import { RelayWorkItemEntity } from './relay-work-item.entity';

/**
 * Marks a streamed import batch from a relay as applied. Inserted in the
 * batch's own transaction, so a batch delivered twice is applied once.
 */
@Entity({ name: 'IM_RelayResultBatches' })
export class RelayResultBatchEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RelayResultBatches' }))
  @ForeignKey(() => RelayWorkItemEntity, { name: 'FK_IM_RelayResultBatches_workItemId', onDelete: 'CASCADE' })
  workItemId: string;

  @PrimaryColumn(integerColumn({ primaryKeyConstraintName: 'PK_IM_RelayResultBatches' }))
  batchSeq: number;

  @Column(timestampColumn())
  appliedAt: Date;
}
