import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { idColumn, integerColumn, jsonColumn, stringColumn } from './column-types';
import type { JsonValue } from './column-types';
import { RunEntity } from './run.entity';

export type RunChangeTarget = 'mesh' | 'connector-space' | 'export';

/** Before and after of one attribute. */
export interface AttributeChange {
  before: JsonValue;
  after: JsonValue;
}

/**
 * The per-object, attribute-by-attribute change report of a run: what a
 * preview would do, and the audit trail of what a real run did.
 */
@Entity({ name: 'IM_RunChanges' })
@Index('IX_IM_RunChanges_runId_seq', ['runId', 'seq'])
export class RunChangeEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_RunChanges' }))
  id: string;

  @Column(idColumn())
  @ForeignKey(() => RunEntity, { name: 'FK_IM_RunChanges_runId', onDelete: 'CASCADE' })
  runId: string;

  /** Report order within the run. */
  @Column(integerColumn())
  seq: number;

  /** Anchor, DN or mesh object id, whichever identifies the object to a reader. */
  @Column(stringColumn(255))
  objectRef: string;

  @Column(stringColumn(16))
  targetKind: RunChangeTarget;

  @Column(stringColumn(16))
  changeType: string;

  @Column(jsonColumn())
  attributes: Record<string, AttributeChange>;
}
