import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { generatePopulation, peopleCsvConnectorConfig, PERSON_COLUMNS, writePeopleCsv, type Person } from '@identitymesh/identity-generator';
import { AppProcess, freePort, waitForStatus } from './support/app-process';
import { EngineDatabase, FINAL_RUN_STATUSES, QUICK_ENGINE_SETTINGS, type RunProfileName, type RunRow } from './support/engine-database';
import { licensedEnv } from './support/license';
import { createLoginRoles, dropLoginRoles, readCommits, readTableHistory, recordCommits, recordTableHistory, urlWithUser } from './support/operation-history';

jest.setTimeout(900_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A run row with the sync counters EngineDatabase.run leaves out. */
interface FullRunRow extends RunRow {
  joined: number;
  projected: number;
  engineInstanceId: string | null;
  fencingToken: string | null;
}

async function fullRun(sql: Client, id: string): Promise<FullRunRow> {
  const { rows } = await sql.query<FullRunRow>(
    `SELECT "id", "profile", "status", "added", "updated", "deleted", "joined", "projected", "exported", "errors", "heldDeletes", "recoveries", "message", "engineInstanceId", "fencingToken" FROM "IM_Runs" WHERE "id" = $1`,
    [id],
  );
  return rows[0];
}

/** The HR feed of `count` generated people (international names, managers later in the file than some of their reports). */
async function writeFeed(path: string, count: number, seed: number): Promise<Person[]> {
  const { people } = generatePopulation({ seed, people: count });
  await writePeopleCsv(people, createWriteStream(path));
  return people;
}

/** The account row the rules below give a person in the target table. */
function accountOf(person: Person): Record<string, string | null> {
  return {
    employee_id: person.employeeId,
    given_name: person.givenName,
    surname: person.surname,
    display_name: `${person.givenName} ${person.surname}`,
    department: person.department,
    title: person.title,
    manager_id: person.manager ?? null,
  };
}

/** The connector-space attributes the CSV connector stages for a person of the feed. */
function csvObjectOf(person: Person): Record<string, string[]> {
  const values: Record<string, string[]> = {};
  for (const column of PERSON_COLUMNS) {
    const value = column.value(person);
    const list = value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
    values[column.attribute] = column.type === 'datetime' ? list.map((day) => `${day}T00:00:00.000Z`) : list;
  }
  return values;
}

/** JSON with the keys of an object sorted: attribute order is no difference. */
function canonical(value: Record<string, unknown> | undefined): string {
  return value === undefined ? 'undefined' : JSON.stringify(Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))));
}

/** Every staged object of a connector as anchor → attributes, and how many anchors are there more than once. */
async function connectorSpace(sql: Client, connectorId: string): Promise<{ objects: Map<string, Record<string, string[]>>; duplicates: number }> {
  const { rows } = await sql.query<{ anchor: string; attributes: string }>(`SELECT "anchor", "attributes" FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1`, [connectorId]);
  const objects = new Map(rows.map((row) => [row.anchor, JSON.parse(row.attributes) as Record<string, string[]>]));
  return { objects, duplicates: rows.length - objects.size };
}

const ACCOUNT_COLUMNS = ['employee_id', 'given_name', 'surname', 'display_name', 'department', 'title', 'manager_id'] as const;

/** HR projects persons: import flows, the manager as a reference, a composed display name. */
async function insertHrRules(edb: EngineDatabase, hr: string): Promise<void> {
  await edb.insertRule({ kind: 'projection', connectorId: hr, objectType: 'person', definition: { meshObjectType: 'person' } });
  await edb.insertRule({ kind: 'join', connectorId: hr, objectType: 'person', definition: { meshObjectType: 'person', mappings: [{ source: 'employeeId', meshAttribute: 'employeeId' }] } });
  for (const [ordinal, name] of ['employeeId', 'givenName', 'sn', 'department', 'title'].entries()) {
    await edb.insertRule({ kind: 'import-flow', connectorId: hr, objectType: 'person', ordinal: ordinal + 1, definition: { target: name, source: name } });
  }
  await edb.insertRule({ kind: 'import-flow', connectorId: hr, objectType: 'person', ordinal: 10, definition: { target: 'manager', reference: { attribute: 'manager', by: 'anchor' } } });
  await edb.insertRule({ kind: 'composer', connectorId: null, objectType: 'person', definition: { target: 'displayName', candidates: ['concat(givenName, " ", sn)'] } });
}

/** Every person provisioned into the SQL table by an anchor template, with export flows for its values and its manager's anchor. */
async function insertAccountRules(edb: EngineDatabase, target: string): Promise<void> {
  await edb.insertRule({ kind: 'provisioning', connectorId: target, objectType: 'person', definition: { targetConnectorId: target, targetObjectType: 'account', anchorTemplate: '{{employeeId}}' } });
  for (const [ordinal, name] of ['givenName', 'sn', 'displayName', 'department', 'title'].entries()) {
    await edb.insertRule({ kind: 'export-flow', connectorId: target, objectType: 'account', ordinal: ordinal + 1, definition: { target: name, source: name } });
  }
  await edb.insertRule({ kind: 'export-flow', connectorId: target, objectType: 'account', ordinal: 10, definition: { target: 'manager', reference: { attribute: 'manager', by: 'anchor' } } });
}

/** Polls `progress` until it reaches `target`; false when the run ended first. Fails when the engine exits by itself. */
async function waitForProgress(edb: EngineDatabase, runId: string, engine: () => AppProcess, progress: () => Promise<number>, target: number, timeoutMs = 180_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await progress()) >= target) return true;
    if (FINAL_RUN_STATUSES.includes((await edb.run(runId)).status)) return false;
    const process = engine();
    if (process.child.exitCode !== null || process.child.signalCode !== null) throw new Error(`the engine exited while run ${runId} was under way:\n${process.tail()}`);
    await sleep(25);
  }
  throw new Error(`run ${runId} did not reach ${target} within ${timeoutMs} ms (at ${await progress()}); engine output:\n${engine().tail()}`);
}

type Phase = 'import' | 'sync' | 'export';

interface KillRecord {
  phase: Phase;
  /** The phase's committed progress when the engine died (staged objects, mesh objects, recorded exports). */
  progress: number;
  /** Seconds since the cycle began. */
  at: number;
  /** The engine had a transaction open on its database just before the kill (informational: where a kill lands is chance). */
  inTransaction: boolean;
}

/**
 * R1: `kill -9` of the engine mid-batch, 20 times during one
 * import → sync → export cycle, each phase resumed by a restarted engine.
 */
describe('R1: the engine killed with SIGKILL 20 times during an import → sync → export cycle', () => {
  const PEOPLE = 20_000;
  const BATCH = 100;
  const KILLS: Record<Phase, number> = { import: 7, sync: 7, export: 6 };
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-faults-r1-'));
  const processes: AppProcess[] = [];
  let engineDb: ThrowawayDatabase;
  let targetDb: ThrowawayDatabase;
  let sql: Client;
  let target: Client;
  let edb: EngineDatabase;
  let env: Record<string, string>;
  let port: number;

  beforeAll(async () => {
    engineDb = await createThrowawayDatabase('postgres');
    targetDb = await createThrowawayDatabase('postgres');
    sql = new Client({ connectionString: engineDb.settings.url });
    await sql.connect();
    target = new Client({ connectionString: targetDb.settings.url });
    await target.connect();
    edb = new EngineDatabase(sql);
    port = await freePort();
    env = {
      IM_DATA_DIR: dataDir,
      IM_ENGINE_PORT: String(port),
      ...QUICK_ENGINE_SETTINGS,
      // Each phase is interrupted up to 7 times; the default of 5 would fail it on purpose.
      IM_ENGINE_MAX_RUN_RECOVERIES: '20',
      ...engineDb.env,
      ...licensedEnv(dataDir),
    };
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    await sql?.end();
    await target?.end();
    await engineDb?.drop();
    await targetDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startEngine(): Promise<AppProcess> {
    const engine = AppProcess.start('sync-engine', env);
    processes.push(engine);
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, engine);
    return engine;
  }

  const count = (text: string, parameters: unknown[] = []) => edb.count(text, parameters);

  it('ends with the target table equal to the oracle: nothing lost, nothing applied twice, no watermark ahead of its data', async () => {
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 100) / 10;
    const feed = join(dataDir, 'people.csv');
    const people = await writeFeed(feed, PEOPLE, 20_260_101);
    const oracle = new Map(people.map((person) => [person.employeeId, accountOf(person)]));

    // The target system: a table of accounts whose every write lands in accounts_history.
    await target.query(`CREATE TABLE "accounts" (
      "employee_id" text PRIMARY KEY, "given_name" text, "surname" text NOT NULL, "display_name" text, "department" text, "title" text, "manager_id" text)`);
    await recordTableHistory(target, 'accounts', 'employee_id');

    let engine = await startEngine();
    const hr = await edb.insertConnector({ name: 'HR', type: 'csv', config: peopleCsvConnectorConfig({ path: feed }), batchSize: BATCH });
    const accounts = await edb.insertConnector({
      name: 'Accounts',
      type: 'sql',
      batchSize: BATCH,
      config: {
        dialect: 'postgres',
        connection: { url: targetDb.settings.url },
        objectTypes: [
          {
            name: 'account',
            table: 'accounts',
            anchor: { column: 'employee_id', attribute: 'employeeId' },
            attributes: [
              { column: 'given_name', attribute: 'givenName' },
              { column: 'surname', attribute: 'sn' },
              { column: 'display_name', attribute: 'displayName' },
              { column: 'department' },
              { column: 'title' },
              { column: 'manager_id', attribute: 'manager', type: 'reference' },
            ],
          },
        ],
      },
    });
    await insertHrRules(edb, hr);
    await insertAccountRules(edb, accounts);

    const kills: KillRecord[] = [];
    const phases: Array<{ phase: Phase; from: number; to?: number }> = [];
    const report = () => {
      const by = (phase: Phase) => kills.filter((kill) => kill.phase === phase).length;
      const durations = phases.map((p) => `${p.phase} ${p.to === undefined ? 'unfinished' : `${Math.round((p.to - p.from) * 10) / 10} s`}`).join(', ');
      const inTransaction = kills.filter((kill) => kill.inTransaction).length;
      return (
        `R1: ${kills.length} kills (import ${by('import')}, sync ${by('sync')}, export ${by('export')}; ${inTransaction} with an engine transaction open) in ${seconds()} s (${durations}); ` +
        `kills at ${kills.map((k) => `${k.phase}:${k.progress}@${k.at}s`).join(', ')}`
      );
    };

    /**
     * Queues the phase's run, kills the engine `kills` times once the run has
     * committed a further share of `total`, checks what each kill left, and
     * restarts the engine; then waits for the run's end.
     */
    async function phase(name: Phase, connectorId: string, profile: RunProfileName, total: number, progress: () => Promise<number>, afterKill: (runId: string, progress: number) => Promise<void>): Promise<FullRunRow> {
      const runId = await edb.queueRun(connectorId, profile);
      const timing: { phase: Phase; from: number; to?: number } = { phase: name, from: seconds() };
      phases.push(timing);
      let last = 0;
      for (let k = 1; k <= KILLS[name]; k++) {
        const goal = Math.max(Math.floor((total * k) / (KILLS[name] + 1)), last + BATCH);
        if (!(await waitForProgress(edb, runId, () => engine, progress, goal))) break;
        const inTransaction = (await count(`SELECT count(*) AS n FROM pg_stat_activity WHERE "datname" = $1 AND "application_name" = 'identitymesh-sync-engine' AND "xact_start" IS NOT NULL`, [engineDb.name])) > 0;
        expect((await engine.stop('SIGKILL')).signal).toBe('SIGKILL');
        last = await progress();
        kills.push({ phase: name, progress: last, at: seconds(), inTransaction });
        await afterKill(runId, last);
        engine = await startEngine();
      }
      const final = await edb.waitForRun(runId, () => engine);
      timing.to = seconds();
      const errors = await edb.runErrors(runId);
      if (final.status !== 'succeeded') throw new Error(`${name} run ended ${final.status}: ${final.message}; errors: ${JSON.stringify(errors)}\n${report()}`);
      return fullRun(sql, runId);
    }

    try {
      // Import: whole batches only, counted once, and no watermark before the end of the file.
      const staged = () => count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1`, [hr]);
      const importWatermark = async () => (await sql.query(`SELECT "value" FROM "IM_Watermarks" WHERE "connectorId" = $1 AND "objectType" <> '#full-sync'`, [hr])).rows[0]?.value as string | undefined;
      const importRun = await phase('import', hr, 'full-import', PEOPLE, staged, async (runId, objects) => {
        const run = await fullRun(sql, runId);
        expect({ staged: objects % BATCH, added: run.added, status: run.status, watermark: await importWatermark() }).toEqual({ staged: 0, added: objects, status: 'running', watermark: undefined });
      });
      expect(importRun).toMatchObject({ added: PEOPLE, updated: 0, deleted: 0, errors: 0, recoveries: KILLS.import });
      expect(await importWatermark()).toBe(`sha256:${createHash('sha256').update(readFileSync(feed)).digest('hex')}`);

      // Sync: the mesh, the provisioned accounts and the queued exports match the run's counters,
      // and the full sync's checkpoint names exactly the last object of its last committed batch.
      const meshObjects = () => count(`SELECT count(*) AS n FROM "IM_MeshObjects"`);
      const syncRun = await phase('sync', hr, 'full-sync', PEOPLE, meshObjects, async (runId, mesh) => {
        const run = await fullRun(sql, runId);
        const { rows } = await sql.query<{ value: string; runId: string }>(`SELECT "value", "runId" FROM "IM_Watermarks" WHERE "connectorId" = $1 AND "objectType" = '#full-sync'`, [hr]);
        const [objectType, anchor] = JSON.parse(rows[0].value) as [string, string];
        const upTo = await count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND ("objectType", "anchor") <= ($2, $3)`, [hr, objectType, anchor]);
        const linkedUpTo = await count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND ("objectType", "anchor") <= ($2, $3) AND "meshObjectId" IS NOT NULL`, [hr, objectType, anchor]);
        const linkedBeyond = await count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND ("objectType", "anchor") > ($2, $3) AND "meshObjectId" IS NOT NULL`, [hr, objectType, anchor]);
        const provisioned = await count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1`, [accounts]);
        const queued = await count(`SELECT count(*) AS n FROM "IM_ExportQueue" WHERE "connectorId" = $1`, [accounts]);
        expect({ status: run.status, checkpointRun: rows[0].runId, wholeBatches: mesh % BATCH, projected: run.projected, upTo, linkedUpTo, linkedBeyond, provisioned, exported: run.exported }).toEqual({
          status: 'running',
          checkpointRun: runId,
          wholeBatches: 0,
          projected: mesh,
          upTo: mesh,
          linkedUpTo: mesh,
          linkedBeyond: 0,
          provisioned: run.added,
          exported: queued,
        });
      });
      expect(syncRun).toMatchObject({ projected: PEOPLE, added: PEOPLE, deleted: 0, errors: 0, recoveries: KILLS.sync });

      // Export: what the run recorded is in the table; the table holds at most what was in flight besides.
      const recorded = () => count(`SELECT count(*) AS n FROM "IM_ExportQueue" WHERE "connectorId" = $1 AND "status" = 'succeeded'`, [accounts]);
      const exportRun = await phase('export', accounts, 'export', PEOPLE, recorded, async (runId, succeeded) => {
        const run = await fullRun(sql, runId);
        const inFlight = await count(`SELECT count(*) AS n FROM "IM_ExportQueue" WHERE "connectorId" = $1 AND "status" = 'in-flight'`, [accounts]);
        const audited = await count(`SELECT count(*) AS n FROM "IM_AuditEvents" WHERE "runId" = $1 AND "action" LIKE 'export.%'`, [runId]);
        const rows = Number((await target.query<{ n: string }>(`SELECT count(*) AS n FROM "accounts"`)).rows[0].n);
        expect({ status: run.status, exported: run.exported, audited, atLeastRecorded: rows >= succeeded, atMostInFlightMore: rows <= succeeded + inFlight }).toEqual({
          status: 'running',
          exported: succeeded,
          audited: succeeded,
          atLeastRecorded: true,
          atMostInFlightMore: true,
        });
      });
      expect(exportRun).toMatchObject({ added: PEOPLE, errors: 0, recoveries: KILLS.export });

      // The target table equals the oracle computed from the feed.
      const { rows: table } = await target.query<Record<string, string | null>>(`SELECT ${ACCOUNT_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM "accounts"`);
      const actual = new Map(table.map((row) => [row['employee_id'] as string, row]));
      const missing = [...oracle.keys()].filter((id) => !actual.has(id));
      const extra = [...actual.keys()].filter((id) => !oracle.has(id));
      const differing = [...oracle].filter(([id, row]) => actual.has(id) && canonical(actual.get(id)) !== canonical(row)).map(([id, row]) => ({ id, expected: row, actual: actual.get(id) }));

      // The target's history: each account inserted exactly once, never updated or deleted.
      const history = await readTableHistory(target, 'accounts');
      const inserts = new Map<string, number>();
      for (const change of history) if (change.op === 'INSERT') inserts.set(change.key, (inserts.get(change.key) ?? 0) + 1);
      const insertedTwice = [...inserts].filter(([, n]) => n > 1).map(([key]) => key);
      const rewrites = history.filter((change) => change.op !== 'INSERT');

      // The engine's side: one export per account, recorded and audited once; the mesh and the connector spaces exact.
      // Adds merged into a newer add before they were ever sent (the second pass adding a manager) are superseded, never delivered.
      const items = await sql.query<{ status: string; operation: string; n: string }>(
        `SELECT "status", "operation", count(*) AS n FROM "IM_ExportQueue" WHERE "connectorId" = $1 AND "status" <> 'superseded' GROUP BY 1, 2 ORDER BY 1, 2`,
        [accounts],
      );
      const supersededSent = await count(`SELECT count(*) AS n FROM "IM_ExportQueue" WHERE "connectorId" = $1 AND "status" = 'superseded' AND "lastAttemptAt" IS NOT NULL`, [accounts]);
      const superseded = await count(`SELECT count(*) AS n FROM "IM_ExportQueue" WHERE "connectorId" = $1 AND "status" = 'superseded'`, [accounts]);
      const itemsTwice = await count(
        `SELECT count(*) AS n FROM (SELECT "csObjectId" FROM "IM_ExportQueue" WHERE "connectorId" = $1 AND "status" <> 'superseded' GROUP BY "csObjectId" HAVING count(*) > 1) AS twice`,
        [accounts],
      );
      const auditedTwice = await count(
        `SELECT count(*) AS n FROM (SELECT "targetId" FROM "IM_AuditEvents" WHERE "action" LIKE 'export.%' GROUP BY "targetId" HAVING count(*) > 1) AS twice`,
      );
      const meshCreatedTwice = await count(`SELECT count(*) AS n FROM (SELECT "targetId" FROM "IM_AuditEvents" WHERE "action" = 'mesh.create' GROUP BY "targetId" HAVING count(*) > 1) AS twice`);
      const alreadyApplied = await count(`SELECT count(*) AS n FROM "IM_AuditEvents" WHERE "action" LIKE 'export.%' AND ("after"::jsonb ->> 'outcome') = 'already-applied'`);
      const hrSpace = await connectorSpace(sql, hr);
      const hrDiffering = people.filter((person) => canonical(hrSpace.objects.get(person.employeeId)) !== canonical(csvObjectOf(person))).map((person) => person.employeeId);
      const pendingExports = await count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND "pendingExport" IS NOT NULL`, [accounts]);
      const pendingImports = await count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND "pendingImport" <> 'none'`, [hr]);
      const { rows: leases } = await sql.query<{ connectorId: string; fencingToken: string }>(`SELECT "connectorId", "fencingToken" FROM "IM_ConnectorLeases"`);
      const token = (id: string) => Number(leases.find((lease) => lease.connectorId === id)?.fencingToken);

      console.log(
        `${report()}\n` +
          `import: ${importRun.message}\nsync: ${syncRun.message}\nexport: ${exportRun.message}\n` +
          `target history: ${history.length} writes, ${inserts.size} accounts inserted, ${rewrites.length} updates/deletes; ${alreadyApplied} export(s) resent after a kill and answered already-applied; ${superseded} unsent add(s) merged into newer ones`,
      );
      expect({
        kills: kills.length,
        missing: missing.slice(0, 5),
        extra: extra.slice(0, 5),
        differing: differing.slice(0, 3),
        insertedTwice: insertedTwice.slice(0, 5),
        rewrites: rewrites.slice(0, 3),
        queue: items.rows.map((row) => [row.status, row.operation, Number(row.n)]),
        itemsTwice,
        supersededSent,
        auditedTwice,
        meshCreatedTwice,
        hrStaged: hrSpace.objects.size,
        hrDuplicates: hrSpace.duplicates,
        hrDiffering: hrDiffering.slice(0, 5),
        pendingExports,
        pendingImports,
        // One lease acquisition per engine that ran a phase: the first, and one after each kill.
        hrToken: token(hr),
        accountsToken: token(accounts),
      }).toEqual({
        kills: 20,
        missing: [],
        extra: [],
        differing: [],
        insertedTwice: [],
        rewrites: [],
        queue: [['succeeded', 'add', PEOPLE]],
        itemsTwice: 0,
        supersededSent: 0,
        auditedTwice: 0,
        meshCreatedTwice: 0,
        hrStaged: PEOPLE,
        hrDuplicates: 0,
        hrDiffering: [],
        pendingExports: 0,
        pendingImports: 0,
        hrToken: KILLS.import + KILLS.sync + 2,
        accountsToken: KILLS.export + 1,
      });
      expect(await meshObjects()).toBe(PEOPLE);
      expect(await engine.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } catch (error) {
      (error as Error).message = `${(error as Error).message}\n${report()}`;
      throw error;
    }
  });
});

/**
 * R2: the active engine, holding the lease of a connector mid-import, is
 * stopped with SIGSTOP for twice the lease time while a passive standby
 * watches the same database; then it gets SIGCONT. Each engine logs in to
 * PostgreSQL as a role of its own, so the commit log names the process behind
 * every committed row.
 */
describe('R2: the engine holding a lease paused with SIGSTOP for twice the lease time, then woken', () => {
  const PEOPLE = 10_000;
  const BATCH = 100;
  // The shortest lease the engine accepts (IM_ENGINE_LEASE_SECONDS is at least 15).
  const LEASE_SECONDS = 15;
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-faults-r2-'));
  const processes: AppProcess[] = [];
  let db: ThrowawayDatabase;
  let sql: Client;
  let edb: EngineDatabase;
  let roles: [string, string];
  let license: Record<string, string>;

  beforeAll(async () => {
    license = licensedEnv(dataDir);
    db = await createThrowawayDatabase('postgres');
    sql = new Client({ connectionString: db.settings.url });
    await sql.connect();
    edb = new EngineDatabase(sql);
    roles = [`${db.name}_engine_a`, `${db.name}_engine_b`];
    await createLoginRoles(sql, db.name, roles);
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.ensureStopped()));
    // Roles are server-wide: they would outlive the database.
    if (roles) await dropLoginRoles(sql, roles);
    await sql?.end();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startEngine(role: string, port: number): Promise<AppProcess> {
    const engine = AppProcess.start('sync-engine', {
      IM_DATA_DIR: dataDir,
      IM_ENGINE_PORT: String(port),
      IM_DB_TYPE: 'postgres',
      IM_DB_URL: urlWithUser(db.settings.url ?? '', role),
      IM_DB_AUTO_MIGRATE: 'true',
      IM_ENGINE_ON_CONFLICT: 'passive',
      IM_ENGINE_LEASE_SECONDS: String(LEASE_SECONDS),
      IM_ENGINE_HEARTBEAT_SECONDS: '1',
      IM_ENGINE_STALE_AFTER_SECONDS: '5',
      IM_ENGINE_RUN_POLL_MS: '100',
      ...license,
    });
    processes.push(engine);
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, engine);
    return engine;
  }

  const registryDetail = async (port: number) => {
    const body = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { checks: Array<{ name: string; detail: string }> };
    return body.checks.find((check) => check.name === 'engine-registry')?.detail ?? '';
  };
  const dbNow = async () => (await sql.query<{ now: Date }>(`SELECT clock_timestamp() AS now`)).rows[0].now;

  it('lets the standby take over; the woken engine commits nothing, takes nothing back, and the runs end exact under the standby', async () => {
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 100) / 10;
    const steps: string[] = [];
    const step = (text: string) => steps.push(`${seconds()} s: ${text}`);
    const feed = join(dataDir, 'people.csv');
    const people = await writeFeed(feed, PEOPLE, 20_260_102);

    const [portA, portB] = [await freePort(), await freePort()];
    const a = await startEngine(roles[0], portA);
    // The schema exists now (engine A migrated it): log every commit to the tables a run writes.
    await recordCommits(sql, ['IM_ConnectorSpaceObjects', 'IM_CsReferences', 'IM_Runs', 'IM_Watermarks', 'IM_RunObjectErrors', 'IM_ConnectorLeases', 'IM_MeshObjects', 'IM_ExportQueue', 'IM_AuditEvents']);
    const b = await startEngine(roles[1], portB);
    expect(await registryDetail(portA)).toMatch(/\(active\)$/);
    expect(await registryDetail(portB)).toMatch(/\(passive\)$/);
    const { rows: instances } = await sql.query<{ id: string; pid: number }>(`SELECT "id", "pid" FROM "IM_EngineInstances"`);
    const idOf = (engine: AppProcess) => instances.find((row) => row.pid === engine.child.pid)?.id ?? `pid ${engine.child.pid}`;
    const engineOfRole = new Map([
      [roles[0], idOf(a)],
      [roles[1], idOf(b)],
    ]);

    const hr = await edb.insertConnector({ name: 'HR', type: 'csv', config: peopleCsvConnectorConfig({ path: feed }), batchSize: BATCH });
    await insertHrRules(edb, hr);
    const staged = () => edb.count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1`, [hr]);
    const lease = async () => (await sql.query<{ engineInstanceId: string; fencingToken: string }>(`SELECT "engineInstanceId", "fencingToken" FROM "IM_ConnectorLeases" WHERE "connectorId" = $1`, [hr])).rows[0];

    try {
      const importRun = await edb.queueRun(hr, 'full-import');
      expect(await waitForProgress(edb, importRun, () => a, staged, PEOPLE / 4)).toBe(true);
      const leaseOfA = await lease();
      expect(leaseOfA.engineInstanceId).toBe(idOf(a));

      // Pause A inside a batch transaction, the worst moment: it holds the lease row's lock and has
      // written the batch's objects, uncommitted. The run row locked here holds A's next batch at its
      // counters; once A is stopped the lock goes, the statement completes, and A's session sits idle
      // in its open transaction until PostgreSQL ends it (idle_in_transaction_session_timeout).
      const locker = new Client({ connectionString: db.settings.url });
      await locker.connect();
      const sessionsOfA = (condition: string) => edb.count(`SELECT count(*) AS n FROM pg_stat_activity WHERE "datname" = $1 AND "usename" = $2 AND ${condition}`, [db.name, roles[0]]);
      try {
        await locker.query('BEGIN');
        await locker.query(`SELECT "id" FROM "IM_Runs" WHERE "id" = $1 FOR UPDATE`, [importRun]);
        const blockedBy = Date.now() + 30_000;
        while ((await sessionsOfA(`"wait_event_type" = 'Lock'`)) === 0 && Date.now() < blockedBy) await sleep(20);
        expect(await sessionsOfA(`"wait_event_type" = 'Lock'`)).toBeGreaterThan(0);
        a.child.kill('SIGSTOP');
      } finally {
        await locker.query('COMMIT');
        await locker.end();
      }
      const pausedAt = Date.now();
      const pausedAtDb = await dbNow();
      const idleBy = Date.now() + 30_000;
      while ((await sessionsOfA(`"state" = 'idle in transaction'`)) === 0 && Date.now() < idleBy) await sleep(20);
      expect(await sessionsOfA(`"state" = 'idle in transaction'`)).toBeGreaterThan(0);
      const stagedAtPause = await staged();
      step(`engine A paused inside a batch transaction, ${stagedAtPause} objects committed, fencing token ${leaseOfA.fencingToken}`);

      // Twice the lease time, and until B holds the lease, claimed the run and committed batches of its own.
      // B's takeover waits for A's open transaction, which ends when PostgreSQL ends A's idle session.
      const deadline = pausedAt + 180_000;
      let tookOver = false;
      while (Date.now() < deadline) {
        const current = await lease();
        const run = await fullRun(sql, importRun);
        const before = tookOver;
        tookOver = current.engineInstanceId === idOf(b) && Number(current.fencingToken) > Number(leaseOfA.fencingToken) && run.engineInstanceId === idOf(b) && (await staged()) > stagedAtPause;
        if (tookOver && !before) step(`engine B took the lease over and committed batches of the import ${Math.round((Date.now() - pausedAt) / 1000)} s after the pause`);
        if (tookOver && Date.now() - pausedAt >= 2 * LEASE_SECONDS * 1000) break;
        if (b.child.exitCode !== null) throw new Error(`engine B exited:\n${b.tail()}`);
        await sleep(250);
      }
      expect(tookOver).toBe(true);
      expect(await registryDetail(portB)).toMatch(/\(active\)$/);
      const leaseOfB = await lease();
      step(`engine B holds the lease with fencing token ${leaseOfB.fencingToken} and runs the import (${await staged()} staged)`);

      // More work for the connector, so that a woken engine that still took itself for the active one would find some.
      const syncRun = await edb.queueRun(hr, 'full-sync');
      const wokenAt = await dbNow();
      a.child.kill('SIGCONT');
      step(`engine A woken after ${Math.round((Date.now() - pausedAt) / 1000)} s paused`);

      const imported = await edb.waitForRun(importRun, b);
      const synced = await edb.waitForRun(syncRun, b);
      step(`import ${imported.status}, sync ${synced.status}`);
      // A has had many heartbeats and polls since it woke; it must have noticed and stayed out.
      const logDeadline = Date.now() + 30_000;
      const lostLine = () => a.records().find((r) => r['code'] === 'LEASE_LOST' || /lease lost|no longer holds the lease/.test(String(r['msg'])));
      while (!lostLine() && Date.now() < logDeadline) await sleep(250);

      // What every engine committed, as PostgreSQL saw it at COMMIT.
      const commits = (await readCommits(sql)).filter((commit) => engineOfRole.has(commit.writer));
      const afterWake = commits.filter((commit) => commit.writer === roles[0] && commit.committedAt.getTime() >= wokenAt.getTime());
      // The batch A had in flight when it was stopped never committed, not even before A woke.
      const inFlightBatch = commits.filter((commit) => commit.writer === roles[0] && commit.table !== 'IM_ConnectorLeases' && commit.committedAt.getTime() >= pausedAtDb.getTime());
      const unfenced = commits.filter((commit) => commit.connectorId !== null && commit.leaseEngine !== engineOfRole.get(commit.writer));
      const leaseChanges = commits.filter((commit) => commit.table === 'IM_ConnectorLeases').map((commit) => `${commit.writer === roles[0] ? 'A' : 'B'}:${commit.op}:${commit.leaseToken}`);
      const finalImport = await fullRun(sql, importRun);
      const finalSync = await fullRun(sql, syncRun);
      const finalLease = await lease();
      const { objects, duplicates } = await connectorSpace(sql, hr);
      const meshCreatedTwice = await edb.count(`SELECT count(*) AS n FROM (SELECT "targetId" FROM "IM_AuditEvents" WHERE "action" = 'mesh.create' GROUP BY "targetId" HAVING count(*) > 1) AS twice`);
      const pendingImports = await edb.count(`SELECT count(*) AS n FROM "IM_ConnectorSpaceObjects" WHERE "connectorId" = $1 AND "pendingImport" <> 'none'`, [hr]);
      const differing = people.filter((person) => canonical(objects.get(person.employeeId)) !== canonical(csvObjectOf(person))).map((person) => ({ id: person.employeeId, expected: csvObjectOf(person), actual: objects.get(person.employeeId) }));

      console.log(
        `R2 in ${seconds()} s:\n${steps.join('\n')}\n` +
          `commits: ${commits.filter((c) => c.writer === roles[0]).length} rows by A, ${commits.filter((c) => c.writer === roles[1]).length} by B; lease changes ${leaseChanges.join(' ')}\n` +
          `A after waking: ${lostLine()?.['msg'] ?? 'no lease-lost line'}; registry: ${a.child.exitCode === null ? await registryDetail(portA) : `exited ${a.child.exitCode}`}\n` +
          `import: ${finalImport.message}\nsync: ${finalSync.message}`,
      );
      expect({
        aAlive: a.child.exitCode === null && a.child.signalCode === null,
        aLogsLeaseLost: lostLine() !== undefined,
        committedByAAfterWaking: afterWake.slice(0, 5),
        inFlightBatchCommitted: inFlightBatch.slice(0, 5),
        unfenced: unfenced.slice(0, 5),
        leaseHolder: finalLease.engineInstanceId,
        importRun: { status: finalImport.status, engine: finalImport.engineInstanceId, added: finalImport.added, errors: finalImport.errors, recoveries: finalImport.recoveries },
        syncRun: { status: finalSync.status, engine: finalSync.engineInstanceId, projected: finalSync.projected, errors: finalSync.errors, recoveries: finalSync.recoveries },
        staged: objects.size,
        duplicates,
        differing: differing.slice(0, 5),
        meshObjects: await edb.count(`SELECT count(*) AS n FROM "IM_MeshObjects"`),
        meshCreatedTwice,
        pendingImports,
      }).toEqual({
        aAlive: true,
        aLogsLeaseLost: true,
        committedByAAfterWaking: [],
        inFlightBatchCommitted: [],
        unfenced: [],
        leaseHolder: idOf(b),
        importRun: { status: 'succeeded', engine: idOf(b), added: PEOPLE, errors: 0, recoveries: 1 },
        syncRun: { status: 'succeeded', engine: idOf(b), projected: PEOPLE, errors: 0, recoveries: 0 },
        staged: PEOPLE,
        duplicates: 0,
        differing: [],
        meshObjects: PEOPLE,
        meshCreatedTwice: 0,
        pendingImports: 0,
      });
      // The woken engine stands by: it does not hold or take leases, and it stops cleanly.
      expect(await registryDetail(portA)).toMatch(/\(passive\)$/);
      expect(await a.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(await b.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } catch (error) {
      (error as Error).message = `${(error as Error).message}\nR2 steps:\n${steps.join('\n')}\nengine A:\n${a.tail(15)}\nengine B:\n${b.tail(15)}`;
      throw error;
    }
  });
});
