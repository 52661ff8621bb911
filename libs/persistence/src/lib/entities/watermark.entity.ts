import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { idColumn, stringColumn, textColumn, timestampColumn } from './column-types';
import { ConnectorEntity } from './connector.entity';

/**
 * Where a delta import of one object type resumes. Written in the same
 * transaction as the batch it covers, never before.
 */
@Entity({ name: 'IM_Watermarks' })
export class WatermarkEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_Watermarks' }))
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_Watermarks_connectorId', onDelete: 'CASCADE' })
  connectorId: string;

  @PrimaryColumn(stringColumn(64, { primaryKeyConstraintName: 'PK_IM_Watermarks' }))
  objectType: string;

  /** Opaque to the engine: USN, modifyTimestamp, contextCSN, rowversion, content hash. */
  @Column(textColumn())
  value: string;

  @Column(idColumn({ nullable: true }))
  runId: string | null;

  @Column(timestampColumn())
  updatedAt: Date;
}
