import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ClusterMode, EngineInstanceStatus } from '@identitymesh/domain';
import { idColumn, integerColumn, stringColumn, timestampColumn } from './column-types';

/** A running (or once running) engine process in the engine registry. */
@Entity({ name: 'IM_EngineInstances' })
@Index('IX_IM_EngineInstances_status_heartbeatAt', ['status', 'heartbeatAt'])
export class EngineInstanceEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_EngineInstances' }))
  id: string;

  @Column(stringColumn(255))
  host: string;

  @Column(integerColumn())
  pid: number;

  @Column(stringColumn(64))
  version: string;

  @Column(stringColumn(16))
  mode: ClusterMode;

  @Column(stringColumn(16))
  status: EngineInstanceStatus;

  @Column(timestampColumn())
  startedAt: Date;

  @Column(timestampColumn())
  heartbeatAt: Date;

  @Column(timestampColumn({ nullable: true }))
  stoppedAt: Date | null;
}
