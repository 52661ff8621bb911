import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';
import type { ConnectorType } from '@identitymesh/domain';
import { booleanColumn, idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';

/** One connected system: its configuration, schedule and safety limits. */
@Entity({ name: 'IM_Connectors' })
@Unique('UQ_IM_Connectors_name', ['name'])
export class ConnectorEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_Connectors' }))
  id: string;

  @Column(stringColumn(128))
  name: string;

  @Column(stringColumn(32))
  type: ConnectorType;

  @Column(stringColumn(1024, { nullable: true }))
  description: string | null;

  /** Connection settings; secrets appear only as references into IM_Secrets, never as values. */
  @Column(jsonColumn())
  config: JsonObject;

  /** The schema: object types, their attributes and each type's anchor attribute. */
  @Column(jsonColumn())
  objectTypes: JsonObject[];

  /** Cron or interval plus the run profiles to run in order; null means manual runs only. */
  @Column(jsonColumn({ nullable: true }))
  schedule: JsonObject | null;

  /** Set when a relay agent of this group runs the connector instead of the engine. */
  @Column(stringColumn(128, { nullable: true }))
  relayGroup: string | null;

  @Column(integerColumn({ default: 500 }))
  batchSize: number;

  @Column(integerColumn({ default: 500 }))
  deletionThresholdCount: number;

  @Column(integerColumn({ default: 10 }))
  deletionThresholdPercent: number;

  /** Failed objects after which a run stops; null means no limit. */
  @Column(integerColumn({ nullable: true }))
  errorThreshold: number | null;

  @Column(integerColumn({ default: 5 }))
  exportMaxAttempts: number;

  @Column(booleanColumn({ default: true }))
  enabled: boolean;

  /** Bumped on every rule change so caches of compiled rules know they are stale. */
  @Column(integerColumn({ default: 1 }))
  rulesVersion: number;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  updatedAt: Date;
}
