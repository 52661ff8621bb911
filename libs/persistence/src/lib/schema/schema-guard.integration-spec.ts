import { createThrowawayDatabase, TEST_DIALECTS, ThrowawayDatabase } from '@identitymesh/testing';
import { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from '../data-source/data-source-options';
import { connectDatabase, migrateDatabase, openDatabase } from '../data-source/open-database';
import { SchemaMismatchError } from './schema.errors';
import { SchemaRepository } from './schema.repository';

/** An app never runs against a schema it does not expect, and two migrators never collide. */
describe.each(TEST_DIALECTS)('schema guard on %s', (dialect) => {
  let db: ThrowawayDatabase;
  const open: DataSource[] = [];

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
  });
  afterAll(async () => {
    await Promise.all(open.filter((ds) => ds.isInitialized).map((ds) => ds.destroy()));
    await db.drop();
  });

  it('refuses an empty database without auto-migration, naming the command to run', async () => {
    const error = await openDatabase(db.settings, { autoMigrate: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaMismatchError);
    expect((error as SchemaMismatchError).code).toBe('SCHEMA_BEHIND');
    expect((error as SchemaMismatchError).message).toContain('npm run db:migrate');
    expect((error as SchemaMismatchError).state.status).toBe('empty');
  });

  it('applies the migrations once when two processes migrate at the same moment', async () => {
    const a = await connectDatabase(db.settings);
    const b = await connectDatabase(db.settings);
    open.push(a, b);
    const [appliedA, appliedB] = await Promise.all([migrateDatabase(a), migrateDatabase(b)]);
    expect([...appliedA, ...appliedB]).toEqual(a.migrations.map((m) => m.name));
    expect((await new SchemaRepository(a).state()).status).toBe('current');
  });

  it('opens a current schema', async () => {
    const { dataSource, schema } = await openDatabase(db.settings, { autoMigrate: false });
    open.push(dataSource);
    expect(schema.status).toBe('current');
  });

  it('refuses a schema newer than the build, naming the unknown migration', async () => {
    const ds = open[0];
    await ds.createQueryBuilder().insert().into(MIGRATIONS_TABLE, ['timestamp', 'name']).values({ timestamp: 9999999999999, name: 'FutureChange9999999999999' }).execute();
    try {
      const error = await openDatabase(db.settings, { autoMigrate: false }).catch((e: unknown) => e);
      expect((error as SchemaMismatchError).code).toBe('SCHEMA_AHEAD');
      expect((error as SchemaMismatchError).message).toContain('FutureChange9999999999999');
      expect((await new SchemaRepository(ds).state()).status).toBe('ahead');
    } finally {
      await ds.createQueryBuilder().delete().from(MIGRATIONS_TABLE).where('name = :name', { name: 'FutureChange9999999999999' }).execute();
    }
  });
});
