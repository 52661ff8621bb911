import { Table, TableColumn, TableForeignKey, TableIndex } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the relay work queue needs to carry connector runs: the run an item
 * belongs to (`IM_RelayWorkItems.runId`) and an export batch's identity
 * (`workKey`), each indexed with the connector; an index that finds a
 * relay's own open items; import batches staged before they are applied
 * (`IM_RelayResultBatches.isLast`, `stagedAt`, a nullable `appliedAt`); and
 * the staged batches' content in bounded pieces (`IM_RelayBatchParts`).
 * Self-contained like every migration: types are the driver's own names for
 * the portable types the entities use.
 */
export class RelayWorkStreaming1772582400000 implements MigrationInterface {
  name = 'RelayWorkStreaming1772582400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const integer = driver.normalizeType({ type: 'integer' });
    const string = driver.normalizeType({ type: String });
    const timestamp = driver.normalizeType({ type: Date });
    const boolean = driver.normalizeType({ type: Boolean });
    const json = driver.normalizeType({ type: 'simple-json' });
    // `false` is a literal of its own on PostgreSQL and 0 elsewhere; the driver knows which.
    const falseDefault = driver.normalizeDefault({ type: Boolean, default: false } as unknown as ColumnMetadata);

    await queryRunner.addColumns('IM_RelayWorkItems', [
      new TableColumn({ name: 'runId', type: string, length: '36', isNullable: true }),
      new TableColumn({ name: 'workKey', type: string, length: '128', isNullable: true }),
    ]);
    await queryRunner.createIndices('IM_RelayWorkItems', [
      new TableIndex({ name: 'IX_IM_RelayWorkItems_connectorId_runId', columnNames: ['connectorId', 'runId'] }),
      new TableIndex({ name: 'IX_IM_RelayWorkItems_connectorId_workKey', columnNames: ['connectorId', 'workKey'] }),
      new TableIndex({ name: 'IX_IM_RelayWorkItems_relayId_status', columnNames: ['relayId', 'status'] }),
    ]);

    // stagedAt starts nullable so rows of an earlier version (applied batches) get their appliedAt, then it is required.
    await queryRunner.addColumns('IM_RelayResultBatches', [
      new TableColumn({ name: 'isLast', type: boolean, default: falseDefault }),
      new TableColumn({ name: 'stagedAt', type: timestamp, isNullable: true }),
    ]);
    const batches = driver.escape('IM_RelayResultBatches');
    await queryRunner.query(`UPDATE ${batches} SET ${driver.escape('stagedAt')} = ${driver.escape('appliedAt')}`);
    await queryRunner.changeColumn('IM_RelayResultBatches', 'stagedAt', new TableColumn({ name: 'stagedAt', type: timestamp }));
    await queryRunner.changeColumn('IM_RelayResultBatches', 'appliedAt', new TableColumn({ name: 'appliedAt', type: timestamp, isNullable: true }));

    await queryRunner.createTable(
      new Table({
        name: 'IM_RelayBatchParts',
        columns: [
          { name: 'workItemId', type: string, length: '36', isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayBatchParts' },
          { name: 'batchSeq', type: integer, isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayBatchParts' },
          { name: 'part', type: integer, isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayBatchParts' },
          { name: 'content', type: json },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'FK_IM_RelayBatchParts_workItemId_batchSeq',
            columnNames: ['workItemId', 'batchSeq'],
            referencedTableName: 'IM_RelayResultBatches',
            referencedColumnNames: ['workItemId', 'batchSeq'],
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
    const timestamp = driver.normalizeType({ type: Date });
    await queryRunner.dropTable('IM_RelayBatchParts', false, true, true);
    // Staged batches were never applied; the earlier schema has no place for them.
    await queryRunner.query(`DELETE FROM ${driver.escape('IM_RelayResultBatches')} WHERE ${driver.escape('appliedAt')} IS NULL`);
    await queryRunner.changeColumn('IM_RelayResultBatches', 'appliedAt', new TableColumn({ name: 'appliedAt', type: timestamp }));
    await queryRunner.dropColumns('IM_RelayResultBatches', ['stagedAt', 'isLast']);
    for (const index of ['IX_IM_RelayWorkItems_relayId_status', 'IX_IM_RelayWorkItems_connectorId_workKey', 'IX_IM_RelayWorkItems_connectorId_runId']) {
      await queryRunner.dropIndex('IM_RelayWorkItems', index);
    }
    await queryRunner.dropColumns('IM_RelayWorkItems', ['workKey', 'runId']);
  }
}
