import { TableColumn, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the export runs need of `IM_ExportQueue`: the order of one object's
 * changes (`seq`), whether a change was ever handed to the connector
 * (`lastAttemptAt`: a sent change is never merged with a newer one), which
 * export run checked a delete against the deletion threshold
 * (`thresholdRunId`), a confirming import's verdict (`confirmation`), and an
 * index that claims a connector's due changes of one operation in queue
 * order. Self-contained like every migration: types are the driver's own
 * names for the portable types the entity uses.
 */
export class ExportQueueDelivery1772409600000 implements MigrationInterface {
  name = 'ExportQueueDelivery1772409600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const driver = queryRunner.connection.driver;
    const integer = driver.normalizeType({ type: 'integer' });
    const string = driver.normalizeType({ type: String });
    const timestamp = driver.normalizeType({ type: Date });
    await queryRunner.addColumns('IM_ExportQueue', [
      new TableColumn({ name: 'seq', type: integer, default: 1 }),
      new TableColumn({ name: 'lastAttemptAt', type: timestamp, isNullable: true }),
      new TableColumn({ name: 'thresholdRunId', type: string, length: '36', isNullable: true }),
      new TableColumn({ name: 'confirmation', type: string, length: '16', isNullable: true }),
    ]);
    await queryRunner.createIndex(
      'IM_ExportQueue',
      new TableIndex({ name: 'IX_IM_ExportQueue_connectorId_status_operation_createdAt', columnNames: ['connectorId', 'status', 'operation', 'createdAt'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('IM_ExportQueue', 'IX_IM_ExportQueue_connectorId_status_operation_createdAt');
    for (const column of ['confirmation', 'thresholdRunId', 'lastAttemptAt', 'seq']) await queryRunner.dropColumn('IM_ExportQueue', column);
  }
}
