import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import type { SyncRuleKind } from '@identitymesh/domain';
import { booleanColumn, idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';
import { ConnectorEntity } from './connector.entity';

/** Any rule of the sync model; `definition` holds the kind-specific declarative part. */
@Entity({ name: 'IM_SyncRules' })
@Index('IX_IM_SyncRules_connectorId_kind_ordinal', ['connectorId', 'kind', 'ordinal'])
export class SyncRuleEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_SyncRules' }))
  id: string;

  /** Null for rules that belong to no single connector (composer rules). */
  @Column(idColumn({ nullable: true }))
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_SyncRules_connectorId', onDelete: 'CASCADE' })
  connectorId: string | null;

  @Column(stringColumn(32))
  kind: SyncRuleKind;

  @Column(stringColumn(64))
  objectType: string;

  @Column(stringColumn(255))
  name: string;

  /** Evaluation order within a kind; for join rules the first single match wins. */
  @Column(integerColumn())
  ordinal: number;

  @Column(jsonColumn())
  definition: JsonObject;

  @Column(booleanColumn({ default: true }))
  enabled: boolean;

  @Column(integerColumn({ default: 1 }))
  version: number;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  updatedAt: Date;
}
