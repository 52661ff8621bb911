import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { idColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';
import { RunEntity } from './run.entity';

/** A per-object failure within a run; the run carries on with the other objects. */
@Entity({ name: 'IM_RunObjectErrors' })
@Index('IX_IM_RunObjectErrors_runId', ['runId'])
export class RunObjectErrorEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RunObjectErrors' }))
  id: string;

  @Column(idColumn())
  @ForeignKey(() => RunEntity, { name: 'FK_IM_RunObjectErrors_runId', onDelete: 'CASCADE' })
  runId: string;

  /** No foreign key: the error report outlives the CSO it was about. */
  @Column(idColumn({ nullable: true }))
  csObjectId: string | null;

  @Column(stringColumn(255, { nullable: true }))
  anchor: string | null;

  @Column(stringColumn(64))
  code: string;

  @Column(stringColumn(2000))
  message: string;

  @Column(jsonColumn({ nullable: true }))
  detail: JsonObject | null;

  @Column(timestampColumn())
  createdAt: Date;
}
