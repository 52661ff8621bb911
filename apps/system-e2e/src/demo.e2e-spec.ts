import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { generateDelta, generatePopulation } from '@identitymesh/identity-generator';
import type { Population } from '@identitymesh/identity-generator';
import { AppProcess, freePort, waitForStatus, WORKSPACE_ROOT } from './support/app-process';
import { licensedEnv } from './support/license';

jest.setTimeout(360_000);

const PEOPLE = 300;
const SEED = 1;
/** A cycle needs about 45 s of its 60 s interval; two cycles, the first starting at once, fit well inside this. */
const CYCLE_WAIT_MS = 200_000;

/** The built demo tool as `npm start` runs it, its output kept line by line. */
class DemoProcess {
  readonly output: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    const main = join(WORKSPACE_ROOT, 'dist/tools/demo/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx build demo\` before the end-to-end tests`);
    this.child = spawn(process.execPath, [main], { cwd: WORKSPACE_ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    const collect = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      this.output.push(...lines);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((res) => this.child.on('exit', (code, signal) => res({ code, signal })));
  }

  /** Waits for a line of output that matches, or fails with the output so far. */
  async line(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.output.find((line) => pattern.test(line));
      if (found) return found;
      if (this.child.exitCode !== null) throw new Error(`the demo exited with ${this.child.exitCode} before printing ${pattern}:\n${this.output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`the demo printed no line matching ${pattern} within ${timeoutMs} ms:\n${this.output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  async ensureStopped(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

interface DirectoryRow {
  account_name: string;
  employee_id: string;
  display_name: string | null;
  surname: string | null;
  mail: string | null;
  department: string | null;
  title: string | null;
  manager: string | null;
  enabled: number | null;
}

interface GroupRow {
  group_id: string;
  name: string | null;
  kind: string | null;
  members: string | null;
  member_groups: string | null;
}

function readDirectory(file: string): { people: DirectoryRow[]; groups: GroupRow[] } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      people: db.prepare('SELECT account_name, employee_id, display_name, surname, mail, department, title, manager, enabled FROM people').all() as DirectoryRow[],
      groups: db.prepare('SELECT group_id, name, kind, members, member_groups FROM groups').all() as GroupRow[],
    };
  } finally {
    db.close();
  }
}

const values = (cell: string | null) => (cell ? cell.split(';').filter(Boolean).sort() : []);

/**
 * What the directory and the phone list must hold for a population, by the
 * demo's rules (docs/demo.md): everyone in the feed has one account, unique,
 * with the manager's account as manager, enabled while active; every group
 * with its members' accounts; the phone list holds the active people.
 */
function expectTargetsToHold(population: Population, dataDir: string): void {
  const { people, groups } = readDirectory(join(dataDir, 'demo', 'directory.sqlite'));
  const byEmployee = new Map(people.map((row) => [row.employee_id, row]));
  expect(people).toHaveLength(population.people.length);
  expect([...byEmployee.keys()].sort()).toEqual(population.people.map((p) => p.employeeId).sort());
  expect(new Set(people.map((row) => row.account_name.toLowerCase())).size).toBe(people.length);
  const accountOf = (employeeId: string) => byEmployee.get(employeeId)?.account_name;
  const employeeOf = new Map(people.map((row) => [row.account_name, row.employee_id]));

  const wrong: string[] = [];
  for (const person of population.people) {
    const row = byEmployee.get(person.employeeId) as DirectoryRow;
    const expected = {
      display_name: `${person.preferredName ?? person.givenName} ${person.surname}`,
      surname: person.surname,
      mail: `${row.account_name}@corp.example`,
      department: person.department,
      title: person.title,
      manager: person.manager ? (accountOf(person.manager) ?? `(no account for ${person.manager})`) : null,
      enabled: person.employmentStatus === 'active' ? 1 : 0,
    };
    const actual = { display_name: row.display_name, surname: row.surname, mail: row.mail, department: row.department, title: row.title, manager: row.manager, enabled: row.enabled };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) wrong.push(`${person.employeeId}: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`);
    if (!/^[a-z0-9]{1,20}$/.test(row.account_name)) wrong.push(`${person.employeeId}: account name ${row.account_name}`);
  }
  expect(wrong.slice(0, 5)).toEqual([]);

  // The feed repeats names on purpose: a repeated name gets a number.
  const byName = new Map<string, string[]>();
  for (const person of population.people) byName.set(`${person.givenName} ${person.surname}`, [...(byName.get(`${person.givenName} ${person.surname}`) ?? []), person.employeeId]);
  const repeated = [...byName.values()].filter((ids) => ids.length > 1);
  expect(repeated.length).toBeGreaterThan(0);
  for (const ids of repeated) expect(ids.map(accountOf).filter((account) => /\d$/.test(account ?? '')).length).toBeGreaterThanOrEqual(ids.length - 1);

  expect(groups.map((g) => g.group_id).sort()).toEqual(population.groups.map((g) => g.groupId));
  const groupRows = new Map(groups.map((g) => [g.group_id, g]));
  const wrongGroups: string[] = [];
  for (const group of population.groups) {
    const row = groupRows.get(group.groupId) as GroupRow;
    const members = values(row.members).map((account) => employeeOf.get(account) ?? `(unknown account ${account})`);
    if (JSON.stringify(members.sort()) !== JSON.stringify(group.members) || JSON.stringify(values(row.member_groups)) !== JSON.stringify(group.memberGroups) || row.name !== group.name) {
      wrongGroups.push(`${group.groupId}: ${members.length} members, ${row.member_groups ?? 'no'} member groups; the feed says ${group.members.length}, ${group.memberGroups.join(';') || 'no'}`);
    }
  }
  expect(wrongGroups.slice(0, 5)).toEqual([]);

  const phoneList = parse(readFileSync(join(dataDir, 'demo', 'phone-list.csv'), 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  const active = population.people.filter((p) => p.employmentStatus === 'active');
  expect(phoneList.map((row) => row['Employee ID']).sort()).toEqual(active.map((p) => p.employeeId).sort());
  for (const row of phoneList) {
    const person = byEmployee.get(row['Employee ID']) as DirectoryRow;
    expect({ account: row['Account'], name: row['Name'], mail: row['Mail'] }).toEqual({ account: person.account_name, name: person.display_name, mail: person.mail });
  }
}

/**
 * `npm start`'s demo on the built Sync Engine and the built demo tool, on a
 * fresh data directory with the embedded SQLite database: the demo writes
 * its configuration, the engine's schedules run two cycles, and the
 * directory and the phone list hold the generator's first snapshot after the
 * first and delta-1 after the second.
 */
describe('the npm start demo on the built engine', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-demo-'));
  let engine: AppProcess | undefined;
  let demo: DemoProcess | undefined;

  afterAll(async () => {
    await demo?.ensureStopped();
    await engine?.ensureStopped();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('syncs the first snapshot in the first cycle and delta-1 in the second', async () => {
    const port = await freePort();
    const env = { IM_DATA_DIR: dataDir, ...licensedEnv(dataDir) };
    // Chains move on at the next scheduler tick: a shorter tick keeps the cycles short, it changes nothing else.
    engine = AppProcess.start('sync-engine', { ...env, IM_ENGINE_PORT: String(port), IM_ENGINE_SCHEDULER_TICK_MS: '1000' });
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, engine);
    demo = new DemoProcess({ IM_DATA_DIR: dataDir, IM_DEMO_PEOPLE: String(PEOPLE), IM_DEMO_INTERVAL_SECONDS: '60' });

    const first = generatePopulation({ seed: SEED, people: PEOPLE });
    const second = generateDelta(first).population;

    await demo.line(/^cycle 1 finished/, CYCLE_WAIT_MS);
    expectTargetsToHold(first, dataDir);
    await demo.line(/^HR feed: delta-1 swapped in/, 10_000);

    await demo.line(/^cycle 2 finished/, CYCLE_WAIT_MS);
    expectTargetsToHold(second, dataDir);
    // The demo's own summary agrees: every kind of change of delta-1 shows in the targets.
    const summary = demo.output.slice(demo.output.findIndex((line) => /^cycle 2 finished/.test(line)));
    expect(summary.filter((line) => / → \d+/.test(line)).every((line) => line.endsWith('✓'))).toBe(true);
    expect(summary).toContain('  errors      none');

    // Every run succeeded, and the staggered schedules kept the order the rules need: the HR groups chain
    // of each cycle started after the HR people chain had ended.
    const db = new Database(join(dataDir, 'identitymesh.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const runs = db
        .prepare('SELECT c.name AS name, r.profile AS profile, r.status AS status, r.errors AS errors, r.startedAt AS startedAt, r.finishedAt AS finishedAt FROM IM_Runs r JOIN IM_Connectors c ON c.id = r.connectorId ORDER BY r.queuedAt')
        .all() as Array<{ name: string; profile: string; status: string; errors: number; startedAt: string; finishedAt: string }>;
      expect(runs.filter((r) => r.status !== 'succeeded' || r.errors > 0)).toEqual([]);
      const peopleSyncs = runs.filter((r) => r.name === 'HR people' && r.profile === 'delta-sync');
      const groupImports = runs.filter((r) => r.name === 'HR groups' && r.profile === 'delta-import');
      expect(peopleSyncs.length).toBeGreaterThanOrEqual(2);
      for (const [i, sync] of peopleSyncs.slice(0, 2).entries()) expect(groupImports[i].startedAt >= sync.finishedAt).toBe(true);
    } finally {
      db.close();
    }

    expect(await demo.stop()).toEqual({ code: 0, signal: null });
    expect(await engine.stop()).toEqual({ code: 0, signal: null });
  });
});
