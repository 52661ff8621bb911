import { Column, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';
import type { ExportOperation, PendingImport } from '@identitymesh/domain';
import { booleanColumn, idColumn, integerColumn, jsonColumn, stringColumn, timestampColumn } from './column-types';
import type { JsonObject } from './column-types';
import { ConnectorEntity } from './connector.entity';
import { MeshObjectEntity } from './mesh-object.entity';

/** The engine's staged copy of one object of one connector (a CSO). */
@Entity({ name: 'IM_ConnectorSpaceObjects' })
@Unique('UQ_IM_ConnectorSpaceObjects_connectorId_objectType_anchor', ['connectorId', 'objectType', 'anchor'])
@Index('IX_IM_ConnectorSpaceObjects_connectorId_pendingImport', ['connectorId', 'pendingImport'])
@Index('IX_IM_ConnectorSpaceObjects_connectorId_dnHash', ['connectorId', 'dnHash'])
@Index('IX_IM_ConnectorSpaceObjects_meshObjectId', ['meshObjectId'])
export class ConnectorSpaceObjectEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_ConnectorSpaceObjects' }))
  id: string;

  @Column(idColumn())
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_ConnectorSpaceObjects_connectorId', onDelete: 'CASCADE' })
  connectorId: string;

  @Column(stringColumn(64))
  objectType: string;

  /**
   * The system's immutable id. A provisioned object that was not exported yet
   * carries a provisional anchor, so the column is never null.
   */
  @Column(stringColumn(255))
  anchor: string;

  /** Too long to index within SQL Server's and MySQL's key limits; DN lookups go through dnHash. */
  @Column(stringColumn(1024, { nullable: true }))
  distinguishedName: string | null;

  /** Hash of the normalized distinguished name. */
  @Column(stringColumn(64, { nullable: true }))
  dnHash: string | null;

  @Column(jsonColumn())
  attributes: JsonObject;

  @Column(stringColumn(64))
  attributeHash: string;

  @Column(idColumn({ nullable: true }))
  @ForeignKey(() => MeshObjectEntity, { name: 'FK_IM_ConnectorSpaceObjects_meshObjectId', onDelete: 'SET NULL' })
  meshObjectId: string | null;

  /** Outside the connector's scoping filter: staged, but never joined or projected. */
  @Column(booleanColumn({ default: false }))
  isDisconnector: boolean;

  @Column(stringColumn(16, { default: 'none' }))
  pendingImport: PendingImport;

  /** The attribute changes the next sync still has to apply to the mesh. */
  @Column(jsonColumn({ nullable: true }))
  pendingImportDelta: JsonObject | null;

  @Column(stringColumn(16, { nullable: true }))
  pendingExport: ExportOperation | null;

  @Column(idColumn({ nullable: true }))
  lastRunId: string | null;

  @Column(timestampColumn())
  createdAt: Date;

  @Column(timestampColumn())
  updatedAt: Date;

  /** Optimistic concurrency: writers update `WHERE version = :seen` and bump it. */
  @Column(integerColumn({ default: 1 }))
  version: number;
}
