import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { idColumn, stringColumn } from './column-types';
import { MeshObjectEntity } from './mesh-object.entity';

/**
 * One value of a reference or multi-valued mesh attribute (members, manager)
 * with the connector that contributed it, so references flow as links between
 * mesh objects rather than as copied DN strings.
 */
@Entity({ name: 'IM_MeshReferences' })
@Index('IX_IM_MeshReferences_targetMeshObjectId', ['targetMeshObjectId'])
export class MeshReferenceEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_MeshReferences' }))
  @ForeignKey(() => MeshObjectEntity, { name: 'FK_IM_MeshReferences_meshObjectId', onDelete: 'CASCADE' })
  meshObjectId: string;

  @PrimaryColumn(stringColumn(128, { primaryKeyConstraintName: 'PK_IM_MeshReferences' }))
  attributeName: string;

  /** No foreign key: a second path to IM_MeshObjects is a cascade cycle SQL Server rejects. */
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_MeshReferences' }))
  targetMeshObjectId: string;

  /** Kept when the connector goes away: the next sync recomputes precedence, not a cascade. */
  @Column(idColumn())
  connectorId: string;
}
