import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { type DatabaseSettings, migrateToLatest } from '@identitymesh/persistence';
import type { BenchDialect } from '../cli/bench-arguments';

/** One database the engine runs on, made for one workload and dropped after it. */
export interface BenchDatabase {
  dialect: BenchDialect;
  /** Database name (PostgreSQL) or file (SQLite). */
  name: string;
  settings: DatabaseSettings;
  /** The same database as `IM_DB_*` settings for the engine process. */
  env: Record<string, string>;
}

const COMMON = { poolSize: 10, busyTimeoutMs: 30_000, applicationName: 'identitymesh-bench' } as const;

/**
 * Makes, copies and drops the benchmark's databases on one dialect. A
 * workload that must start each run from the same state (a full import into
 * an empty connector space, a first full sync) runs on a fresh copy of a
 * template: `CREATE DATABASE … TEMPLATE` on PostgreSQL, a file copy on SQLite.
 * Resetting the state with DELETEs instead would leave dead rows and
 * statistics behind that make later runs slower than the first.
 */
export class DatabaseFactory {
  private readonly made = new Set<string>();

  constructor(
    readonly dialect: BenchDialect,
    private readonly workDir: string,
    private readonly pgAdminUrl: string,
  ) {}

  /** An empty database with the current schema; with `migrate: false` an empty one (a source system's tables). */
  async create(label: string, options: { migrate?: boolean } = {}): Promise<BenchDatabase> {
    const database = this.dialect === 'sqlite' ? this.sqlite(label) : await this.postgres(label);
    if (options.migrate ?? true) await migrateToLatest(database.settings);
    return database;
  }

  /** A copy of `template`, which nothing may be connected to meanwhile. */
  async copy(template: BenchDatabase, label: string): Promise<BenchDatabase> {
    if (this.dialect === 'sqlite') {
      const copy = this.sqlite(label);
      copyFileSync(template.name, copy.name);
      // A connection that was not closed cleanly leaves its last commits in the WAL file.
      if (existsSync(`${template.name}-wal`)) copyFileSync(`${template.name}-wal`, `${copy.name}-wal`);
      return copy;
    }
    return this.postgres(label, template.name);
  }

  async drop(database: BenchDatabase): Promise<void> {
    this.made.delete(database.name);
    if (this.dialect === 'sqlite') {
      rmSync(dirname(database.name), { force: true, recursive: true });
      return;
    }
    await this.admin(async (client) => {
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
      await client.query(`DROP DATABASE IF EXISTS "${database.name}"`);
    });
  }

  /** Drops what this factory made and did not drop yet (after a failed workload). */
  async dropAll(): Promise<void> {
    for (const name of [...this.made]) await this.drop(this.describe(name));
  }

  /** Runs SQL on a server database outside the engine (VACUUM, the limit's COPY script); PostgreSQL only. */
  async withClient<T>(database: BenchDatabase, work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: database.settings.url, application_name: COMMON.applicationName });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  private sqlite(label: string): BenchDatabase {
    // A folder per database: the migrations lock file lives beside the database file.
    const dir = join(this.workDir, 'databases', `${label}-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'identitymesh.sqlite');
    this.made.add(file);
    return this.describe(file);
  }

  private async postgres(label: string, template?: string): Promise<BenchDatabase> {
    const name = `im_bench_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
    await this.admin(async (client) => {
      if (template) {
        // CREATE DATABASE … TEMPLATE refuses while anyone is connected to the template.
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [template]);
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      } else {
        await client.query(`CREATE DATABASE "${name}"`);
      }
    });
    this.made.add(name);
    return this.describe(name);
  }

  private describe(name: string): BenchDatabase {
    if (this.dialect === 'sqlite') {
      return { dialect: 'sqlite', name, settings: { ...COMMON, dialect: 'sqlite', sqliteFile: name }, env: { IM_DB_TYPE: 'sqlite', IM_DB_SQLITE_FILE: name } };
    }
    const url = new URL(this.pgAdminUrl);
    url.pathname = `/${name}`;
    return { dialect: 'postgres', name, settings: { ...COMMON, dialect: 'postgres', url: url.toString() }, env: { IM_DB_TYPE: 'postgres', IM_DB_URL: url.toString() } };
  }

  private async admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.pgAdminUrl, application_name: COMMON.applicationName });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}
