import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { idColumn, stringColumn, timestampColumn } from './column-types';

export type RelayStatus = 'active' | 'revoked';

/** An enrolled relay agent. */
@Entity({ name: 'IM_Relays' })
@Unique('UQ_IM_Relays_name', ['name'])
@Index('IX_IM_Relays_relayGroup', ['relayGroup'])
export class RelayEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_Relays' }))
  id: string;

  @Column(stringColumn(128))
  name: string;

  @Column(stringColumn(128))
  relayGroup: string;

  @Column(stringColumn(255, { nullable: true }))
  host: string | null;

  @Column(stringColumn(64, { nullable: true }))
  version: string | null;

  /** Only a hash: the relay's credential itself is never stored. */
  @Column(stringColumn(255))
  credentialHash: string;

  @Column(stringColumn(16))
  status: RelayStatus;

  @Column(timestampColumn())
  enrolledAt: Date;

  @Column(timestampColumn({ nullable: true }))
  revokedAt: Date | null;

  @Column(timestampColumn({ nullable: true }))
  lastSeenAt: Date | null;
}
