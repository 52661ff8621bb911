import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { RelayWorkKind, RelayWorkStatus } from '@identitymesh/domain';
import { idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';
import { ConnectorEntity } from './connector.entity';

/** Work for a relay agent of a group; any relay of the group may claim it. */
@Entity({ name: 'IM_RelayWorkItems' })
@Index('IX_IM_RelayWorkItems_relayGroup_status_createdAt', ['relayGroup', 'status', 'createdAt'])
@Index('IX_IM_RelayWorkItems_connectorId', ['connectorId'])
@Index('IX_IM_RelayWorkItems_connectorId_runId', ['connectorId', 'runId'])
@Index('IX_IM_RelayWorkItems_connectorId_workKey', ['connectorId', 'workKey'])
@Index('IX_IM_RelayWorkItems_relayId_status', ['relayId', 'status'])
export class RelayWorkItemEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RelayWorkItems' }))
  id: string;

  @Column(stringColumn(128))
  relayGroup: string;

  /** Null for work that concerns the relay itself rather than a connector. */
  @Column(idColumn({ nullable: true }))
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_RelayWorkItems_connectorId', onDelete: 'CASCADE' })
  connectorId: string | null;

  /** The run an import or export item belongs to; a resumed run goes on with its item. */
  @Column(idColumn({ nullable: true }))
  runId: string | null;

  /** An export batch's identity (a hash of its change ids), so a batch sent again after an engine restart reuses its item. */
  @Column(stringColumn(128, { nullable: true }))
  workKey: string | null;

  @Column(stringColumn(32))
  kind: RelayWorkKind;

  @Column(jsonColumn())
  payload: JsonObject;

  @Column(stringColumn(16))
  status: RelayWorkStatus;

  /** The relay that claimed the item. */
  @Column(idColumn({ nullable: true }))
  relayId: string | null;

  /** Deliveries so far; every claim adds one, so it also tells one delivery's messages from another's. */
  @Column(integerColumn({ default: 0 }))
  attempts: number;

  @Column(timestampColumn())
  deadlineAt: Date;

  @Column(jsonColumn({ nullable: true }))
  result: JsonObject | null;

  @Column(timestampColumn({ nullable: true }))
  resultAppliedAt: Date | null;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  updatedAt: Date;
}
