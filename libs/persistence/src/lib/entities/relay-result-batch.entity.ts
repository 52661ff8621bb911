import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { booleanColumn, idColumn, integerColumn, timestampColumn } from './column-types';
import { RelayWorkItemEntity } from './relay-work-item.entity';

/**
 * One import batch a relay streamed for a work item, numbered from 1 over the
 * whole item. Staged by the hub when it arrives (its content in
 * `IM_RelayBatchParts`), applied by the engine in the batch's own
 * transaction: the primary key stores each batch once however often it is
 * sent, and `appliedAt` is set once, so a batch is never applied twice.
 */
@Entity({ name: 'IM_RelayResultBatches' })
export class RelayResultBatchEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RelayResultBatches' }))
  @ForeignKey(() => RelayWorkItemEntity, { name: 'FK_IM_RelayResultBatches_workItemId', onDelete: 'CASCADE' })
  workItemId: string;

  @PrimaryColumn(integerColumn({ primaryKeyConstraintName: 'PK_IM_RelayResultBatches' }))
  batchSeq: number;

  /** The end of the item's stream; it may carry no changes. */
  @Column(booleanColumn({ default: false }))
  isLast: boolean;

  @Column(timestampColumn())
  stagedAt: Date;

  /** Null while the batch waits for the engine; its content is dropped when it is set. */
  @Column(timestampColumn({ nullable: true }))
  appliedAt: Date | null;
}
