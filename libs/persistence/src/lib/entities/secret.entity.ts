import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SecretProviderName } from '@identitymesh/domain';
import { integerColumn, stringColumn, textColumn, timestampColumn } from './column-types';

/** An encrypted secret that connector configs point to by reference. */
@Entity({ name: 'IM_Secrets' })
export class SecretEntity {
  @PrimaryColumn(stringColumn(255, { primaryKeyConstraintName: 'PK_IM_Secrets' }))
  reference: string;

  @Column(stringColumn(32))
  provider: SecretProviderName;

  @Column(textColumn())
  ciphertext: string;

  /** The key that encrypted it, so rotation can re-encrypt what the old key wrote. */
  @Column(stringColumn(128))
  keyId: string;

  @Column(integerColumn({ default: 1 }))
  version: number;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn({ nullable: true }))
  rotatedAt: Date | null;
}
