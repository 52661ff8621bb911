import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';

/** The last verification of a host's license file (license files are per host). */
@Entity({ name: 'IM_LicenseState' })
export class LicenseStateEntity {
  @PrimaryColumn(stringColumn(255, { primaryKeyConstraintName: 'PK_IM_LicenseState' }))
  host: string;

  @Column(stringColumn(128))
  licenseId: string;

  @Column(stringColumn(255))
  customer: string;

  @Column(timestampColumn())
  issuedAt: Date;

  @Column(timestampColumn())
  expiresAt: Date;

  @Column(jsonColumn())
  limits: JsonObject;

  @Column(stringColumn(128))
  fingerprint: string;

  @Column(stringColumn(32))
  status: string;

  @Column(timestampColumn())
  checkedAt: Date;
}
