import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import { generateToDirectory, GROUPS_CONNECTOR_JSON, GROUPS_CSV, PEOPLE_CONNECTOR_JSON, PEOPLE_CSV } from '@identitymesh/identity-generator';
import type { CsvConnectorConfigJson, GenerateToDirectoryResult } from '@identitymesh/identity-generator';
import { AppProcess, createApiKey, freePort, waitForStatus } from './support/app-process';
import { EngineDatabase, QUICK_ENGINE_SETTINGS, RunProfileName, RunRow } from './support/engine-database';
import {
  BIND_PASSWORD_SECRET,
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
  validateHrDirectoryRules,
} from './support/hr-directory';
import { dnKey, LdapSubtree, TEST_SLAPD } from './support/ldap-directory';
import { licensedEnv } from './support/license';
import { storeRelaySecret, storeSecret } from './support/secrets-cli';
import { TcpProxy } from './support/tcp-proxy';

jest.setTimeout(20 * 60_000);

const SEED = 20_260_707;
const PEOPLE = 2_000;
const RELAY_GROUP = 'branch-office';
/** Small batches, so every fault below lands in the middle of a stream of them. */
const LDAP_BATCH = 50;
const RUN_TIMEOUT_MS = 8 * 60_000;

type Json = Record<string, unknown>;

/**
 * Relays end to end, every part a process of its own on one PostgreSQL
 * database: the built Admin API (the hub), the built Sync Engine and a built
 * relay agent with a data directory of its own, as on a remote host. The
 * relay dials the hub through a TCP forwarder the test can cut like a
 * network. The directory connector (OpenLDAP) runs on the relay; the HR
 * feeds run in the engine. A second directory connector on the same subtree
 * runs in the engine, as the yardstick the relay's results must equal.
 *
 * Then the faults of reliability.md R4 and R5: the relay's connection cut in
 * the middle of an import and of an export, the relay killed with -9 and
 * started again, the Admin API killed with the relay connected. After each,
 * every staged batch was applied exactly once, slapd got each write once,
 * the engine's other connectors never waited, and the relay came back.
 */
describe('Relays: the directory connector on a relay agent (processes on PostgreSQL, OpenLDAP)', () => {
  const root = mkdtempSync(join(tmpdir(), 'im-e2e-relays-'));
  const serverDir = join(root, 'server');
  const relayDir = join(root, 'relay-host');
  const feedDir = join(root, 'feed');
  let feed: GenerateToDirectoryResult;
  let db: ThrowawayDatabase;
  let sql: Client;
  let edb: EngineDatabase;
  let subtree: LdapSubtree;
  let admin: AppProcess;
  let engine: AppProcess;
  let relay: AppProcess;
  let proxy: TcpProxy;
  let serverEnv: Record<string, string>;
  let relayEnv: Record<string, string>;
  let adminUrl = '';
  let apiKey = '';
  let relayId = '';
  let connectors: HrDirectoryConnectors;
  /** The same subtree read by a connector the engine runs itself. */
  let localLdap = '';
  let cycleDone = false;

  beforeAll(async () => {
    feed = await generateToDirectory({ seed: SEED, people: PEOPLE, out: feedDir, delta: true });
    db = await createThrowawayDatabase('postgres');
    sql = new Client({ connectionString: db.settings.url });
    await sql.connect();
    edb = new EngineDatabase(sql);
    subtree = await LdapSubtree.create('e2e-relay');

    const adminPort = await freePort();
    adminUrl = `http://127.0.0.1:${adminPort}`;
    serverEnv = {
      IM_DATA_DIR: serverDir,
      ...db.env,
      ...QUICK_ENGINE_SETTINGS,
      IM_ADMIN_PORT: String(adminPort),
      IM_ENGINE_PORT: String(await freePort()),
      IM_HUB_URL: adminUrl,
      ...licensedEnv(serverDir),
    };
    // The engine's own directory connector (the yardstick) needs the bind password on the server side too.
    await storeSecret(serverEnv, BIND_PASSWORD_SECRET, TEST_SLAPD.adminPassword);
    apiKey = await createApiKey(serverEnv, 'admin', 'relay-e2e');
    admin = AppProcess.start('admin-api', serverEnv);
    await waitForStatus(`${adminUrl}/health/ready`, 200, admin);
    engine = AppProcess.start('sync-engine', serverEnv);
    await waitForStatus(`http://127.0.0.1:${serverEnv['IM_ENGINE_PORT']}/health/ready`, 200, engine);
    proxy = await TcpProxy.start(adminPort);

    const enrollment = await call('POST', '/api/relays/enrollments', { relayGroup: RELAY_GROUP });
    expect(enrollment.status).toBe(201);
    relayEnv = { IM_DATA_DIR: relayDir, IM_RELAY_PORT: String(await freePort()), IM_RELAY_NAME: 'branch-1', IM_HUB_URL: proxy.url };
    // The directory's password lives on the relay's host only, in its own secret store.
    await storeRelaySecret(relayEnv, BIND_PASSWORD_SECRET, TEST_SLAPD.adminPassword);
    relay = AppProcess.start('relay-agent', { ...relayEnv, IM_RELAY_ENROLLMENT_TOKEN: enrollment.body['token'] as string });
    const listed = await waitForRelay((r) => r['connected'] === true);
    relayId = listed['id'] as string;
    expect(listed).toMatchObject({ name: 'branch-1', relayGroup: RELAY_GROUP, status: 'active', connected: true });

    const peopleConfig = JSON.parse(readFileSync(join(feedDir, PEOPLE_CONNECTOR_JSON), 'utf8')) as CsvConnectorConfigJson;
    const groupsConfig = JSON.parse(readFileSync(join(feedDir, GROUPS_CONNECTOR_JSON), 'utf8')) as CsvConnectorConfigJson;
    const layout = { people: subtree.people, groups: subtree.groups };
    const ldapConfig = ldapConnectorConfig(TEST_SLAPD.url, TEST_SLAPD.adminDn, layout);
    connectors = {
      people: await edb.insertConnector({ name: 'HR people', type: 'csv', config: peopleConfig }),
      groups: await edb.insertConnector({ name: 'HR groups', type: 'csv', config: groupsConfig }),
      ldap: await edb.insertConnector({ name: 'Directory (relay)', type: 'ldap', config: ldapConfig, batchSize: LDAP_BATCH, relayGroup: RELAY_GROUP }),
    };
    localLdap = await edb.insertConnector({ name: 'Directory (in the engine)', type: 'ldap', config: ldapConfig, batchSize: LDAP_BATCH });
    const rules = hrDirectoryRules(connectors, layout);
    validateHrDirectoryRules(rules, connectors, { people: peopleConfig, groups: groupsConfig });
    for (const rule of rules) await edb.insertRule(rule);
  });

  afterAll(async () => {
    const cleanUps = [() => relay?.ensureStopped(), () => engine?.ensureStopped(), () => admin?.ensureStopped(), () => proxy?.close(), () => subtree?.remove(), () => sql?.end(), () => db?.drop()];
    const failures: unknown[] = [];
    for (const cleanUp of cleanUps) await Promise.resolve(cleanUp()).catch((error: unknown) => failures.push(error));
    rmSync(root, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  });

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
  }

  /** Polls GET /api/relays until the relay matches; the first listing of it that does. */
  async function waitForRelay(matches: (relay: Json) => boolean, timeoutMs = 60_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = 'no answer';
    while (Date.now() < deadline) {
      try {
        const listed = await call('GET', '/api/relays');
        const items = (listed.body['items'] ?? []) as Json[];
        last = items;
        const found = items.find((r) => (relayId === '' || r['id'] === relayId) && matches(r));
        if (found) return found;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the relay did not reach the expected state within ${timeoutMs} ms; last listing: ${JSON.stringify(last)}\nrelay output:\n${relay.tail()}`);
  }

  async function run(label: string, connectorId: string, profile: RunProfileName): Promise<RunRow> {
    return expectSucceeded(label, await edb.runToEnd(connectorId, profile, () => engine, RUN_TIMEOUT_MS));
  }

  async function expectSucceeded(label: string, row: RunRow): Promise<RunRow> {
    if (row.status !== 'succeeded' || row.errors !== 0) {
      const errors = await edb.runErrors(row.id);
      throw new Error(
        `${label} ended ${row.status} with ${row.errors} error(s): ${row.message}\n${errors.map((e) => `  ${e.code} ${e.anchor ?? ''}: ${e.message}`).join('\n')}\nengine:\n${engine.tail(15)}\nrelay:\n${relay.tail(15)}\nadmin:\n${admin.tail(10)}`,
      );
    }
    return row;
  }

  /** The relay work item of a run (there is one per import run; an export run has one per batch). */
  async function workItems(runId: string): Promise<Array<{ id: string; kind: string; status: string; attempts: number }>> {
    const { rows } = await sql.query(`SELECT "id", "kind", "status", "attempts" FROM "IM_RelayWorkItems" WHERE "runId" = $1 ORDER BY "createdAt"`, [runId]);
    return rows;
  }

  /** Waits until `condition` holds, polling; fails with `what` when it does not in time. */
  async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${what} did not happen within ${timeoutMs} ms\nengine:\n${engine.tail(10)}\nrelay:\n${relay.tail(10)}`);
  }

  /** Staged import batches of a run's work item, and how many of them were applied. */
  async function batches(runId: string): Promise<{ staged: number; applied: number; distinct: number; lastSeq: number }> {
    const { rows } = await sql.query(
      `SELECT count(*)::int AS staged, count(b."appliedAt")::int AS applied, count(DISTINCT b."batchSeq")::int AS distinct, coalesce(max(b."batchSeq"), 0)::int AS "lastSeq"
         FROM "IM_RelayResultBatches" b JOIN "IM_RelayWorkItems" w ON w."id" = b."workItemId" WHERE w."runId" = $1`,
      [runId],
    );
    return rows[0];
  }

  /**
   * The connector space of the relay's directory connector equals that of
   * the engine's own connector on the same subtree: the same objects with the
   * same names, the same attribute hashes, and the same references.
   */
  async function expectSameConnectorSpace(): Promise<void> {
    await run('full import, directory in the engine', localLdap, 'full-import');
    const space = async (connectorId: string) => {
      const { rows } = await sql.query<{ line: string }>(
        `SELECT o."objectType" || ' ' || o."anchor" || ' ' || lower(coalesce(o."distinguishedName", '')) || ' ' || o."attributeHash" AS line
           FROM "IM_ConnectorSpaceObjects" o WHERE o."connectorId" = $1 AND o."pendingImport" <> 'delete' ORDER BY 1`,
        [connectorId],
      );
      return rows.map((r) => r.line);
    };
    // Each reference as the source's anchor, the attribute, the target's key and the target's anchor once linked.
    const references = async (connectorId: string) => {
      const { rows } = await sql.query<{ line: string }>(
        `SELECT o."anchor" || ' ' || r."attributeName" || ' ' || lower(r."targetKey") || ' ' || coalesce(t."anchor", '(unlinked)') AS line
           FROM "IM_CsReferences" r JOIN "IM_ConnectorSpaceObjects" o ON o."id" = r."csObjectId" LEFT JOIN "IM_ConnectorSpaceObjects" t ON t."id" = r."targetCsObjectId"
          WHERE o."connectorId" = $1 AND o."pendingImport" <> 'delete' ORDER BY 1`,
        [connectorId],
      );
      return rows.map((r) => r.line);
    };
    // One client, so one query at a time. Objects the engine's connector saw disappear wait there as pending deletes
    // (with their references) while the relay's connector deleted them itself: both comparisons leave those out.
    const relayed = await space(connectors.ldap);
    const local = await space(localLdap);
    const relayedReferences = await references(connectors.ldap);
    const localReferences = await references(localLdap);
    const onlyIn = (lines: string[], other: string[]) => {
      const set = new Set(other);
      return lines.filter((line) => !set.has(line)).slice(0, 10);
    };
    expect({
      objects: relayed.length,
      onlyThroughRelay: onlyIn(relayed, local),
      onlyInEngine: onlyIn(local, relayed),
      references: relayedReferences.length,
      referencesOnlyThroughRelay: onlyIn(relayedReferences, localReferences),
      referencesOnlyInEngine: onlyIn(localReferences, relayedReferences),
    }).toEqual({ objects: local.length, onlyThroughRelay: [], onlyInEngine: [], references: localReferences.length, referencesOnlyThroughRelay: [], referencesOnlyInEngine: [] });
  }

  it('a full cycle through the relay writes exactly the oracle into slapd, each entry once, and reads it back as the engine does', async () => {
    const population = feed.populations[0];
    const nonEmptyGroups = population.groups.filter((group) => group.members.length > 0).length;
    const since = await subtree.serverTime();
    await run('full import, HR people', connectors.people, 'full-import');
    await run('full import, HR groups', connectors.groups, 'full-import');
    await run('full sync, HR people', connectors.people, 'full-sync');
    await run('full sync, HR groups', connectors.groups, 'full-sync');
    const exported = await run('export through the relay', connectors.ldap, 'export');
    expect(exported).toMatchObject({ exported: PEOPLE + nonEmptyGroups, added: PEOPLE + nonEmptyGroups, updated: 0, deleted: 0 });
    const exportItems = await workItems(exported.id);
    expect(exportItems.length).toBeGreaterThan(1);
    expect(exportItems.every((item) => item.kind === 'export' && item.status === 'done' && item.attempts === 1)).toBe(true);

    const layout = { people: subtree.people, groups: subtree.groups };
    const oracle = expectedDirectory(layout, population, firstSeenPeople([population]));
    const actual = [...(await subtree.entriesBelow(subtree.people)), ...(await subtree.entriesBelow(subtree.groups))];
    expect(compareDirectory(actual, oracle).slice(0, 20)).toEqual([]);
    const logged = (await subtree.operationsSince(since)).map((op) => operationSignature(op.reqType, dnKey(op.reqDN), []));
    const { missing, unexpected } = compareOperations(logged, [...oracle.keys()].map((key) => operationSignature('add', key, [])));
    expect({ missing: missing.slice(0, 10), unexpected: unexpected.slice(0, 10) }).toEqual({ missing: [], unexpected: [] });

    // The same judgement the in-engine connector reaches in hr-to-ldap.e2e-spec.ts: only the people without a manager read back differently.
    const withoutManager = population.people.filter((person) => person.manager === undefined).length;
    const confirmed = await run('confirming import through the relay', connectors.ldap, 'confirming-import');
    expect(confirmed).toMatchObject({ added: 0, updated: withoutManager, deleted: 0 });
    const [importItem] = await workItems(confirmed.id);
    expect(importItem).toMatchObject({ kind: 'import', status: 'done', attempts: 1 });
    const progress = await batches(confirmed.id);
    expect(progress.lastSeq).toBeGreaterThan(Math.floor((PEOPLE + nonEmptyGroups) / LDAP_BATCH) - 1);
    expect(progress).toEqual({ staged: progress.lastSeq, applied: progress.lastSeq, distinct: progress.lastSeq, lastSeq: progress.lastSeq });
    await expectSameConnectorSpace();
    cycleDone = true;
  });

  it('R4: the relay connection cut in the middle of an import: the stream goes on after the reconnect and every batch is applied once', async () => {
    if (!cycleDone) throw new Error('the full cycle did not complete; see the test before');
    const accepted = proxy.accepted;
    const runId = await edb.queueRun(connectors.ldap, 'full-import');
    await until('three staged batches', async () => (await batches(runId)).staged >= 3);
    expect(proxy.dropAll()).toBeGreaterThan(0);
    const row = await expectSucceeded('full import after a cut', await edb.waitForRun(runId, () => engine, RUN_TIMEOUT_MS));
    expect(row).toMatchObject({ added: 0, updated: 0, deleted: 0 });
    expect(proxy.accepted).toBeGreaterThan(accepted);
    const progress = await batches(runId);
    expect(progress).toEqual({ staged: progress.lastSeq, applied: progress.lastSeq, distinct: progress.lastSeq, lastSeq: progress.lastSeq });
    expect(await workItems(runId)).toEqual([expect.objectContaining({ status: 'done', attempts: 1 })]);
    await expectSameConnectorSpace();
  });

  it('R4: the relay connection cut in the middle of an export: slapd gets exactly the writes of the delta, each once', async () => {
    if (!cycleDone) throw new Error('the full cycle did not complete; see the first test');
    const [before, after] = feed.populations;
    const changes = feed.deltas[0];
    for (const file of [PEOPLE_CSV, GROUPS_CSV]) {
      const staged = join(feedDir, `.${file}.next`);
      copyFileSync(join(feedDir, 'delta-1', file), staged);
      renameSync(staged, join(feedDir, file));
    }
    await run('delta import, HR people', connectors.people, 'delta-import');
    await run('delta import, HR groups', connectors.groups, 'delta-import');
    await run('delta sync, HR people', connectors.people, 'delta-sync');
    await run('delta sync, HR groups', connectors.groups, 'delta-sync');

    const since = await subtree.serverTime();
    const runId = await edb.queueRun(connectors.ldap, 'export');
    await until('the first export batch through the relay', async () => (await workItems(runId)).some((item) => item.status === 'done'));
    proxy.dropAll();
    const row = await expectSucceeded('delta export after a cut', await edb.waitForRun(runId, () => engine, RUN_TIMEOUT_MS));
    expect(row).toMatchObject({ added: changes.summary.hires + changes.summary.rehires, deleted: changes.summary.leavers });

    const logged = await subtree.operationsSince(since, { withMods: true });
    const layout = { people: subtree.people, groups: subtree.groups };
    const expected = expectedOperations(layout, before, after, changes, firstSeenPeople([before, after]));
    const { missing, unexpected } = compareOperations(
      logged.map((op) => loggedSignature(op)),
      expected.map((op) => op.signature),
    );
    expect({ missing: missing.slice(0, 10), unexpected: unexpected.slice(0, 10) }).toEqual({ missing: [], unexpected: [] });
    const oracle = expectedDirectory(layout, after, firstSeenPeople([before, after]));
    const actual = [...(await subtree.entriesBelow(subtree.people)), ...(await subtree.entriesBelow(subtree.groups))];
    expect(compareDirectory(actual, oracle).slice(0, 20)).toEqual([]);
    expect(await run('confirming import after the delta, through the relay', connectors.ldap, 'confirming-import')).toMatchObject({ added: 0, updated: 0, deleted: 0 });
    await expectSameConnectorSpace();
  });

  it('R4: the relay killed in the middle of an import: the engine runs its other connectors meanwhile, and the import completes once the relay is back', async () => {
    if (!cycleDone) throw new Error('the full cycle did not complete; see the first test');
    const runId = await edb.queueRun(connectors.ldap, 'full-import');
    await until('three staged batches', async () => (await batches(runId)).staged >= 3);
    relay.child.kill('SIGKILL');
    await relay.exit();
    await waitForRelay((r) => r['connected'] === false);

    // The engine is not held up by the relay's connector: a run of another connector starts and ends while the relay is gone.
    const other = await run('full import of HR people while the relay is down', connectors.people, 'full-import');
    expect(other.status).toBe('succeeded');
    expect((await edb.run(runId)).status).toBe('running');

    // Started again with its data directory only: the credential it enrolled with is on its disk.
    relay = AppProcess.start('relay-agent', relayEnv);
    const row = await expectSucceeded('full import after the relay restarted', await edb.waitForRun(runId, () => engine, RUN_TIMEOUT_MS));
    expect(row).toMatchObject({ added: 0, deleted: 0 });
    const progress = await batches(runId);
    expect(progress).toEqual({ staged: progress.lastSeq, applied: progress.lastSeq, distinct: progress.lastSeq, lastSeq: progress.lastSeq });
    expect(await workItems(runId)).toEqual([expect.objectContaining({ status: 'done' })]);
    await expectSameConnectorSpace();
  });

  it('R5: the Admin API killed with the relay connected: the engine goes on, and the relay is back within a minute of its return', async () => {
    if (!cycleDone) throw new Error('the full cycle did not complete; see the first test');
    await waitForRelay((r) => r['connected'] === true);
    admin.child.kill('SIGKILL');
    await admin.exit();

    // Engine work goes on without the hub: a local run, and relay work queued (it waits in SQL).
    const relayRun = await edb.queueRun(connectors.ldap, 'full-import');
    const other = await run('full import of HR groups while the Admin API is down', connectors.groups, 'full-import');
    expect(other.status).toBe('succeeded');
    expect((await workItems(relayRun)).map((item) => item.status)).toEqual(['queued']);

    admin = AppProcess.start('admin-api', serverEnv);
    await waitForStatus(`${adminUrl}/health/ready`, 200, admin);
    const back = Date.now();
    const listed = await waitForRelay((r) => r['connected'] === true, 60_000);
    const seconds = (Date.now() - back) / 1000;
    console.log(`relay back ${seconds.toFixed(1)} s after the Admin API answered again`);
    expect(listed).toMatchObject({ connected: true, host: expect.any(String), version: expect.any(String) });
    const row = await expectSucceeded('full import queued while the hub was down', await edb.waitForRun(relayRun, () => engine, RUN_TIMEOUT_MS));
    expect(row).toMatchObject({ added: 0, deleted: 0 });

    const ping = await call('POST', `/api/relays/${relayId}/commands`, { kind: 'ping' });
    expect(ping).toMatchObject({ status: 200, body: { kind: 'ping', outcome: 'ok' } });
  });
});
