import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { ConnectorEntity } from '../entities/connector.entity';
import { EngineInstanceEntity } from '../entities/engine-instance.entity';
import { connectDatabase, migrateDatabase } from './open-database';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('one SQLite connection shared by concurrent work', () => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createThrowawayDatabase('sqlite');
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const connector = (name: string) => {
    const now = new Date();
    return { id: randomUUID(), name, type: 'csv' as const, config: {}, objectTypes: [], createdAt: now, updatedAt: now };
  };

  it('keeps transactions and lone statements that overlap in time apart: a rollback takes only its own writes', async () => {
    const failure = new Error('this batch fails');
    const order: string[] = [];
    const failing = dataSource.transaction(async (manager) => {
      await manager.getRepository(ConnectorEntity).insert(connector('rolled back'));
      order.push('failing wrote');
      await sleep(50);
      throw failure;
    });
    const committing = dataSource.transaction(async (manager) => {
      order.push('committing started');
      await manager.getRepository(ConnectorEntity).insert(connector('committed'));
      await sleep(10);
    });
    // A heartbeat-like statement outside any transaction, meanwhile.
    const lone = dataSource.getRepository(ConnectorEntity).insert(connector('lone statement'));

    await expect(failing).rejects.toBe(failure);
    await committing;
    await lone;
    expect(order).toEqual(['failing wrote', 'committing started']);
    const names = (await dataSource.getRepository(ConnectorEntity).find()).map((c) => c.name).sort();
    expect(names).toEqual(['committed', 'lone statement']);
  });

  it('runs a statement issued inside a transaction at once, as part of it', async () => {
    await dataSource.transaction(async (manager) => {
      await manager.getRepository(EngineInstanceEntity).count();
      await manager.transaction(async (inner) => inner.getRepository(ConnectorEntity).count());
    });
  });
});
