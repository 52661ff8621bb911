import { isSqlIdentifier, parseQualifiedName } from './sql-identifiers';
import { SQL_DIALECTS, sqlDialect, SqlParameters } from './sql-dialect';

describe('identifiers', () => {
  it.each(['employees', 'Employees', '_x', 'a1', 'employee_id', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(isSqlIdentifier(name)).toBe(true);
  });

  it.each([
    '',
    '1abc',
    'x'.repeat(64),
    'people; DROP TABLE people',
    'people--',
    'a"b',
    'a`b',
    'a]b',
    "a'b",
    'a b',
    'a.b',
    'ä',
    'a\u0000',
    '(SELECT 1)',
  ])('refuses %j', (name) => {
    expect(isSqlIdentifier(name)).toBe(false);
  });

  it('splits schema-qualified names into at most two checked parts', () => {
    expect(parseQualifiedName('people')).toEqual(['people']);
    expect(parseQualifiedName('hr.people')).toEqual(['hr', 'people']);
    expect(parseQualifiedName('db.hr.people')).toBeUndefined();
    expect(parseQualifiedName('hr.')).toBeUndefined();
    expect(parseQualifiedName('hr.people; --')).toBeUndefined();
  });
});

describe('dialects', () => {
  it('quote names their own way, doubling the quote character should one ever get through', () => {
    expect(['postgres', 'sqlite', 'mariadb', 'mysql', 'mssql'].map((name) => sqlDialect(name as never).quote('people'))).toEqual([
      '"people"',
      '"people"',
      '`people`',
      '`people`',
      '[people]',
    ]);
    expect(sqlDialect('postgres').quote('a"b')).toBe('"a""b"');
    expect(sqlDialect('mariadb').quote('a`b')).toBe('`a``b`');
    expect(sqlDialect('mssql').quote('a]b')).toBe('[a]]b]');
  });

  it('number placeholders as the driver expects', () => {
    expect([1, 2].map((n) => sqlDialect('postgres').placeholder(n))).toEqual(['$1', '$2']);
    expect([1, 2].map((n) => sqlDialect('mssql').placeholder(n))).toEqual(['@p1', '@p2']);
    expect([1, 2].map((n) => sqlDialect('mariadb').placeholder(n))).toEqual(['?', '?']);
    expect([1, 2].map((n) => sqlDialect('sqlite').placeholder(n))).toEqual(['?', '?']);
  });

  it('limit a keyset page with LIMIT, or TOP on SQL Server', () => {
    const select = { columns: 'a', from: 't', where: 'a > ?', orderBy: 'a', limit: 10 };
    expect(sqlDialect('postgres').selectLimited(select)).toBe('SELECT a FROM t WHERE a > ? ORDER BY a LIMIT 10');
    expect(sqlDialect('mssql').selectLimited(select)).toBe('SELECT TOP (10) a FROM t WHERE a > ? ORDER BY a');
    expect(() => sqlDialect('postgres').selectLimited({ ...select, limit: 0 })).toThrow(RangeError);
    expect(() => sqlDialect('mssql').selectLimited({ ...select, limit: 1.5 })).toThrow(RangeError);
  });

  it('write upserts as INSERT … ON CONFLICT, ON DUPLICATE KEY UPDATE with an anchor guard, or MERGE', () => {
    const upsert = { table: 't', columns: ['k', 'a'], rows: [['?', '?']] };
    expect(sqlDialect('postgres').upsert(upsert)).toBe('INSERT INTO t (k, a) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a');
    expect(sqlDialect('sqlite').upsert(upsert)).toBe('INSERT INTO t (k, a) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET a = excluded.a');
    expect(sqlDialect('mariadb').upsert(upsert)).toBe(
      'INSERT INTO t (k, a) VALUES (?, ?) ON DUPLICATE KEY UPDATE k = IF(k <=> VALUES(k), k, (SELECT NULL UNION ALL SELECT NULL)), a = VALUES(a)',
    );
    expect(sqlDialect('mssql').upsert({ table: '[t]', columns: ['[k]', '[a]'], rows: [['@p1', '@p2'], ['@p3', '@p4']] })).toBe(
      'MERGE INTO [t] WITH (HOLDLOCK) AS [target] USING (VALUES (@p1, @p2), (@p3, @p4)) AS [source] ([k], [a]) ' +
        'ON [target].[k] = [source].[k] WHEN MATCHED THEN UPDATE SET [a] = [source].[a] ' +
        'WHEN NOT MATCHED THEN INSERT ([k], [a]) VALUES ([source].[k], [source].[a]);',
    );
    // Only the key: an existing row is left alone.
    expect(sqlDialect('postgres').upsert({ table: 't', columns: ['k'], rows: [['?']] })).toBe('INSERT INTO t (k) VALUES (?) ON CONFLICT (k) DO NOTHING');
    expect(sqlDialect('mssql').upsert({ table: 't', columns: ['k'], rows: [['?']] })).not.toContain('WHEN MATCHED');
  });

  it('use savepoints, SQL Server without RELEASE', () => {
    expect(sqlDialect('postgres').savepoint('im_row')).toBe('SAVEPOINT im_row');
    expect(sqlDialect('mariadb').rollbackToSavepoint('im_row')).toBe('ROLLBACK TO SAVEPOINT im_row');
    expect(sqlDialect('sqlite').releaseSavepoint('im_row')).toBe('RELEASE SAVEPOINT im_row');
    expect(sqlDialect('mssql').savepoint('im_row')).toBe('SAVE TRANSACTION im_row');
    expect(sqlDialect('mssql').rollbackToSavepoint('im_row')).toBe('ROLLBACK TRANSACTION im_row');
    expect(sqlDialect('mssql').releaseSavepoint('im_row')).toBeUndefined();
    expect(() => sqlDialect('postgres').savepoint('x; DROP TABLE t')).toThrow(RangeError);
  });

  it('compare watermarks exactly: as the server reads its own text, integers as 64-bit, rowversion as binary(8)', () => {
    expect(sqlDialect('postgres').watermarkText('"u"', 'timestamp')).toBe('CAST("u" AS text)');
    expect(sqlDialect('postgres').watermarkParameter('$1', 'integer')).toBe('CAST($1 AS bigint)');
    expect(sqlDialect('mariadb').watermarkText('`u`', 'timestamp')).toBe('CAST(`u` AS CHAR)');
    expect(sqlDialect('mariadb').watermarkParameter('?', 'integer')).toBe('CAST(? AS SIGNED)');
    expect(sqlDialect('mssql').watermarkText('[u]', 'timestamp')).toBe('CONVERT(NVARCHAR(40), [u], 126)');
    expect(sqlDialect('mssql').watermarkText('[rv]', 'rowversion')).toBe('CAST(CAST([rv] AS BIGINT) AS NVARCHAR(20))');
    expect(sqlDialect('mssql').watermarkParameter('@p1', 'rowversion')).toBe('CAST(CAST(@p1 AS BIGINT) AS BINARY(8))');
    for (const name of SQL_DIALECTS) expect(sqlDialect(name).watermarkParameter('X', 'timestamp')).toBe('X');
  });

  it('bind values in the form each driver keeps faithfully', () => {
    const date = new Date('2024-05-01T12:00:00.123Z');
    expect(sqlDialect('postgres').bind(date)).toBe('2024-05-01T12:00:00.123Z');
    expect(sqlDialect('mariadb').bind(date)).toBe('2024-05-01 12:00:00.123');
    expect(sqlDialect('sqlite').bind(date)).toBe('2024-05-01T12:00:00.123Z');
    expect(sqlDialect('mssql').bind(date)).toBe(date);
    expect([true, false].map((value) => sqlDialect('sqlite').bind(value))).toEqual([1, 0]);
    expect(sqlDialect('postgres').bind(true)).toBe(true);
  });

  it('SqlParameters numbers placeholders and binds each value once per use', () => {
    const params = new SqlParameters(sqlDialect('mssql'));
    expect([params.add('a'), params.add(true), params.add(null)]).toEqual(['@p1', '@p2', '@p3']);
    expect(params.values).toEqual(['a', true, null]);
  });

  it('keep every dialect under its parameter limit', () => {
    expect(Object.fromEntries(SQL_DIALECTS.map((name) => [name, sqlDialect(name).maxParameters]))).toEqual({
      postgres: 65_535,
      mariadb: 65_535,
      mysql: 65_535,
      sqlite: 32_766,
      mssql: 2_100,
    });
  });
});
