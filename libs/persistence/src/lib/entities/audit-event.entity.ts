import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { AuditActorType } from '@identitymesh/domain';
import { idColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonValue } from './column-types';

/**
 * Who changed what, when, with before and after. No foreign keys on purpose:
 * the audit trail must outlive the connectors, runs and rules it mentions.
 */
@Entity({ name: 'IM_AuditEvents' })
@Index('IX_IM_AuditEvents_at_id', ['at', 'id'])
@Index('IX_IM_AuditEvents_actor_at', ['actor', 'at'])
@Index('IX_IM_AuditEvents_targetType_targetId_at', ['targetType', 'targetId', 'at'])
export class AuditEventEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_AuditEvents' }))
  id: string;

  @Column(timestampColumn())
  at: Date;

  @Column(stringColumn(16))
  actorType: AuditActorType;

  @Column(stringColumn(255))
  actor: string;

  @Column(stringColumn(128))
  action: string;

  @Column(stringColumn(64))
  targetType: string;

  @Column(stringColumn(255, { nullable: true }))
  targetId: string | null;

  @Column(idColumn({ nullable: true }))
  runId: string | null;

  @Column(idColumn({ nullable: true }))
  ruleId: string | null;

  @Column(jsonColumn({ nullable: true }))
  before: JsonValue;

  @Column(jsonColumn({ nullable: true }))
  after: JsonValue;

  @Column(stringColumn(64, { nullable: true }))
  correlationId: string | null;
}
