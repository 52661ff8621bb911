import { Table, TableColumn, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the scheduler keeps in SQL so that neither a restart nor a takeover by
 * another engine loses or repeats anything: the chain a scheduled run belongs
 * to (`IM_Runs.chainId`, `chainStep`, `chainProfiles`, `chainState`, with an
 * index that finds the open chain runs), and one marker per scheduled
 * connector (`IM_ScheduleStates`). Self-contained like every migration: types
 * are the driver's own names for the portable types the entities use.
 */
export class RunChainsAndScheduleStates1772496000000 implements MigrationInterface {
  name = 'RunChainsAndScheduleStates1772496000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const integer = driver.normalizeType({ type: 'integer' });
    const string = driver.normalizeType({ type: String });
    const timestamp = driver.normalizeType({ type: Date });
    const json = driver.normalizeType({ type: 'simple-json' });

    await queryRunner.addColumns('IM_Runs', [
      new TableColumn({ name: 'chainId', type: string, length: '36', isNullable: true }),
      new TableColumn({ name: 'chainStep', type: integer, isNullable: true }),
      new TableColumn({ name: 'chainProfiles', type: json, isNullable: true }),
      new TableColumn({ name: 'chainState', type: string, length: '16', isNullable: true }),
    ]);
    await queryRunner.createIndex('IM_Runs', new TableIndex({ name: 'IX_IM_Runs_chainState', columnNames: ['chainState'] }));

    await queryRunner.createTable(
      new Table({
        name: 'IM_ScheduleStates',
        columns: [
          { name: 'connectorId', type: string, length: '36', isPrimary: true, primaryKeyConstraintName: 'PK_IM_ScheduleStates' },
          { name: 'scheduleKey', type: string, length: '64' },
          { name: 'markAt', type: timestamp },
          { name: 'version', type: integer, default: 1 },
          { name: 'lastOutcome', type: string, length: '16' },
          { name: 'lastChainId', type: string, length: '36', isNullable: true },
          { name: 'updatedBy', type: string, length: '36' },
          { name: 'updatedAt', type: timestamp },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_IM_ScheduleStates_connectorId',
            columnNames: ['connectorId'],
            referencedTableName: 'IM_Connectors',
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
    await queryRunner.dropTable('IM_ScheduleStates', false, true, true);
    await queryRunner.dropIndex('IM_Runs', 'IX_IM_Runs_chainState');
    for (const column of ['chainState', 'chainProfiles', 'chainStep', 'chainId']) await queryRunner.dropColumn('IM_Runs', column);
  }
}
