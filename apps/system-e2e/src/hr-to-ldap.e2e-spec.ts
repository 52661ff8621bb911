import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { generateToDirectory, GROUPS_CONNECTOR_JSON, GROUPS_CSV, PEOPLE_CONNECTOR_JSON, PEOPLE_CSV } from '@identitymesh/identity-generator';
import type { CsvConnectorConfigJson, GenerateToDirectoryResult } from '@identitymesh/identity-generator';
import { AppProcess, freePort, waitForStatus } from './support/app-process';
import { EngineDatabase, QUICK_ENGINE_SETTINGS, RunProfileName, RunRow } from './support/engine-database';
import {
  compareDirectory,
  compareOperations,
  expectedDirectory,
  expectedOperations,
  firstSeenPeople,
  HrDirectoryConnectors,
  hrDirectoryRules,
  ldapConnectorConfig,
  loggedSignature,
  operationSignature,
  orderProblems,
  referenceOrderProblems,
  BIND_PASSWORD_SECRET,
  validateHrDirectoryRules,
} from './support/hr-directory';
import { dnKey, LdapSubtree, TEST_SLAPD } from './support/ldap-directory';
import { licensedEnv } from './support/license';
import { storeSecret } from './support/secrets-cli';

// 10k people through six runs per phase on a shared host: minutes, not seconds. Every wait below is bounded on its own.
jest.setTimeout(40 * 60_000);

const SEED = 20_250_101;
const PEOPLE = 10_000;
/** The longest any one run may take before the test gives up on it (a bound, not an expectation). */
const RUN_TIMEOUT_MS = 15 * 60_000;

interface TimedRun {
  label: string;
  run: RunRow;
  seconds: number;
}

/**
 * The end-to-end proof against a real OpenLDAP: the built Sync Engine as a
 * process on a throwaway PostgreSQL database, a generated HR feed of 10,000
 * people with managers and 1,000 groups in two CSV files, and the slapd of
 * tools/dev-services/services.sh as the target, in a subtree of the test's
 * own. After the full cycle slapd must hold exactly what an oracle computed
 * from the generator's population says; after a delta feed (hires, rehires,
 * leavers, moves, renames, title and manager changes, membership changes)
 * the writes slapd logged in its accesslog must be exactly those the
 * generator's change list implies — no more, no fewer — and slapd must hold
 * the oracle of the new population.
 */
describe('HR feed to OpenLDAP through the built engine on PostgreSQL (10k people)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-e2e-hr-ldap-'));
  const feedDir = join(dataDir, 'feed');
  let feed: GenerateToDirectoryResult;
  let db: ThrowawayDatabase;
  let sql: Client;
  let edb: EngineDatabase;
  let subtree: LdapSubtree;
  let engine: AppProcess;
  let connectors: HrDirectoryConnectors;
  let fullCycleDone = false;
  const timings: TimedRun[] = [];

  beforeAll(async () => {
    feed = await generateToDirectory({ seed: SEED, people: PEOPLE, out: feedDir, delta: true });
    db = await createThrowawayDatabase('postgres');
    sql = new Client({ connectionString: db.settings.url });
    await sql.connect();
    edb = new EngineDatabase(sql);
    subtree = await LdapSubtree.create('e2e-hr');

    const port = await freePort();
    const storage = { IM_DATA_DIR: dataDir, IM_DB_AUTO_MIGRATE: 'true', ...db.env };
    // The bind password goes in as an operator would store it; the connector config holds only its reference.
    await storeSecret(storage, BIND_PASSWORD_SECRET, TEST_SLAPD.adminPassword);
    engine = AppProcess.start('sync-engine', {
      ...storage,
      IM_ENGINE_PORT: String(port),
      ...QUICK_ENGINE_SETTINGS,
      ...licensedEnv(dataDir),
    });
    await waitForStatus(`http://127.0.0.1:${port}/health/ready`, 200, engine);

    const peopleConfig = JSON.parse(readFileSync(join(feedDir, PEOPLE_CONNECTOR_JSON), 'utf8')) as CsvConnectorConfigJson;
    const groupsConfig = JSON.parse(readFileSync(join(feedDir, GROUPS_CONNECTOR_JSON), 'utf8')) as CsvConnectorConfigJson;
    const layout = { people: subtree.people, groups: subtree.groups };
    connectors = {
      people: await edb.insertConnector({ name: 'HR people', type: 'csv', config: peopleConfig }),
      groups: await edb.insertConnector({ name: 'HR groups', type: 'csv', config: groupsConfig }),
      ldap: await edb.insertConnector({ name: 'Directory', type: 'ldap', config: ldapConnectorConfig(TEST_SLAPD.url, TEST_SLAPD.adminDn, layout) }),
    };
    const rules = hrDirectoryRules(connectors, layout);
    validateHrDirectoryRules(rules, connectors, { people: peopleConfig, groups: groupsConfig });
    for (const rule of rules) await edb.insertRule(rule);
  });

  afterAll(async () => {
    if (timings.length > 0) console.log(`run durations (${PEOPLE} people, seed ${SEED}):\n${timings.map((t) => `  ${t.label.padEnd(34)} ${t.seconds.toFixed(1).padStart(7)} s  ${t.run.message ?? ''}`).join('\n')}`);
    // Each clean-up runs even when one before it fails: a leftover subtree, database or directory would outlive the test.
    const cleanUps = [() => engine?.ensureStopped(), () => subtree?.remove(), () => sql?.end(), () => db?.drop()];
    const failures: unknown[] = [];
    for (const cleanUp of cleanUps) await Promise.resolve(cleanUp()).catch((error: unknown) => failures.push(error));
    rmSync(dataDir, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  });

  /** Runs a profile to its end; anything but a clean success fails with the run's message and its first per-object errors. */
  async function run(label: string, connectorId: string, profile: RunProfileName): Promise<RunRow> {
    const row = await edb.runToEnd(connectorId, profile, engine, RUN_TIMEOUT_MS);
    const { rows } = await sql.query<{ seconds: string }>(`SELECT extract(epoch FROM ("finishedAt" - "startedAt")) AS seconds FROM "IM_Runs" WHERE "id" = $1`, [row.id]);
    timings.push({ label, run: row, seconds: Number(rows[0]?.seconds ?? NaN) });
    if (row.status !== 'succeeded' || row.errors !== 0) {
      const errors = await edb.runErrors(row.id);
      throw new Error(`${label} ended ${row.status} with ${row.errors} error(s): ${row.message}\n${errors.map((e) => `  ${e.code} ${e.anchor ?? ''}: ${e.message}`).join('\n')}\nengine output:\n${engine.tail(20)}`);
    }
    return row;
  }

  async function directoryProblems(generation: number): Promise<string[]> {
    const layout = { people: subtree.people, groups: subtree.groups };
    const oracle = expectedDirectory(layout, feed.populations[generation], firstSeenPeople(feed.populations.slice(0, generation + 1)));
    const actual = [...(await subtree.entriesBelow(subtree.people)), ...(await subtree.entriesBelow(subtree.groups))];
    return compareDirectory(actual, oracle);
  }

  /** Lines for a failure message, the subtree's own suffix cut from every DN so they stay readable. */
  const shown = (lines: readonly string[], n = 30) => {
    if (lines.length === 0) return '(none)';
    const suffix = `,${dnKey(subtree.dn)}`;
    return [...lines.slice(0, n), ...(lines.length > n ? [`… ${lines.length - n} more`] : [])].map((line) => line.split(suffix).join(',…')).join('\n');
  };

  it('imports, syncs and exports the feed; slapd then holds exactly the oracle, each entry added once', async () => {
    const population = feed.populations[0];
    const nonEmptyGroups = population.groups.filter((group) => group.members.length > 0).length;
    const since = await subtree.serverTime();

    expect(await run('full import, HR people', connectors.people, 'full-import')).toMatchObject({ added: PEOPLE });
    expect(await run('full import, HR groups', connectors.groups, 'full-import')).toMatchObject({ added: population.groups.length });
    expect(await run('full sync, HR people', connectors.people, 'full-sync')).toMatchObject({ added: PEOPLE });
    expect(await run('full sync, HR groups', connectors.groups, 'full-sync')).toMatchObject({ added: nonEmptyGroups });
    const exported = await run('export, LDAP', connectors.ldap, 'export');
    expect(exported).toMatchObject({ exported: PEOPLE + nonEmptyGroups, added: PEOPLE + nonEmptyGroups, updated: 0, deleted: 0 });

    const problems = await directoryProblems(0);
    expect({ count: problems.length, problems: shown(problems) }).toEqual({ count: 0, problems: '(none)' });

    // One add per entry and nothing else: no entry written twice, no modify after its add.
    const logged = (await subtree.operationsSince(since)).map((op) => operationSignature(op.reqType, dnKey(op.reqDN), []));
    const oracle = expectedDirectory({ people: subtree.people, groups: subtree.groups }, population, firstSeenPeople([population]));
    const { missing, unexpected } = compareOperations(logged, [...oracle.keys()].map((key) => operationSignature('add', key, [])));
    expect({ missing: shown(missing), unexpected: shown(unexpected) }).toEqual({ missing: '(none)', unexpected: '(none)' });

    // The engine judges its own exports against a full read of slapd: every one arrived as sent (no EXPORT_NOT_CONFIRMED),
    // and what it recorded for each object is what the read stages — except for an entry without a value of one of the
    // connector's attributes (the CEO has no manager): the read stages that attribute as an empty list, the export
    // recorded it absent, and the staged hash tells the two apart (docs/engine.md, end-to-end proof, what it found).
    const withoutManager = population.people.filter((person) => person.manager === undefined).length;
    expect(await run('confirming import, LDAP', connectors.ldap, 'confirming-import')).toMatchObject({ added: 0, updated: withoutManager, deleted: 0 });
    fullCycleDone = true;
  });

  it('a delta feed causes exactly the LDAP writes its change list implies and no others; slapd then holds the oracle of the new population', async () => {
    if (!fullCycleDone) throw new Error('the full cycle before the delta did not complete; see the test before');
    const [before, after] = feed.populations;
    const changes = feed.deltas[0];
    // Replace the feed's files the way the generator's docs say: by a rename, so the connector never reads half a file.
    for (const file of [PEOPLE_CSV, GROUPS_CSV]) {
      const staged = join(feedDir, `.${file}.next`);
      copyFileSync(join(feedDir, 'delta-1', file), staged);
      renameSync(staged, join(feedDir, file));
    }

    const summary = changes.summary;
    expect(await run('delta import, HR people', connectors.people, 'delta-import')).toMatchObject({
      added: summary.hires + summary.rehires,
      deleted: summary.leavers,
      updated: summary.modified,
    });
    expect(await run('delta import, HR groups', connectors.groups, 'delta-import')).toMatchObject({ added: 0, deleted: 0, updated: summary.groupsChanged });
    expect(await run('delta sync, HR people', connectors.people, 'delta-sync')).toMatchObject({ added: summary.hires + summary.rehires, deleted: summary.leavers });
    await run('delta sync, HR groups', connectors.groups, 'delta-sync');

    const since = await subtree.serverTime();
    expect(await run('delta export, LDAP', connectors.ldap, 'export')).toMatchObject({ added: summary.hires + summary.rehires, deleted: summary.leavers });
    const logged = await subtree.operationsSince(since, { withMods: true });
    const layout = { people: subtree.people, groups: subtree.groups };
    const expected = expectedOperations(layout, before, after, changes, firstSeenPeople([before, after]));
    const actual = logged.map((op) => ({ key: dnKey(op.reqDN), signature: loggedSignature(op) }));
    const count = (type: string) => logged.filter((op) => op.reqType === type).length;
    console.log(`delta export: ${logged.length} LDAP writes logged, ${expected.length} expected (${count('add')} adds, ${count('delete')} deletes, ${count('modify')} modifies, ${count('modrdn')} renames)`);
    const { missing, unexpected } = compareOperations(
      actual.map((op) => op.signature),
      expected.map((op) => op.signature),
    );
    expect({
      missing: shown(missing),
      unexpected: shown(unexpected),
      order: shown(orderProblems(actual, expected)),
      references: shown(referenceOrderProblems(logged)),
    }).toEqual({ missing: '(none)', unexpected: '(none)', order: '(none)', references: '(none)' });

    const problems = await directoryProblems(1);
    expect({ count: problems.length, problems: shown(problems) }).toEqual({ count: 0, problems: '(none)' });
    expect(await run('confirming import after delta, LDAP', connectors.ldap, 'confirming-import')).toMatchObject({ added: 0, updated: 0, deleted: 0 });
  });
});
