import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { KeyRingPurpose } from '@identitymesh/domain';
import { stringColumn, textColumn, timestampColumn } from './column-types';

/**
 * A signing key shared by all instances (sessions, CSRF, relay tokens). Keys
 * overlap in time so a rotation never invalidates what the previous key signed.
 */
@Entity({ name: 'IM_KeyRingKeys' })
@Index('IX_IM_KeyRingKeys_purpose_activatesAt', ['purpose', 'activatesAt'])
export class KeyRingKeyEntity {
  /** The key id (kid) carried in what the key signs. */
  @PrimaryColumn(stringColumn(64, { primaryKeyConstraintName: 'PK_IM_KeyRingKeys' }))
  id: string;

  @Column(stringColumn(32))
  purpose: KeyRingPurpose;

  /** Encrypted key material. */
  @Column(textColumn())
  material: string;

  @Column(stringColumn(32))
  algorithm: string;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  activatesAt: Date;

  @Column(timestampColumn())
  expiresAt: Date;

  @Column(timestampColumn({ nullable: true }))
  revokedAt: Date | null;
}
