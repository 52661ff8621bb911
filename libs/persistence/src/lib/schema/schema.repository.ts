import type { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from '../data-source/data-source-options';

export interface SchemaState {
  /** `current`: every known migration applied and nothing else; `empty`: a database never migrated. */
  status: 'current' | 'behind' | 'ahead' | 'empty';
  /** The newest migration this build knows: the schema version it expects. */
  expected: string;
  applied: string[];
  pending: string[];
  /** Applied migrations this build does not know: the database is newer than the code. */
  unknown: string[];
}

/** Reads the schema version from TypeORM's migrations table; the database's only answer to "which schema is this?". */
export class SchemaRepository {
  constructor(private readonly dataSource: DataSource) {}

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async state(): Promise<SchemaState> {
    const known = this.dataSource.migrations.map((m) => m.name as string);
    const runner = this.dataSource.createQueryRunner();
    let applied: string[] = [];
    try {
      if (await runner.hasTable(MIGRATIONS_TABLE)) {
        const rows: Array<{ name: string }> = await this.dataSource
          .createQueryBuilder(runner)
          .select('m.name', 'name')
          .from(MIGRATIONS_TABLE, 'm')
          .orderBy('m.timestamp', 'ASC')
          .getRawMany();
        applied = rows.map((r) => r.name);
      }
    } finally {
      await runner.release();
    }
    return compareSchema(known, applied);
  }
}

/** Pure comparison of what the build knows with what the database has applied. */
export function compareSchema(known: string[], applied: string[]): SchemaState {
  const appliedSet = new Set(applied);
  const knownSet = new Set(known);
  const pending = known.filter((name) => !appliedSet.has(name));
  const unknown = applied.filter((name) => !knownSet.has(name));
  const expected = known[known.length - 1] ?? '(none)';
  const status = unknown.length > 0 ? 'ahead' : applied.length === 0 && known.length > 0 ? 'empty' : pending.length > 0 ? 'behind' : 'current';
  return { status, expected, applied, pending, unknown };
}
