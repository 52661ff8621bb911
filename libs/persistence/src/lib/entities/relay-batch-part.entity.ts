import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { idColumn, integerColumn, jsonColumn } from './column-types';
import { RelayResultBatchEntity } from './relay-result-batch.entity';

/**
 * A staged import batch's JSON, cut into consecutive pieces. A batch of a few
 * hundred directory entries runs to megabytes, and a portable JSON column is
 * TEXT on MariaDB/MySQL (64 KiB); pieces of bounded size fit every dialect
 * without a dialect-only column type. Deleted once the batch is applied.
 */
@Entity({ name: 'IM_RelayBatchParts' })
@ForeignKey(() => RelayResultBatchEntity, ['workItemId', 'batchSeq'], ['workItemId', 'batchSeq'], { name: 'FK_IM_RelayBatchParts_workItemId_batchSeq', onDelete: 'CASCADE' })
export class RelayBatchPartEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RelayBatchParts' }))
  workItemId: string;

  @PrimaryColumn(integerColumn({ primaryKeyConstraintName: 'PK_IM_RelayBatchParts' }))
  batchSeq: number;

  /** Position of the piece within the batch's JSON text, from 0. */
  @PrimaryColumn(integerColumn({ primaryKeyConstraintName: 'PK_IM_RelayBatchParts' }))
  part: number;

  /** A slice of the JSON text, itself stored as a JSON string (Unicode-safe on every dialect). */
  @Column(jsonColumn())
  content: string;
}
