import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { bigintColumn, idColumn, timestampColumn } from './column-types';
import { ConnectorEntity } from './connector.entity';

/**
 * Which engine owns a connector until `expiresAt`. The fencing token grows
 * with every takeover, so a stalled former owner's late writes are refused.
 */
@Entity({ name: 'IM_ConnectorLeases' })
export class ConnectorLeaseEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_ConnectorLeases' }))
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_ConnectorLeases_connectorId', onDelete: 'CASCADE' })
  connectorId: string;

  /** No foreign key: a lease is taken over by rewriting this column, and must survive pruning of dead instances. */
  @Column(idColumn())
  engineInstanceId: string;

  @Column(bigintColumn())
  fencingToken: number;

  @Column(timestampColumn())
  acquiredAt: Date;

  @Column(timestampColumn())
  expiresAt: Date;
}
