import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { withTransientRetry, type RetryOptions } from './retry-policy';

jest.setTimeout(120_000);

const BATCHES = 40;
const BATCH_SIZE = 10;
/** Long enough that most transactions are still open when the next termination lands. */
const TRANSACTION_SLEEP_SECONDS = 0.05;
/** Gap between two rounds of terminations: longer than one retried unit takes, so every unit can finish. */
const TERMINATE_EVERY_MS = 200;

type RetryInfo = Parameters<NonNullable<RetryOptions['onRetry']>>[0];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `INSERT … VALUES ($1, $2), ($3, $4), …` for the given ids of one batch. */
function insertStatement(ids: string[], batch: number, onConflict: string): [string, unknown[]] {
  const values = ids.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
  return [`INSERT INTO im_retry_probe (id, batch) VALUES ${values} ${onConflict}`, ids.flatMap((id) => [id, batch])];
}

describe('withTransientRetry against PostgreSQL', () => {
  let database: ThrowawayDatabase | undefined;
  let dataSource: DataSource | undefined;
  /** Plain client that terminates the others and reads the results; never terminated itself. */
  let admin: Client | undefined;
  let databaseName: string;

  beforeAll(async () => {
    database = await createThrowawayDatabase('postgres');
    databaseName = new URL(database.settings.url as string).pathname.slice(1);
    dataSource = await connectDatabase(database.settings);
    await migrateDatabase(dataSource);
    await dataSource.query('CREATE TABLE im_retry_probe (id varchar(36) PRIMARY KEY, batch int NOT NULL)');

    admin = new Client({ connectionString: database.settings.url, application_name: 'identitymesh-test-admin' });
    await admin.connect();
  });

  afterAll(async () => {
    try {
      await admin?.end();
      if (dataSource?.isInitialized) await dataSource.destroy();
    } finally {
      await database?.drop();
    }
  });

  /**
   * One idempotent unit of work: a transaction writing one batch in two
   * statements with a pause between them, so a termination usually lands with
   * half the batch written and uncommitted. The ids are chosen up front and a
   * row already there is skipped: if a termination hits after the server
   * committed but before the client heard so, the repeat is a no-op instead of
   * a duplicate.
   */
  async function writeBatch(ds: DataSource, batch: number, ids: string[]): Promise<void> {
    const half = ids.length / 2;
    await ds.transaction(async (manager) => {
      await manager.query(...insertStatement(ids.slice(0, half), batch, 'ON CONFLICT (id) DO NOTHING'));
      await manager.query(`SELECT pg_sleep(${TRANSACTION_SLEEP_SECONDS})`);
      await manager.query(...insertStatement(ids.slice(half), batch, 'ON CONFLICT (id) DO NOTHING'));
    });
  }

  /** Terminates every other session on the test database every `TERMINATE_EVERY_MS` until `stopped()`; bounded. */
  async function terminateRepeatedly(client: Client, stopped: () => boolean): Promise<number> {
    let terminated = 0;
    for (let round = 0; round < 500 && !stopped(); round++) {
      await sleep(TERMINATE_EVERY_MS);
      if (stopped()) break;
      const result = await client.query<{ terminated: boolean }>(
        'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [databaseName],
      );
      terminated += result.rows.filter((row) => row.terminated).length;
    }
    return terminated;
  }

  it('commits every batch exactly once while connections are being terminated', async () => {
    const ds = dataSource as DataSource;
    const retries: RetryInfo[] = [];
    const batches = Array.from({ length: BATCHES }, (_, batch) => ({
      batch,
      ids: Array.from({ length: BATCH_SIZE }, () => randomUUID()),
    }));

    let finished = false;
    const terminating = terminateRepeatedly(admin as Client, () => finished);
    let terminated: number;
    try {
      for (const { batch, ids } of batches) {
        await withTransientRetry(`write batch ${batch}`, () => writeBatch(ds, batch, ids), {
          initialDelayMs: 50,
          onRetry: (info) => retries.push(info),
        });
      }
    } finally {
      finished = true;
      terminated = await terminating;
    }

    expect(terminated).toBeGreaterThan(0);
    expect(retries.length).toBeGreaterThan(0);

    // Read back over the admin client: the pool may still hold a session terminated in the last round.
    const client = admin as Client;
    const perBatch = await client.query<{ batch: number; rows: string }>(
      'SELECT batch, count(*) AS rows FROM im_retry_probe WHERE batch < $1 GROUP BY batch ORDER BY batch',
      [BATCHES],
    );
    expect(perBatch.rows.map((row) => ({ batch: row.batch, rows: Number(row.rows) }))).toEqual(
      batches.map(({ batch }) => ({ batch, rows: BATCH_SIZE })),
    );
    const total = await client.query<{ total: string }>('SELECT count(*) AS total FROM im_retry_probe WHERE batch < $1', [BATCHES]);
    expect(Number(total.rows[0].total)).toBe(BATCHES * BATCH_SIZE);
    const written = await client.query<{ id: string }>('SELECT id FROM im_retry_probe WHERE batch < $1', [BATCHES]);
    expect(new Set(written.rows.map((row) => row.id))).toEqual(new Set(batches.flatMap(({ ids }) => ids)));
  });

  it.each([
    ['before its next statement', 'statement'],
    ['before its commit', 'commit'],
  ] as const)('retries a transaction whose session is terminated between two statements, %s', async (_name, where) => {
    // A pool of its own, so the other tests' terminations can't add retries here.
    const ds = await connectDatabase((database as ThrowawayDatabase).settings);
    try {
      const batch = where === 'statement' ? 2_000 : 2_001;
      const ids = Array.from({ length: BATCH_SIZE }, () => randomUUID());
      const half = BATCH_SIZE / 2;
      const retries: RetryInfo[] = [];
      let attempts = 0;

      /** On the first attempt: terminate this transaction's session and wait until the pool has noticed. */
      async function terminateOnFirstAttempt(manager: EntityManager): Promise<void> {
        if (attempts > 1) return;
        const [{ pid }] = await manager.query<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid');
        await (admin as Client).query('SELECT pg_terminate_backend($1)', [pid]);
        const queryRunner = manager.queryRunner as QueryRunner;
        for (let round = 0; round < 500 && !queryRunner.isReleased; round++) await sleep(10);
        expect(queryRunner.isReleased).toBe(true);
      }

      await withTransientRetry(
        `write batch ${batch}`,
        () =>
          ds.transaction(async (manager) => {
            attempts++;
            await manager.query(...insertStatement(ids.slice(0, half), batch, 'ON CONFLICT (id) DO NOTHING'));
            if (where === 'statement') await terminateOnFirstAttempt(manager);
            await manager.query(...insertStatement(ids.slice(half), batch, 'ON CONFLICT (id) DO NOTHING'));
            if (where === 'commit') await terminateOnFirstAttempt(manager);
          }),
        { initialDelayMs: 50, onRetry: (info) => retries.push(info) },
      );

      expect(attempts).toBe(2);
      expect(retries).toHaveLength(1);
      const rows = await (admin as Client).query<{ id: string }>('SELECT id FROM im_retry_probe WHERE batch = $1', [batch]);
      expect(new Set(rows.rows.map((row) => row.id))).toEqual(new Set(ids));
    } finally {
      await ds.destroy();
    }
  });

  it('does not retry a unique violation: the error surfaces after one attempt', async () => {
    // A pool of its own, so no session terminated by the other test can turn this failure into a transient one.
    const ds = await connectDatabase((database as ThrowawayDatabase).settings);
    try {
      const id = randomUUID();
      await ds.query(...insertStatement([id], 1_000, ''));

      const onRetry = jest.fn();
      let attempts = 0;
      const failure = withTransientRetry(
        'write duplicate',
        async () => {
          attempts++;
          await ds.transaction((manager) => manager.query(...insertStatement([id], 1_001, '')));
        },
        { initialDelayMs: 50, onRetry },
      );

      await expect(failure).rejects.toMatchObject({ driverError: { code: '23505' } });
      expect(attempts).toBe(1);
      expect(onRetry).not.toHaveBeenCalled();
      expect(await ds.query('SELECT batch FROM im_retry_probe WHERE id = $1', [id])).toEqual([{ batch: 1_000 }]);
    } finally {
      await ds.destroy();
    }
  });
});
