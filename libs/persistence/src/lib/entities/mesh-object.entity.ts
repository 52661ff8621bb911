import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonValue } from './column-types';

/** A single-valued mesh attribute and where it came from, for precedence decisions. */
export interface MeshAttributeValue {
  value: JsonValue;
  connectorId: string;
  ruleId?: string;
  /** ISO 8601 time the value was contributed. */
  at: string;
}

/** The central identity (person, group, …). */
@Entity({ name: 'IM_MeshObjects' })
@Index('IX_IM_MeshObjects_objectType', ['objectType'])
export class MeshObjectEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_MeshObjects' }))
  id: string;

  @Column(stringColumn(64))
  objectType: string;

  @Column(stringColumn(255, { nullable: true }))
  displayName: string | null;

  /** Single-valued attributes only; references live in IM_MeshReferences. */
  @Column(jsonColumn())
  attributes: Record<string, MeshAttributeValue>;

  @Column(stringColumn(64))
  hash: string;

  /** Optimistic concurrency: writers update `WHERE version = :seen` and bump it. */
  @Column(integerColumn({ default: 1 }))
  version: number;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  updatedAt: Date;
}
