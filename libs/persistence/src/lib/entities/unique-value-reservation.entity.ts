import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { idColumn, stringColumn, timestampColumn } from './column-types';
import { MeshObjectEntity } from './mesh-object.entity';

/**
 * A value a composer rule handed out (jdoe, jdoe2, …). The primary key is the
 * guarantee: two engines racing for the same value cannot both insert it.
 */
@Entity({ name: 'IM_UniqueValueReservations' })
@Index('IX_IM_UniqueValueReservations_meshObjectId', ['meshObjectId'])
export class UniqueValueReservationEntity {
  /** The uniqueness domain, e.g. 'accountName'. */
  @PrimaryColumn(stringColumn(128, { primaryKeyConstraintName: 'PK_IM_UniqueValueReservations' }))
  scope: string;

  /** Normalized (case-folded) so jdoe and JDoe collide. */
  @PrimaryColumn(stringColumn(255, { primaryKeyConstraintName: 'PK_IM_UniqueValueReservations' }))
  value: string;

  @Column(idColumn())
  @ForeignKey(() => MeshObjectEntity, { name: 'FK_IM_UniqueValueReservations_meshObjectId', onDelete: 'CASCADE' })
  meshObjectId: string;

  @Column(idColumn({ nullable: true }))
  ruleId: string | null;

  @Column(timestampColumn())
  reservedAt: Date;
}
