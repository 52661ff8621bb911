import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { RunChainState, RunProfile, RunStatus, RunTrigger } from '@identitymesh/domain';
import { bigintColumn, booleanColumn, idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import { ConnectorEntity } from './connector.entity';

/** One execution of a run profile against one connector, queued until an engine picks it up. */
@Entity({ name: 'IM_Runs' })
@Index('IX_IM_Runs_status_queuedAt', ['status', 'queuedAt'])
@Index('IX_IM_Runs_connectorId_queuedAt', ['connectorId', 'queuedAt'])
@Index('IX_IM_Runs_chainState', ['chainState'])
export class RunEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_Runs' }))
  id: string;

  @Column(idColumn())
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_Runs_connectorId', onDelete: 'CASCADE' })
  connectorId: string;

  @Column(stringColumn(32))
  profile: RunProfile;

  @Column(stringColumn(32))
  status: RunStatus;

  @Column(stringColumn(16))
  trigger: RunTrigger;

  /** A dry run: computes and reports every change and writes none. */
  @Column(booleanColumn({ default: false }))
  preview: boolean;

  @Column(stringColumn(255, { nullable: true }))
  requestedBy: string | null;

  @Column(idColumn({ nullable: true }))
  engineInstanceId: string | null;

  /** The lease's fencing token at start; writes carrying an older token are refused. */
  @Column(bigintColumn({ nullable: true }))
  fencingToken: number | null;

  @Column(integerColumn({ default: 0 }))
  added: number;

  @Column(integerColumn({ default: 0 }))
  updated: number;

  @Column(integerColumn({ default: 0 }))
  deleted: number;

  @Column(integerColumn({ default: 0 }))
  joined: number;

  @Column(integerColumn({ default: 0 }))
  projected: number;

  @Column(integerColumn({ default: 0 }))
  exported: number;

  @Column(integerColumn({ default: 0 }))
  errors: number;

  /** Deletes stopped by the deletion threshold, waiting for an operator. */
  @Column(integerColumn({ default: 0 }))
  heldDeletes: number;

  /**
   * Times the run was found running under an engine that had stopped without
   * finishing it (kill -9, host crash) and was queued again to resume. Bounded,
   * so a run that brings its engine down every time is failed, not retried forever.
   */
  @Column(integerColumn({ default: 0 }))
  recoveries: number;

  @Column(stringColumn(255, { nullable: true }))
  deletesApprovedBy: string | null;

  @Column(timestampColumn({ nullable: true }))
  deletesApprovedAt: Date | null;

  @Column(stringColumn(2000, { nullable: true }))
  message: string | null;

  @Column(timestampColumn())
  queuedAt: Date;

  @Column(timestampColumn({ nullable: true }))
  startedAt: Date | null;

  @Column(timestampColumn({ nullable: true }))
  finishedAt: Date | null;

  /** The schedule fire this run belongs to; its runs share the id. Null for a run queued by hand. */
  @Column(idColumn({ nullable: true }))
  chainId: string | null;

  /** This run's place in its chain, from 0. */
  @Column(integerColumn({ nullable: true }))
  chainStep: number | null;

  /** The chain's profiles as they were when it fired, so an edited schedule does not change a chain under way. */
  @Column(jsonColumn({ nullable: true }))
  chainProfiles: RunProfile[] | null;

  /**
   * `open` until the scheduler has acted on this run's end: `continued` (the
   * next step is queued), `completed` or `stopped`. A connector with an open
   * chain run has a chain under way, and its schedule's fires are skipped.
   */
  @Column(stringColumn(16, { nullable: true }))
  chainState: RunChainState | null;
}
