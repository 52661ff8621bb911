import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { ExportOperation, ExportStatus } from '@identitymesh/domain';
import { idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';
import { ConnectorSpaceObjectEntity } from './connector-space-object.entity';

/** How a confirming import judged a succeeded export. */
export type ExportConfirmation = 'confirmed' | 'not-confirmed';

/**
 * A pending export of one CSO to its connected system. The rules it moves by
 * (supersede, claim, backoff, parking, holds) are in ExportQueueRepository.
 */
@Entity({ name: 'IM_ExportQueue' })
@Index('IX_IM_ExportQueue_connectorId_status_nextAttemptAt', ['connectorId', 'status', 'nextAttemptAt'])
@Index('IX_IM_ExportQueue_connectorId_status_operation_createdAt', ['connectorId', 'status', 'operation', 'createdAt'])
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

  /** The run that queued the change. */
  @Column(idColumn({ nullable: true }))
  runId: string | null;

  /**
   * Order among the items of one CSO: an item is sent only when no older
   * unfinished item of its CSO is left, so one object's changes never overtake
   * each other. Equal values (two writers racing) are ordered by id.
   */
  @Column(integerColumn({ default: 1 }))
  seq: number;

  /**
   * When the change was last handed to the connector. Null: never sent, so a
   * newer change of the object may still be merged into it; once sent, the
   * system may hold it and its content is never rewritten.
   */
  @Column(timestampColumn({ nullable: true }))
  lastAttemptAt: Date | null;

  /**
   * For a delete: the export run that checked it against the connector's
   * deletion threshold. Pending: that run let it through (or an approval
   * released it), so it may be sent; `held-for-approval`: that run held it and
   * waits for an operator. Null: not checked yet, and never sent.
   */
  @Column(idColumn({ nullable: true }))
  thresholdRunId: string | null;

  /** Set by a confirming import on a succeeded export; null while it waits for one. */
  @Column(stringColumn(16, { nullable: true }))
  confirmation: ExportConfirmation | null;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  updatedAt: Date;
}
