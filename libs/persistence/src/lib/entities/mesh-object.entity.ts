import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonValue } from './column-types';

/** A mesh attribute and where it came from, for precedence decisions. */
export interface MeshAttributeValue {
  /**
   * The value: one value, a list of values (multi-valued attributes), or
   * null when its holder cleared it. Always null for reference attributes,
   * whose values are rows of IM_MeshReferences.
   */
  value: JsonValue;
  /** The connector holding it; null when a composer rule computed it. */
  connectorId: string | null;
  ruleId?: string;
  /** ISO 8601 time the value or its holder last changed. */
  at: string;
  /** Set for reference attributes: one linked object (a manager) or a list (members); the links are IM_MeshReferences rows. */
  reference?: 'one' | 'many';
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

  /** Every attribute with its holder; the values of reference attributes live in IM_MeshReferences, so a large group is never one huge JSON value. */
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
