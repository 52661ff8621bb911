import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';
import { idColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';

/** An Admin API key. The secret part is stored only as a hash. */
@Entity({ name: 'IM_ApiKeys' })
@Unique('UQ_IM_ApiKeys_prefix', ['prefix'])
export class ApiKeyEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_ApiKeys' }))
  id: string;

  @Column(stringColumn(128))
  name: string;

  /** The non-secret lookup part shown to users, so a presented key is found without scanning hashes. */
  @Column(stringColumn(32))
  prefix: string;

  @Column(stringColumn(255))
  secretHash: string;

  @Column(jsonColumn())
  permissions: string[];

  @Column(stringColumn(255))
  createdBy: string;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn({ nullable: true }))
  expiresAt: Date | null;

  @Column(timestampColumn({ nullable: true }))
  revokedAt: Date | null;

  @Column(timestampColumn({ nullable: true }))
  lastUsedAt: Date | null;
}
