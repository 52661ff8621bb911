import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import type { ConnectorSchema } from '@identitymesh/connector-sdk';
import { connectDatabase, migrateDatabase, RunEntity } from '@identitymesh/persistence';
import { SyncHarness } from '../testing/sync-harness';

jest.setTimeout(120_000);

const HR_SCHEMA: ConnectorSchema = {
  objectTypes: [{ name: 'person', anchorAttribute: 'employeeId', attributes: [{ name: 'employeeId', type: 'string' }, { name: 'sn', type: 'string' }] }],
};

/**
 * A full import resumed after its engine died, again and again: the planner
 * statistics are refreshed by what the whole run inserted, not by what one
 * attempt did. An import killed every few thousand objects would otherwise
 * never refresh them, and its lookups (and the references linked at its end)
 * would scan a table the planner takes for empty. Only PostgreSQL needs it.
 */
describe('a resumed full import on postgres', () => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let h: SyncHarness;
  const statements: string[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createThrowawayDatabase('postgres');
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: (sql) => statements.push(sql) });
    await migrateDatabase(dataSource);
    h = new SyncHarness(dataSource);
  });
  afterAll(async () => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await dataSource?.destroy();
    await db?.drop();
  });

  it('refreshes the statistics once the run, earlier attempts included, has inserted enough objects', async () => {
    const hr = await h.connector('hr', HR_SCHEMA, { batchSize: 10 });
    for (let i = 0; i < 20; i++) h.system(hr.id).upsert('person', `E${i}`, { employeeId: [`E${i}`], sn: [`Person ${i}`] });

    // Small runs never get there.
    statements.length = 0;
    await h.run(hr, 'full-import');
    expect(statements.filter((sql) => sql.startsWith('ANALYZE'))).toEqual([]);

    // A run whose earlier attempts committed 6,000 objects: its first batch now crosses the first refresh, once.
    const run = await h.runs.queue({ connectorId: hr.id, profile: 'full-import', trigger: 'manual' });
    await dataSource.getRepository(RunEntity).update({ id: run.id }, { added: 6_000, recoveries: 1 });
    h.system(hr.id).upsert('person', 'E20', { employeeId: ['E20'], sn: ['Person 20'] });
    statements.length = 0;
    const resumed = await h.run(hr, 'full-import', { queue: false });
    expect(resumed.run).toMatchObject({ status: 'succeeded', added: 6_001 });
    expect(statements.filter((sql) => sql.startsWith('ANALYZE'))).toHaveLength(1);
  });
});
