import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { AppProcess, freePort, waitForStatus } from './support/app-process';
import { EngineDatabase, QUICK_ENGINE_SETTINGS } from './support/engine-database';
import { licensedEnv } from './support/license';

jest.setTimeout(300_000);

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
  let engineDb: EngineDatabase;
  let port: number;
  let env: Record<string, string>;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    db = await createThrowawayDatabase('postgres');
    sql = new Client({ connectionString: db.settings.url });
    await sql.connect();
    engineDb = new EngineDatabase(sql);
    port = await freePort();
    env = {
      IM_DATA_DIR: dataDir,
      IM_ENGINE_PORT: String(port),
      ...QUICK_ENGINE_SETTINGS,
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

  const insertConnector = (name: string, config: object, batchSize: number) => engineDb.insertConnector({ name, type: 'csv', config, batchSize });
  const queueRun = (connectorId: string, profile: 'full-import' | 'delta-import') => engineDb.queueRun(connectorId, profile);
  const run = (id: string) => engineDb.run(id);
  const waitForRun = (id: string, engine: AppProcess) => engineDb.waitForRun(id, engine, 120_000);
  const watermark = (connectorId: string) => engineDb.watermark(connectorId);

  async function staged(connectorId: string): Promise<number> {
    const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1`, [connectorId]);
    return Number(rows[0].n);
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
  it('R10: fails each malformed row, wrongly encoded value and repeated anchor alone, imports the rest, and takes no broken row for a leaver', async () => {
    const engine = await startEngine();
    const feed = join(dataDir, 'hostile.csv');
    writeFeed(feed, 8);
    const connectorId = await insertConnector('HR hostile', csvConfig(feed), 3);
    expect(await waitForRun(await queueRun(connectorId, 'full-import'), engine)).toMatchObject({ status: 'succeeded', added: 8 });

    // The next file: E000001 has a field too many, E000002 a quote in the middle of a field, E000005 bytes that are
    // not UTF-8, E000003 twice, a row without an anchor, and a hostile but well-formed value that is just data.
    const lines = [
      'employeeId,givenName,sn,mail,manager',
      'E000000,Given0,"Surname, 0",e000000@example.com,',
      'E000001,Given1,Surname1,e000001@example.com,E000000,extra',
      'E000002,"Giv"en2,Surname2,e000002@example.com,E000000',
      'E000003,Given3,Moved,e000003@example.com,E000000',
      'E000003,Again,Duplicate,e000003@example.com,E000000',
      ',Nobody,Empty,nobody@example.com,',
      'E000004,"=cmd|\' /C calc\'!A0",Sn4,e000004@example.com,E000000',
    ];
    const bytes = Buffer.concat([
      Buffer.from(`${lines.join('\n')}\n`),
      Buffer.from('E000005,Bad'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(',Surname5,e000005@example.com,E000000\nE000006,Given6,Surname6,e000006@example.com,E000000\n'),
    ]);
    writeFileSync(feed, bytes);
    const runId = await queueRun(connectorId, 'full-import');
    const result = await waitForRun(runId, engine);
    expect(result).toMatchObject({ status: 'completed-with-errors', updated: 3, deleted: 1, errors: 5 });
    const errors = await engineDb.runErrors(runId);
    expect(errors.map((e) => [e.anchor, e.code])).toEqual(
      expect.arrayContaining([
        ['E000001', 'OBJECT_MALFORMED'],
        ['E000002', 'OBJECT_MALFORMED'],
        ['E000003', 'OBJECT_DUPLICATE_ANCHOR'],
        ['E000005', 'OBJECT_MALFORMED'],
        [null, 'OBJECT_MALFORMED'],
      ]),
    );
    expect(errors.find((e) => e.anchor === 'E000005')?.message).toContain('not valid utf-8');

    // Rows that could not be read keep what they held and are no departures; the one really gone (E000007) is.
    const { objects } = await connectorSpace(connectorId);
    expect(objects.get('E000001')?.['givenName']).toEqual(['Given1']);
    expect(objects.get('E000005')?.['givenName']).toEqual(['Given5']);
    expect(objects.get('E000003')?.['sn']).toEqual(['Moved']);
    expect(objects.get('E000004')?.['givenName']).toEqual(["=cmd|' /C calc'!A0"]);
    const { rows: pending } = await sql.query<{ anchor: string; pendingImport: string }>(
      `SELECT "anchor", "pendingImport" FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND "pendingImport" = 'delete'`,
      [connectorId],
    );
    expect(pending.map((p) => p.anchor)).toEqual(['E000007']);
    expect(engine.child.exitCode).toBeNull();
    expect(await engine.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
