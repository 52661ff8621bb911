import { Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';
import { idColumn, stringColumn, timestampColumn } from './column-types';
import { RelayEntity } from './relay.entity';

/** A one-time enrollment token for a new relay of a group. */
@Entity({ name: 'IM_RelayEnrollments' })
@Unique('UQ_IM_RelayEnrollments_tokenHash', ['tokenHash'])
@Index('IX_IM_RelayEnrollments_relayId', ['relayId'])
export class RelayEnrollmentEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RelayEnrollments' }))
  id: string;

  /** Only a hash: the token is shown once to the operator and never stored. */
  @Column(stringColumn(128))
  tokenHash: string;

  @Column(stringColumn(128))
  relayGroup: string;

  @Column(timestampColumn())
  expiresAt: Date;

  @Column(timestampColumn({ nullable: true }))
  usedAt: Date | null;

  /** The relay this token enrolled. */
  @Column(idColumn({ nullable: true }))
  @ForeignKey(() => RelayEntity, { name: 'FK_IM_RelayEnrollments_relayId', onDelete: 'SET NULL' })
  relayId: string | null;

  @Column(stringColumn(255))
  createdBy: string;

  @Column(timestampColumn())
  createdAt: Date;
}
