import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * One multi-row INSERT of entity rows, every column given. Values are
 * converted exactly as TypeORM converts them (transformers, JSON, dates per
 * driver) but the statement is assembled directly: TypeORM's insert builder
 * spends several microseconds per value, which for a batch of hundreds of
 * objects costs more than the database does. The caller chunks rows by the
 * dialect's parameter limit.
 */
export async function insertRows<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: readonly T[]): Promise<void> {
  if (rows.length === 0) return;
  const metadata = manager.connection.getMetadata(target);
  const driver = manager.connection.driver;
  const columns = metadata.columns;
  const parameters: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const placeholders: string[] = [];
    for (const column of columns) {
      parameters.push(driver.preparePersistentValue(column.getEntityValue(row), column));
      placeholders.push(driver.createParameter(`p${parameters.length - 1}`, parameters.length - 1));
    }
    tuples.push(`(${placeholders.join(', ')})`);
  }
  const names = columns.map((column) => driver.escape(column.databaseName)).join(', ');
  await manager.query(`INSERT INTO ${driver.escape(metadata.tableName)} (${names}) VALUES ${tuples.join(', ')}`, parameters);
}
