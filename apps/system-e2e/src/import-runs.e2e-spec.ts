import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { AppProcess, freePort, waitForStatus } from './support/app-process';
import { licensedEnv } from './support/license';

jest.setTimeout(300_000);

const FINAL = ['succeeded', 'completed-with-errors', 'failed', 'stopped-error-threshold', 'cancelled'];

interface RunRow {
  status: string;
  added: number;
  updated: number;
  deleted: number;
  errors: number;
  recoveries: number;
  message: string | null;
}

/** An HR feed of `rows` people, each but the first managed by the first. */
function writeFeed(path: string, rows: number): void {
  const lines = ['employeeId,givenName,sn,mail,manager'];
  for (let i = 0; i < rows; i++) {
    const id = `E${String(i).padStart(6, '0')}`;
    lines.push(`${id},Given${i},"Surname, ${i}",${id.toLowerCase()}@example.com,${i === 0 ? '' : 'E000000'}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const csvConfig = (path: string) => ({
  path,
  objectType: 'person',
  anchorColumn: 'employeeId',
  columns: [{ column: 'employeeId' }, { column: 'givenName' }, { column: 'sn' }, { column: 'mail' }, { column: 'manager', type: 'reference' }],
});

/**
 * The built Sync Engine on PostgreSQL running import runs queued the way the
 * Admin API queues them: rows in IM_Runs. The second test kills the engine
 * with SIGKILL in the middle of a large import, again and again, and checks
 * that nothing was lost or applied twice.
 */
describe('import runs of the built engine on PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-import-'));
  let db: ThrowawayDatabase;
  let sql: Client;
  let port: number;
  let env: Record<string, string>;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    db = await createThrowawayDatabase('postgres');
    sql = new Client({ connectionString: db.settings.url });
    await sql.connect();
    port = await freePort();
    env = {
      IM_DATA_DIR: dataDir,
      IM_ENGINE_PORT: String(port),
      IM_DB_AUTO_MIGRATE: 'true',
      IM_ENGINE_RUN_POLL_MS: '100',
      IM_ENGINE_HEARTBEAT_SECONDS: '1',
      IM_ENGINE_STALE_AFTER_SECONDS: '3',
      IM_ENGINE_MAX_RUN_RECOVERIES: '20',
      ...db.env,
      ...licensedEnv(dataDir),
    };
  });

  // A test that failed half-way must not leave its engine on the port for the next one.
  afterEach(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    await sql?.end();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startEngine(): Promise<AppProcess> {
    const engine = AppProcess.start('sync-engine', env);
    processes.push(engine);
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, engine);
    return engine;
  }

  async function insertConnector(name: string, config: object, batchSize: number): Promise<string> {
    const id = randomUUID();
    await sql.query(
      `INSERT INTO "IM_Connectors" ("id", "name", "type", "config", "objectTypes", "batchSize", "createdAt", "updatedAt")
       VALUES ($1, $2, 'csv', $3, '[]', $4, now() AT TIME ZONE 'utc', now() AT TIME ZONE 'utc')`,
      [id, name, JSON.stringify(config), batchSize],
    );
    return id;
  }

  async function queueRun(connectorId: string, profile: 'full-import' | 'delta-import'): Promise<string> {
    const id = randomUUID();
    await sql.query(`INSERT INTO "IM_Runs" ("id", "connectorId", "profile", "status", "trigger", "queuedAt") VALUES ($1, $2, $3, 'queued', 'manual', now() AT TIME ZONE 'utc')`, [id, connectorId, profile]);
    return id;
  }

  async function run(id: string): Promise<RunRow> {
    const { rows } = await sql.query<RunRow>(`SELECT "status", "added", "updated", "deleted", "errors", "recoveries", "message" FROM "IM_Runs" WHERE "id" = $1`, [id]);
    return rows[0];
  }

  async function waitForRun(id: string, engine: AppProcess, timeoutMs = 120_000): Promise<RunRow> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const row = await run(id);
      if (FINAL.includes(row.status)) return row;
      if (engine.child.exitCode !== null) throw new Error(`the engine exited while run ${id} was ${row.status}:\n${engine.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`run ${id} did not finish within ${timeoutMs} ms (${JSON.stringify(await run(id))}); engine output:\n${engine.tail()}`);
  }

  async function staged(connectorId: string): Promise<number> {
    const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1`, [connectorId]);
    return Number(rows[0].n);
  }

  async function watermark(connectorId: string): Promise<string | undefined> {
    const { rows } = await sql.query<{ value: string }>(`SELECT "value" FROM "IM_Watermarks" WHERE "connectorId" = $1`, [connectorId]);
    return rows[0]?.value;
  }

  /** Every staged object as anchor → its attributes, and whether any anchor is there twice. */
  async function connectorSpace(connectorId: string): Promise<{ objects: Map<string, Record<string, string[]>>; duplicates: number }> {
    const { rows } = await sql.query<{ anchor: string; attributes: string }>(`SELECT "anchor", "attributes" FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1`, [connectorId]);
    const objects = new Map(rows.map((row) => [row.anchor, JSON.parse(row.attributes) as Record<string, string[]>]));
    return { objects, duplicates: rows.length - objects.size };
  }

  function expectEqualToFeed(objects: Map<string, Record<string, string[]>>, rows: number): void {
    expect(objects.size).toBe(rows);
    for (let i = 0; i < rows; i++) {
      const id = `E${String(i).padStart(6, '0')}`;
      expect(objects.get(id)).toEqual({ employeeId: [id], givenName: [`Given${i}`], sn: [`Surname, ${i}`], mail: [`${id.toLowerCase()}@example.com`], manager: i === 0 ? [] : ['E000000'] });
    }
  }

  it('runs a queued full import of a CSV feed to success, then a delta that finds nothing changed', async () => {
    const engine = await startEngine();
    const feed = join(dataDir, 'small.csv');
    writeFeed(feed, 1_000);
    const connectorId = await insertConnector('HR small', csvConfig(feed), 200);
    const full = await waitForRun(await queueRun(connectorId, 'full-import'), engine);
    expect(full).toMatchObject({ status: 'succeeded', added: 1_000, updated: 0, deleted: 0, errors: 0, recoveries: 0 });
    // Five full batches, then the end of the file with its content hash.
    expect(full.message).toBe('full import succeeded: 1000 objects read in 6 batch(es): 1000 added, 0 updated, 0 deleted, 0 unchanged, 0 failed');
    const { objects, duplicates } = await connectorSpace(connectorId);
    expect(duplicates).toBe(0);
    expectEqualToFeed(objects, 1_000);
    expect(await watermark(connectorId)).toBe(`sha256:${createHash('sha256').update(readFileSync(feed)).digest('hex')}`);
    const { rows: resolved } = await sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM "IM_CsReferences" r JOIN "IM_ConnectorSpaceObjects" o ON o."id" = r."csObjectId" WHERE o."connectorId" = $1 AND r."targetCsObjectId" IS NOT NULL`,
      [connectorId],
    );
    expect(Number(resolved[0].n)).toBe(999);

    const delta = await waitForRun(await queueRun(connectorId, 'delta-import'), engine);
    expect(delta).toMatchObject({ status: 'succeeded', added: 0, updated: 0, deleted: 0 });
    expect(delta.message).toContain('0 objects read in 0 batch(es)');

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/identitymesh_import_objects_total\{profile="full-import",outcome="added",app="sync-engine"\} 1000/);
    expect(metrics).toMatch(/identitymesh_runs_total\{profile="delta-import",status="succeeded",app="sync-engine"\} 1/);
    const logs = engine.records().filter((r) => r['runId'] !== undefined && r['connectorId'] === connectorId);
    expect(logs.some((r) => String(r['msg']).startsWith('full import of connector "HR small" started'))).toBe(true);
    expect(await engine.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('loses nothing and applies nothing twice when the engine is killed with SIGKILL mid-import, again and again', async () => {
    const rows = 40_000;
    const batchSize = 100;
    const feed = join(dataDir, 'large.csv');
    writeFeed(feed, rows);
    let engine = await startEngine();
    const connectorId = await insertConnector('HR large', csvConfig(feed), batchSize);
    const runId = await queueRun(connectorId, 'full-import');

    const kills: Array<{ staged: number; added: number }> = [];
    for (const fraction of [0.15, 0.35, 0.55, 0.75]) {
      const deadline = Date.now() + 120_000;
      let count = await staged(connectorId);
      while (count < rows * fraction && Date.now() < deadline && (await run(runId)).status !== 'succeeded') {
        await new Promise((resolve) => setTimeout(resolve, 10));
        count = await staged(connectorId);
      }
      if ((await run(runId)).status === 'succeeded') break;
      expect((await engine.stop('SIGKILL')).signal).toBe('SIGKILL');

      // Whole batches only, counted exactly once, and no watermark before the end of the file.
      const afterKill = await staged(connectorId);
      const row = await run(runId);
      expect(afterKill % batchSize).toBe(0);
      expect(row.added).toBe(afterKill);
      expect(row.status).toBe('running');
      expect(await watermark(connectorId)).toBeUndefined();
      kills.push({ staged: afterKill, added: row.added });
      engine = await startEngine();
    }
    expect(kills.length).toBeGreaterThanOrEqual(3);
    expect(kills.every((kill) => kill.staged < rows)).toBe(true);

    const final = await waitForRun(runId, engine);
    expect(final).toMatchObject({ status: 'succeeded', added: rows, updated: 0, deleted: 0, errors: 0, recoveries: kills.length });
    expect(final.message).toContain(`resumed after ${kills.length} interruption(s)`);
    const { objects, duplicates } = await connectorSpace(connectorId);
    expect(duplicates).toBe(0);
    expectEqualToFeed(objects, rows);
    const { rows: pending } = await sql.query<{ pendingImport: string; n: string }>(`SELECT "pendingImport", count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 GROUP BY 1`, [connectorId]);
    expect(pending.map((p) => [p.pendingImport, Number(p.n)])).toEqual([['add', rows]]);
    expect(await watermark(connectorId)).toBe(`sha256:${createHash('sha256').update(readFileSync(feed)).digest('hex')}`);
    const { rows: leases } = await sql.query<{ fencingToken: string }>(`SELECT "fencingToken" FROM "IM_ConnectorLeases" WHERE "connectorId" = $1`, [connectorId]);
    // One acquisition per engine that ran it: each takeover got the next token.
    expect(Number(leases[0].fencingToken)).toBe(kills.length + 1);
    expect(await engine.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
