import { parseSqlConnectorConfig } from './sql-config';
import { SQL_DIALECTS, sqlDialect, SqlDialectName, SqlParam, SqlStatement } from './sql-dialect';
import { SqlTableStatements } from './sql-table';

function tableFor(dialect: SqlDialectName, overrides: Record<string, unknown> = {}): SqlTableStatements {
  const config = parseSqlConnectorConfig({
    dialect,
    connection: dialect === 'sqlite' ? { file: 'hr.sqlite' } : { host: 'db', database: 'hr' },
    objectTypes: [
      {
        name: 'person',
        table: 'hr.people',
        anchor: { column: 'employee_id' },
        dnColumn: 'display_name',
        attributes: [{ column: 'surname' }, { column: 'updated_at', type: 'datetime' }],
        watermark: { column: 'updated_at' },
        softDelete: { column: 'deleted_at' },
        ...overrides,
      },
    ],
  });
  return new SqlTableStatements(sqlDialect(dialect), config.objectTypes[0]);
}

/** How many placeholders a statement holds: `?`, `$n` or `@pn`. */
function placeholders(statement: SqlStatement): number {
  return (statement.sql.match(/\?|\$\d+|@p\d+/g) ?? []).length;
}

describe('SqlTableStatements', () => {
  it('pages a full import by anchor, excluding NULL anchors', () => {
    const table = tableFor('postgres');
    expect(table.page(501, { by: 'anchor', anchor: 'E7', inclusive: false })).toEqual({
      sql:
        'SELECT "employee_id" AS "im_anchor", "display_name" AS "im_dn", "surname" AS "im_a0", "updated_at" AS "im_a1", "deleted_at" AS "im_deleted", ' +
        'CAST("updated_at" AS text) AS "im_watermark" FROM "hr"."people" WHERE "employee_id" IS NOT NULL AND "employee_id" > $1 ORDER BY "employee_id" LIMIT 501',
      params: ['E7'],
    });
    expect(table.page(10).sql).toContain('WHERE "employee_id" IS NOT NULL ORDER BY');
    expect(table.page(10, { by: 'anchor', anchor: 'E7', inclusive: true }).sql).toContain('"employee_id" >= $1');
  });

  it('pages a delta by (watermark, anchor): from a value, or strictly after a row', () => {
    const table = tableFor('mariadb');
    expect(table.page(6, { by: 'watermark', at: '2024-05-01 12:00:00.000000' })).toEqual({
      sql: expect.stringMatching(/WHERE `employee_id` IS NOT NULL AND `updated_at` >= \? ORDER BY `updated_at`, `employee_id` LIMIT 6$/),
      params: ['2024-05-01 12:00:00.000000'],
    });
    expect(table.page(6, { by: 'watermark-after', at: 'W', anchor: 'E7', inclusive: false })).toEqual({
      sql: expect.stringContaining('AND (`updated_at` > ? OR (`updated_at` = ? AND `employee_id` > ?)) ORDER BY `updated_at`, `employee_id` LIMIT 6'),
      params: ['W', 'W', 'E7'],
    });
  });

  it('compares integer anchors as 64-bit integers in keyset pages', () => {
    expect(tableFor('sqlite', { anchor: { column: 'id', type: 'integer' } }).page(5, { by: 'anchor', anchor: '9007199254740993', inclusive: false })).toEqual({
      sql: expect.stringContaining('"id" > CAST(? AS INTEGER)'),
      params: ['9007199254740993'],
    });
  });

  it('uses TOP and bracket quoting on SQL Server, and locks rows read for an export', () => {
    const table = tableFor('mssql');
    expect(table.page(501).sql).toMatch(/^SELECT TOP \(501\) \[employee_id\] AS \[im_anchor\], .* FROM \[hr\]\.\[people\] WHERE \[employee_id\] IS NOT NULL ORDER BY \[employee_id\]$/);
    expect(table.page(5).sql).toContain('CONVERT(NVARCHAR(40), [updated_at], 126) AS [im_watermark]');
    expect(table.readByAnchors(['E1', 'E2'], { lock: true })).toEqual([
      { sql: expect.stringMatching(/FROM \[hr\]\.\[people\] WITH \(UPDLOCK, HOLDLOCK\) WHERE \[employee_id\] IN \(@p1, @p2\)$/), params: ['E1', 'E2'] },
    ]);
    expect(tableFor('postgres').readByAnchors(['E1'], { lock: true })[0].sql).toMatch(/WHERE "employee_id" IN \(\$1\) FOR UPDATE$/);
    expect(tableFor('sqlite').readByAnchors(['E1'], { lock: true })[0].sql).toMatch(/WHERE "employee_id" IN \(\?\)$/);
  });

  it('writes new rows with the writable columns only: the anchor first, read-only columns never, the soft-delete mark live', () => {
    const table = tableFor('postgres');
    expect(table.writeColumns).toEqual(['employee_id', 'display_name', 'surname', 'deleted_at']);
    expect(table.upsert([['E1', 'Ann', 'Lee', null]])).toEqual([
      {
        sql:
          'INSERT INTO "hr"."people" ("employee_id", "display_name", "surname", "deleted_at") VALUES ($1, $2, $3, $4) ' +
          'ON CONFLICT ("employee_id") DO UPDATE SET "display_name" = EXCLUDED."display_name", "surname" = EXCLUDED."surname", "deleted_at" = EXCLUDED."deleted_at"',
        params: ['E1', 'Ann', 'Lee', null],
      },
    ]);
  });

  it('updates existing rows set-based, each writing only the columns it changes', () => {
    const statements = tableFor('mssql').update([
      { anchor: 'E1', values: new Map<string, SqlParam>([['surname', 'Lee']]) },
      { anchor: 'E2', values: new Map<string, SqlParam>([['display_name', 'Bo'], ['surname', null]]) },
    ]);
    expect(statements).toEqual([
      {
        sql:
          'UPDATE [hr].[people] SET [display_name] = CASE [employee_id] WHEN @p1 THEN @p2 ELSE [display_name] END, ' +
          '[surname] = CASE [employee_id] WHEN @p3 THEN @p4 WHEN @p5 THEN @p6 ELSE [surname] END WHERE [employee_id] IN (@p7, @p8)',
        params: ['E2', 'Bo', 'E1', 'Lee', 'E2', null, 'E1', 'E2'],
      },
    ]);
  });

  it('deletes, or marks deleted, by IN lists', () => {
    expect(tableFor('sqlite').deleteByAnchors(['E1', 'E2'])).toEqual([{ sql: 'DELETE FROM "hr"."people" WHERE "employee_id" IN (?, ?)', params: ['E1', 'E2'] }]);
    expect(tableFor('mariadb').softDeleteByAnchors(['E1'])).toEqual([{ sql: 'UPDATE `hr`.`people` SET `deleted_at` = CURRENT_TIMESTAMP WHERE `employee_id` IN (?)', params: ['E1'] }]);
    expect(tableFor('sqlite', { softDelete: { column: 'is_deleted', type: 'boolean' } }).softDeleteByAnchors(['E1'])).toEqual([
      { sql: 'UPDATE "hr"."people" SET "is_deleted" = ? WHERE "employee_id" IN (?)', params: [1, 'E1'] },
    ]);
  });

  describe.each(SQL_DIALECTS)('on %s, splits large batches under the parameter and row limits', (dialect) => {
    const limit = sqlDialect(dialect).maxParameters;
    const wide = tableFor(dialect, {
      attributes: Array.from({ length: 40 }, (_, index) => ({ column: `c${index}` })),
      softDelete: undefined,
      watermark: undefined,
    });

    it('multi-row upserts', () => {
      const rows = Array.from({ length: 5_000 }, (_, n) => [`E${n}`, `dn${n}`, ...Array.from({ length: 40 }, () => 'v')]);
      const statements = wide.upsert(rows);
      expect(statements.reduce((sum, s) => sum + s.params.length, 0)).toBe(5_000 * 42);
      for (const statement of statements) {
        expect(statement.params.length).toBeLessThanOrEqual(limit);
        expect(placeholders(statement)).toBe(statement.params.length);
        expect(statement.params.length / 42).toBeLessThanOrEqual(1_000);
      }
      if (dialect === 'mssql') expect(statements[0].params.length).toBe(Math.floor(2_099 / 42) * 42);
    });

    it('updates, IN lists and locked reads', () => {
      const updates = Array.from({ length: 3_000 }, (_, n) => ({ anchor: `E${n}`, values: new Map<string, SqlParam>([['c1', 'x'], ['c2', 'y']]) }));
      const anchors = Array.from({ length: 5_000 }, (_, n) => `E${n}`);
      for (const statements of [wide.update(updates), wide.deleteByAnchors(anchors), wide.readByAnchors(anchors, { lock: true })]) {
        for (const statement of statements) {
          expect(statement.params.length).toBeLessThanOrEqual(limit);
          expect(placeholders(statement)).toBe(statement.params.length);
        }
      }
      expect(wide.update(updates).reduce((sum, s) => sum + s.params.length, 0)).toBe(3_000 * 5);
      expect(wide.deleteByAnchors(anchors).flatMap((s) => s.params)).toEqual(anchors);
    });
  });
});
