import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { idColumn, integerColumn, jsonColumn, stringColumn } from './column-types';
import { RelayWorkItemEntity } from './relay-work-item.entity';

/** Which JSON value of a work item a piece belongs to. */
export type RelayItemPartField = 'payload' | 'result';

/**
 * A work item's payload or result too long for its own column, cut into
 * consecutive pieces. An export item carries a whole export batch and its
 * result one result per change, and a portable JSON column is TEXT on
 * MariaDB/MySQL (64 KiB); pieces of bounded size fit every dialect without a
 * dialect-only column type. The item's column then holds only
 * `{"$parts": <count>}`. Deleted with the item.
 */
@Entity({ name: 'IM_RelayItemParts' })
export class RelayItemPartEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RelayItemParts' }))
  @ForeignKey(() => RelayWorkItemEntity, { name: 'FK_IM_RelayItemParts_workItemId', onDelete: 'CASCADE' })
  workItemId: string;

  @PrimaryColumn(stringColumn(16, { primaryKeyConstraintName: 'PK_IM_RelayItemParts' }))
  field: RelayItemPartField;

  /** Position of the piece within the value's JSON text, from 0. */
  @PrimaryColumn(integerColumn({ primaryKeyConstraintName: 'PK_IM_RelayItemParts' }))
  part: number;

  /** A slice of the JSON text, itself stored as a JSON string (Unicode-safe on every dialect). */
  @Column(jsonColumn())
  content: string;
}
