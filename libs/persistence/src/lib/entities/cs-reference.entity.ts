import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { idColumn, stringColumn } from './column-types';
import { ConnectorSpaceObjectEntity } from './connector-space-object.entity';

/**
 * One value of a multi-valued reference attribute of a CSO (a group's
 * `member`, a user's `manager`), kept as rows so large groups are diffed
 * set-based instead of as one huge JSON array.
 */
@Entity({ name: 'IM_CsReferences' })
@Index('IX_IM_CsReferences_targetCsObjectId', ['targetCsObjectId'])
export class CsReferenceEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_CsReferences' }))
  @ForeignKey(() => ConnectorSpaceObjectEntity, { name: 'FK_IM_CsReferences_csObjectId', onDelete: 'CASCADE' })
  csObjectId: string;

  @PrimaryColumn(stringColumn(128, { primaryKeyConstraintName: 'PK_IM_CsReferences' }))
  attributeName: string;

  /** The reference as the system gave it (anchor or DN hash), kept until it resolves. */
  @PrimaryColumn(stringColumn(255, { primaryKeyConstraintName: 'PK_IM_CsReferences' }))
  targetKey: string;

  /**
   * The CSO the reference resolved to. No foreign key: a second one to the
   * same table would be a second cascade path, which SQL Server rejects; the
   * engine clears it when the target goes away.
   */
  @Column(idColumn({ nullable: true }))
  targetCsObjectId: string | null;
}
