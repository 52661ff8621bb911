import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import type { ConnectorSchema } from '@identitymesh/connector-sdk';
import { connectDatabase, migrateDatabase, RunEntity } from '@identitymesh/persistence';
import { SyncHarness } from '../testing/sync-harness';
import type { StopReason } from '../runs/run-context';

jest.setTimeout(120_000);

const HR_SCHEMA: ConnectorSchema = {
  objectTypes: [
    {
      name: 'person',
      anchorAttribute: 'employeeId',
      attributes: [
        { name: 'employeeId', type: 'string' },
        { name: 'sn', type: 'string' },
        { name: 'managerId', type: 'reference', referenceBy: 'anchor' },
      ],
    },
  ],
};

/**
 * A full sync interrupted after its first batch and resumed by a fresh
 * runner (an engine restarted after a crash or a shutdown): the objects the
 * first attempt sent to the second pass lie before the checkpoint, and the
 * resumed run must still evaluate them once their references can resolve.
 */
describe.each(['sqlite', 'postgres'] as const)('a full sync resumed from its checkpoint on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let h: SyncHarness;
  // Aborts the run right after the first checkpoint was written: the runner sees it before its next batch.
  let controller = new AbortController();
  let armed = false;
  const statements: string[] = [];

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  beforeEach(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings, undefined, {
      onQuery: (sql) => {
        statements.push(sql);
        if (armed && sql.includes('IM_Watermarks') && !/^\s*SELECT/i.test(sql)) {
          armed = false;
          controller.abort({ kind: 'shutdown' } satisfies StopReason);
        }
      },
    });
    await migrateDatabase(dataSource);
    h = new SyncHarness(dataSource);
  });
  afterEach(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('evaluates in its second pass what the interrupted attempt had deferred, so every manager resolves', async () => {
    const hr = await h.connector('hr', HR_SCHEMA, { batchSize: 2 });
    await h.rule('projection', hr.id, 'person', { meshObjectType: 'person' });
    await h.rule('import-flow', hr.id, 'person', { target: 'employeeId', source: 'employeeId' }, 1);
    await h.rule('import-flow', hr.id, 'person', { target: 'manager', reference: { attribute: 'managerId', by: 'anchor' } }, 2);
    // Pages of two in anchor order: E1 and E2 first, whose managers (E5, E6) come in the last page.
    const managers: Record<string, string[]> = { E1: ['E6'], E2: ['E5'], E3: ['E6'], E4: ['E5'], E5: [], E6: [] };
    for (const [id, managerId] of Object.entries(managers)) h.system(hr.id).upsert('person', id, { employeeId: [id], sn: [`Person ${id}`], managerId });
    await h.run(hr, 'full-import');

    controller = new AbortController();
    armed = true;
    const first = await h.run(hr, 'full-sync', { signal: controller.signal });
    expect(first.outcome.kind).toBe('interrupted');
    expect(first.run).toMatchObject({ status: 'queued', projected: 2 });

    const resumed = await h.run(hr, 'full-sync', { queue: false });
    expect(resumed.outcome).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(resumed.run).toMatchObject({ projected: 6, errors: 0 });
    // The second pass took the two objects the first attempt deferred along with the two of its own.
    expect(resumed.outcome.kind === 'finished' && resumed.outcome.message).toContain('(4 evaluated again for references)');

    const people = await h.mesh.list('person');
    const meshIdOf = new Map(people.map((p) => [p.attributes['employeeId']?.value as string, p.id]));
    for (const person of people) {
      const id = person.attributes['employeeId']?.value as string;
      const expected = managers[id].map((manager) => meshIdOf.get(manager));
      expect({ id, manager: (await h.mesh.referencesOf(person.id))['manager'] ?? [] }).toEqual({ id, manager: expected });
    }
    expect((await h.space.list(hr.id)).map((cso) => [cso.anchor, cso.pendingImport])).toEqual(Object.keys(managers).map((id) => [id, 'none']));
  });

  it('refreshes the statistics once the run, earlier attempts included, has projected enough mesh objects', async () => {
    const hr = await h.connector('hr', HR_SCHEMA, { batchSize: 10 });
    await h.rule('projection', hr.id, 'person', { meshObjectType: 'person' });
    await h.rule('import-flow', hr.id, 'person', { target: 'employeeId', source: 'employeeId' }, 1);
    for (let i = 0; i < 5; i++) h.system(hr.id).upsert('person', `E${i}`, { employeeId: [`E${i}`], sn: [`Person ${i}`], managerId: [] });
    await h.run(hr, 'full-import');

    // A run whose earlier attempts projected 6,000 mesh objects: its first batch crosses the first refresh (PostgreSQL only; a no-op elsewhere).
    const run = await h.runs.queue({ connectorId: hr.id, profile: 'full-sync', trigger: 'manual' });
    await dataSource.getRepository(RunEntity).update({ id: run.id }, { projected: 6_000, recoveries: 1 });
    statements.length = 0;
    const resumed = await h.run(hr, 'full-sync', { queue: false });
    expect(resumed.run).toMatchObject({ status: 'succeeded', projected: 6_005 });
    expect(statements.filter((sql) => sql.startsWith('ANALYZE'))).toHaveLength(dialect === 'postgres' ? 2 : 0);
  });
});
