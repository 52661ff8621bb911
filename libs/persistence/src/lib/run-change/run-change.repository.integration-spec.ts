import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { insertConnectorWithRun } from '../testing/connector-space-fixtures';
import { TransactionRunner } from '../transaction/transaction';
import { RunChangeInput, RunChangeRepository } from './run-change.repository';

jest.setTimeout(120_000);

describe.each(TEST_DIALECTS)('run change reports on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('appends lines in order, skips lines a resumed run reports again, and counts only the new ones', async () => {
    const { runId } = await insertConnectorWithRun(dataSource);
    const changes = new RunChangeRepository(dataSource);
    const transactions = new TransactionRunner(dataSource);
    const line = (objectRef: string, changeType: string, extra: Partial<RunChangeInput> = {}): RunChangeInput => ({ objectRef, targetKind: 'mesh', changeType, attributes: { title: { before: null, after: objectRef } }, ...extra });

    const first = await transactions.run((tx) => changes.append(tx, runId, [line('m1', 'create'), line('m2', 'update'), line('u1', 'add', { targetKind: 'export', discriminator: '0' }), line('u1', 'add', { targetKind: 'export', discriminator: '1' })]));
    expect(first).toEqual(new Map([['mesh:create', 1], ['mesh:update', 1], ['export:add', 2]]));
    const again = await transactions.run((tx) => changes.append(tx, runId, [line('m2', 'update'), line('m3', 'delete'), line('x'.repeat(300), 'create')]));
    expect(again).toEqual(new Map([['mesh:delete', 1], ['mesh:create', 1]]));

    const report = await changes.list(runId);
    expect(report.map((l) => [l.seq, l.objectRef.slice(0, 3), l.changeType])).toEqual([
      [1, 'm1', 'create'],
      [2, 'm2', 'update'],
      [3, 'u1', 'add'],
      [4, 'u1', 'add'],
      [5, 'm3', 'delete'],
      [6, 'xxx', 'create'],
    ]);
    expect(report[5].objectRef).toHaveLength(255);
    expect(report[0].attributes).toEqual({ title: { before: null, after: 'm1' } });
    expect((await changes.list(runId, { afterSeq: 4 })).map((l) => l.seq)).toEqual([5, 6]);
  });
});
