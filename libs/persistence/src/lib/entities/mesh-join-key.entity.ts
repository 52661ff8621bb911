import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { idColumn, stringColumn } from './column-types';
import { MeshObjectEntity } from './mesh-object.entity';

/**
 * The normalized values of the mesh attributes that join rules match on,
 * indexed so a batch of CSOs finds its join candidates in one query.
 */
@Entity({ name: 'IM_MeshJoinKeys' })
@Index('IX_IM_MeshJoinKeys_objectType_attributeName_value', ['objectType', 'attributeName', 'value'])
export class MeshJoinKeyEntity {
  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_MeshJoinKeys' }))
  @ForeignKey(() => MeshObjectEntity, { name: 'FK_IM_MeshJoinKeys_meshObjectId', onDelete: 'CASCADE' })
  meshObjectId: string;

  /** Copied from the mesh object so candidate lookups need no join. */
  @Column(stringColumn(64))
  objectType: string;

  @PrimaryColumn(stringColumn(128, { primaryKeyConstraintName: 'PK_IM_MeshJoinKeys' }))
  attributeName: string;

  @PrimaryColumn(stringColumn(255, { primaryKeyConstraintName: 'PK_IM_MeshJoinKeys' }))
  value: string;
}
