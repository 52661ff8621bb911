import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { ExportOperation, ExportStatus } from '@identitymesh/domain';
import { idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';
import { ConnectorSpaceObjectEntity } from './connector-space-object.entity';

/** A pending export of one CSO to its connected system. */
@Entity({ name: 'IM_ExportQueue' })
@Index('IX_IM_ExportQueue_connectorId_status_nextAttemptAt', ['connectorId', 'status', 'nextAttemptAt'])
@Index('IX_IM_ExportQueue_csObjectId', ['csObjectId'])
export class ExportQueueItemEntity {
  /** Stable across retries, so an export that already arrived is reconciled, not repeated. */
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_ExportQueue' }))
  id: string;

  /**
   * No foreign key: the CSO's cascade already removes the row, and a second
   * cascade path from IM_Connectors is one SQL Server rejects.
   */
  @Column(idColumn())
  connectorId: string;

  @Column(idColumn())
  @ForeignKey(() => ConnectorSpaceObjectEntity, { name: 'FK_IM_ExportQueue_csObjectId', onDelete: 'CASCADE' })
  csObjectId: string;

  @Column(stringColumn(16))
  operation: ExportOperation;

  @Column(jsonColumn())
  changes: JsonObject;

  @Column(stringColumn(32))
  status: ExportStatus;

  @Column(integerColumn({ default: 0 }))
  attempts: number;

  /** Backoff: not retried before this time. Null means as soon as possible. */
  @Column(timestampColumn({ nullable: true }))
  nextAttemptAt: Date | null;

  @Column(stringColumn(2000, { nullable: true }))
  lastError: string | null;

  @Column(idColumn({ nullable: true }))
  runId: string | null;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  updatedAt: Date;
}
