import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import { MetricsModule, MetricsRegistry } from '@identitymesh/platform';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { ConnectorRepository } from './connector/connector.repository';
import { SQLITE_WAL_AUTOCHECKPOINT_PAGES } from './data-source/data-source-options';
import { DATA_SOURCE, PersistenceModule } from './persistence.module';

/** The value of `identitymesh_db_statements_total` as /metrics shows it. */
async function statementsMetric(metrics: MetricsRegistry): Promise<number> {
  const line = (await metrics.render()).body.split('\n').find((l) => l.startsWith('identitymesh_db_statements_total '));
  if (!line) throw new Error('identitymesh_db_statements_total is not on /metrics');
  return Number(line.split(' ').at(-1));
}

describe('PersistenceModule: the statement counter on /metrics, the SQLite settings', () => {
  let db: ThrowawayDatabase;
  const modules: TestingModule[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createThrowawayDatabase('sqlite');
  });
  afterAll(async () => {
    for (const module of modules) await module.close();
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await db?.drop();
  });

  async function open(withMetrics: boolean): Promise<TestingModule> {
    const imports = [...(withMetrics ? [MetricsModule] : []), PersistenceModule.forRoot(db.settings, { autoMigrate: true })];
    const module = await Test.createTestingModule({ imports }).compile();
    modules.push(module);
    return module;
  }

  it('counts every statement the data source sends, BEGIN and COMMIT included', async () => {
    const module = await open(true);
    const metrics = module.get(MetricsRegistry);
    const dataSource = module.get<DataSource>(DATA_SOURCE);
    const connectors = module.get(ConnectorRepository);

    // Opening the database (migrations, the schema check) already sent some.
    const before = await statementsMetric(metrics);
    expect(before).toBeGreaterThan(0);
    await connectors.findById(randomUUID());
    expect(await statementsMetric(metrics)).toBe(before + 1);
    await dataSource.transaction(async (manager) => {
      await manager.query('SELECT 1');
      await manager.query('SELECT 2');
    });
    expect(await statementsMetric(metrics)).toBe(before + 1 + 4);
  });

  it('checkpoints the SQLite WAL after 64 MiB rather than after every large batch', async () => {
    const module = await open(false);
    const [setting] = await module.get<DataSource>(DATA_SOURCE).query('PRAGMA wal_autocheckpoint');
    expect(setting).toEqual({ wal_autocheckpoint: SQLITE_WAL_AUTOCHECKPOINT_PAGES });
  });

  it('opens the database without a metrics registry too (a tool without /metrics)', async () => {
    const module = await open(false);
    expect(await module.get(ConnectorRepository).findById(randomUUID())).toBeNull();
    expect(() => module.get(MetricsRegistry, { strict: false })).toThrow();
  });
});
