import { TableColumn } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `IM_Runs.recoveries`: how often a run was resumed after the engine running
 * it died, so a run that kills its engine every time ends up failed instead of
 * being resumed forever. Self-contained like every migration: the type is the
 * driver's own name for the portable 'integer' the entity uses.
 */
export class RunRecoveries1772323200000 implements MigrationInterface {
  name = 'RunRecoveries1772323200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const type = queryRunner.connection.driver.normalizeType({ type: 'integer' });
    await queryRunner.addColumn('IM_Runs', new TableColumn({ name: 'recoveries', type, default: 0 }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('IM_Runs', 'recoveries');
  }
}
