import { Table, TableForeignKey } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Work-item payloads and results of any size: those too long for their
 * column (TEXT, 64 KiB, on MariaDB/MySQL) are kept in bounded pieces
 * (`IM_RelayItemParts`), deleted with their item. Self-contained like every
 * migration: types are the driver's own names for the portable types the
 * entities use.
 */
export class RelayItemParts1772668800000 implements MigrationInterface {
  name = 'RelayItemParts1772668800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const integer = driver.normalizeType({ type: 'integer' });
    const string = driver.normalizeType({ type: String });
    const json = driver.normalizeType({ type: 'simple-json' });

    await queryRunner.createTable(
      new Table({
        name: 'IM_RelayItemParts',
        columns: [
          { name: 'workItemId', type: string, length: '36', isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayItemParts' },
          { name: 'field', type: string, length: '16', isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayItemParts' },
          { name: 'part', type: integer, isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayItemParts' },
          { name: 'content', type: json },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_IM_RelayItemParts_workItemId',
            columnNames: ['workItemId'],
            referencedTableName: 'IM_RelayWorkItems',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
            onUpdate: 'NO ACTION',
          }),
        ],
      }),
      false,
      true,
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    // Items kept in pieces have no place in the earlier schema (on MariaDB/MySQL they do not fit its columns).
    await queryRunner.query(
      `DELETE FROM ${driver.escape('IM_RelayWorkItems')} WHERE ${driver.escape('id')} IN (SELECT ${driver.escape('workItemId')} FROM ${driver.escape('IM_RelayItemParts')})`,
    );
    await queryRunner.dropTable('IM_RelayItemParts', false, true, true);
  }
}
