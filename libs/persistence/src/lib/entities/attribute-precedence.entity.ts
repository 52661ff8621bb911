import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { idColumn, integerColumn, stringColumn } from './column-types';
import { ConnectorEntity } from './connector.entity';

/** Which connector wins a mesh attribute: the higher rank wins, a lower one never overwrites. */
@Entity({ name: 'IM_AttributePrecedence' })
// MySQL needs an index led by the foreign key column and would otherwise add an unnamed one.
@Index('IX_IM_AttributePrecedence_connectorId', ['connectorId'])
export class AttributePrecedenceEntity {
  @PrimaryColumn(stringColumn(64, { primaryKeyConstraintName: 'PK_IM_AttributePrecedence' }))
  objectType: string;

  @PrimaryColumn(stringColumn(128, { primaryKeyConstraintName: 'PK_IM_AttributePrecedence' }))
  attributeName: string;

  @PrimaryColumn(idColumn({ primaryKeyConstraintName: 'PK_IM_AttributePrecedence' }))
  @ForeignKey(() => ConnectorEntity, { name: 'FK_IM_AttributePrecedence_connectorId', onDelete: 'CASCADE' })
  connectorId: string;

  @Column(integerColumn())
  rank: number;
}
