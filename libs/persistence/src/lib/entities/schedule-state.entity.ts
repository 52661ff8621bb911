import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import type { ScheduleMarkerOutcome } from '@identitymesh/domain';
import { idColumn, integerColumn, stringColumn, timestampColumn } from './column-types';
import { ConnectorEntity } from './connector.entity';

/**
 * The scheduler's marker for one connector's schedule: the slot it stands at
 * and the schedule it was set under. Kept apart from `IM_Connectors`, which
 * the Admin API writes, so an edit of the connector can never move it back.
 * Every change is a compare-and-set on `version`, in the same transaction as
 * the chain run it queues: of two engines that see the same due slot, one
 * fires it and the other changes nothing.
 */
@Entity({ name: 'IM_ScheduleStates' })
export class ScheduleStateEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_ScheduleStates' }))
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_ScheduleStates_connectorId', onDelete: 'CASCADE' })
  connectorId: string;

  /** SHA-256 of the schedule (and whether it was in effect) the marker was set under; another one means it was changed. */
  @Column(stringColumn(64))
  scheduleKey: string;

  /** The slot the marker stands at (whole seconds): the last fire, fired or skipped, or when the schedule was first seen. */
  @Column(timestampColumn())
  markAt: Date;

  @Column(integerColumn({ default: 1 }))
  version: number;

  @Column(stringColumn(16))
  lastOutcome: ScheduleMarkerOutcome;

  /** The chain the last queued fire started. */
  @Column(idColumn({ nullable: true }))
  lastChainId: string | null;

  /** The engine that moved the marker last. */
  @Column(idColumn())
  updatedBy: string;

  @Column(timestampColumn())
  updatedAt: Date;
}
