import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import lockfile from 'proper-lockfile';
import type { DataSource } from 'typeorm';

/**
 * Runs `work` while holding a named lock that every process on the same
 * database honours: migrations and engine registration must not interleave
 * between two processes starting at the same moment. Server databases give
 * us a session lock; SQLite has none, so a lock file beside the database file
 * plays that role (all SQLite users are on one host by definition).
 */
export async function withDatabaseLock<T>(dataSource: DataSource, name: string, work: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const type = dataSource.options.type;
  if (type === 'better-sqlite3') {
    const file = dataSource.options.database as string;
    mkdirSync(dirname(file), { recursive: true });
    const release = await lockfile.lock(dirname(file), {
      lockfilePath: join(dirname(file), `.${name}.lock`),
      stale: 30_000,
      retries: { retries: Math.ceil(timeoutMs / 250), minTimeout: 250, maxTimeout: 250, factor: 1 },
    });
    try {
      return await work();
    } finally {
      await release();
    }
  }

  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const key = `identitymesh:${name}`;
  try {
    if (type === 'postgres') {
      await runner.query(`SET lock_timeout = ${Math.round(timeoutMs)}`);
      await runner.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    } else if (type === 'mysql' || type === 'mariadb') {
      const rows: Array<{ acquired: number | null }> = await runner.query('SELECT GET_LOCK(?, ?) AS acquired', [key, Math.ceil(timeoutMs / 1000)]);
      if (Number(rows[0]?.acquired) !== 1) throw new Error(`could not take the database lock ${key} within ${timeoutMs} ms`);
    } else if (type === 'mssql') {
      const rows: Array<{ result: number }> = await runner.query(
        "DECLARE @result int; EXEC @result = sp_getapplock @Resource = @0, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = @1; SELECT @result AS result",
        [key, Math.round(timeoutMs)],
      );
      if ((rows[0]?.result ?? -1) < 0) throw new Error(`could not take the database lock ${key} within ${timeoutMs} ms`);
    } else {
      throw new Error(`no database lock for ${type}`);
    }
    try {
      return await work();
    } finally {
      if (type === 'postgres') await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      else if (type === 'mssql') await runner.query("EXEC sp_releaseapplock @Resource = @0, @LockOwner = 'Session'", [key]);
      else await runner.query('SELECT RELEASE_LOCK(?)', [key]);
    }
  } finally {
    await runner.release();
  }
}
