import { createThrowawayDatabase, type ThrowawayDatabase } from '@identitymesh/testing';
import { ConnectorError } from '@identitymesh/connector-sdk';
import { MetricsRegistry } from '@identitymesh/platform';
import {
  connectDatabase,
  ConnectorDefinition,
  ConnectorLeaseRepository,
  ConnectorRepository,
  ConnectorSpaceRepository,
  LeaseGrant,
  migrateDatabase,
  RunRepository,
  RunView,
  TransactionRunner,
  WatermarkRepository,
} from '@identitymesh/persistence';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ConnectorHost } from '../connectors/connector-host.service';
import { RunContext, RunOutcome, StopReason } from '../runs/run-context';
import { InMemorySystem } from '../testing/in-memory-connector';
import { dnHash } from './import-staging';
import { ImportRunner } from './import-runner.service';

jest.setTimeout(120_000);

const ENGINE = 'engine-under-test';

describe.each(['sqlite', 'postgres'] as const)('import runs on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let statements = 0;
  let counting = false;
  let connectors: ConnectorRepository;
  let runs: RunRepository;
  let leases: ConnectorLeaseRepository;
  let space: ConnectorSpaceRepository;
  let watermarks: WatermarkRepository;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings, undefined, { onQuery: () => void (counting && statements++) });
    await migrateDatabase(dataSource);
    connectors = new ConnectorRepository(dataSource);
    runs = new RunRepository(dataSource);
    leases = new ConnectorLeaseRepository(dataSource);
    space = new ConnectorSpaceRepository(dataSource);
    watermarks = new WatermarkRepository(dataSource);
  });
  afterAll(async () => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    await dataSource?.destroy();
    await db?.drop();
  });

  /** A system, a connector row for it and the runner that imports from it. */
  async function setUp(options: { batchSize?: number; errorThreshold?: number | null } = {}) {
    const system = new InMemorySystem();
    const metrics = new MetricsRegistry();
    const host = new ConnectorHost([system.factory('scim')], { resolve: async () => 'unused' });
    const runner = new ImportRunner(host, new TransactionRunner(dataSource), leases, space, runs, watermarks, metrics);
    const connector = await connectors.create({ name: `memory ${Math.random()}`, type: 'scim', config: {}, batchSize: options.batchSize ?? 500, errorThreshold: options.errorThreshold ?? null });
    return { system, metrics, runner, connector };
  }

  /** What the run queue does before a run: the lease, then the claim. */
  async function claim(connector: ConnectorDefinition, profile: 'full-import' | 'delta-import', options: { queue: boolean } = { queue: true }): Promise<{ run: RunView; lease: LeaseGrant; controller: AbortController; context: RunContext }> {
    if (options.queue) await runs.queue({ connectorId: connector.id, profile, trigger: 'manual' });
    const lease = (await leases.acquire(connector.id, ENGINE, { now: new Date(), durationMs: 60_000, takeover: 'always' })) as LeaseGrant;
    const run = (await runs.claimNext(ENGINE, { now: new Date(), connectorId: connector.id, fencingToken: lease.fencingToken })) as RunView;
    const controller = new AbortController();
    return { run, lease, controller, context: { run, connector, lease, engineInstanceId: ENGINE, signal: controller.signal } };
  }

  /** What the executor does after a run. */
  async function record(claimed: { run: RunView; lease: LeaseGrant }, outcome: RunOutcome): Promise<RunView> {
    if (outcome.kind === 'finished') await runs.finish(claimed.run.id, ENGINE, claimed.lease.fencingToken, { status: outcome.status, message: outcome.message, now: new Date() });
    if (outcome.kind === 'interrupted') await runs.requeue(claimed.run.id, ENGINE, claimed.lease.fencingToken, outcome.message);
    await leases.release(claimed.lease.connectorId, ENGINE, claimed.lease.fencingToken, new Date());
    return (await runs.findById(claimed.run.id)) as RunView;
  }

  async function importRun(runner: ImportRunner, connector: ConnectorDefinition, profile: 'full-import' | 'delta-import') {
    const claimed = await claim(connector, profile);
    const outcome = await runner.run(claimed.context);
    return { outcome, run: await record(claimed, outcome) };
  }

  const people = (system: InMemorySystem, count: number, from = 0) => {
    for (let i = from; i < from + count; i++) {
      const id = `E${String(i).padStart(5, '0')}`;
      system.upsert('person', id, { employeeId: [id], mail: [`${id.toLowerCase()}@example.com`], manager: i === 0 ? [] : ['E00000'] }, `uid=${id},ou=People,dc=example,dc=com`);
    }
  };
  const all = (connectorId: string) => space.list(connectorId, { limit: 10_000 });
  const metricValue = async (metrics: MetricsRegistry, name: string, labels: string) => {
    const line = (await metrics.render()).body.split('\n').find((l) => l.startsWith(`identitymesh_${name}{`) && l.includes(labels));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it('runs a full import in batches: every object staged once, references resolved, watermark at the end, within the statement budget', async () => {
    const { system, metrics, runner, connector } = await setUp();
    people(system, 1_997);
    system.upsert('group', 'staff', { cn: ['staff'], member: ['UID=E00001,OU=People,DC=example,DC=com', 'uid=E00002, ou=People, dc=example, dc=com', 'uid=nobody,ou=People,dc=example,dc=com'] });
    system.upsert('group', 'empty', { cn: ['empty'], member: [] });
    system.upsert('group', 'admins', { cn: ['admins'], member: ['uid=E00000,ou=People,dc=example,dc=com'] });

    counting = true;
    statements = 0;
    const { outcome, run } = await importRun(runner, connector, 'full-import');
    counting = false;

    expect(outcome).toEqual({ kind: 'finished', status: 'succeeded', message: 'full import succeeded: 2000 objects read in 4 batch(es): 2000 added, 0 updated, 0 deleted, 0 unchanged, 0 failed' });
    expect(run).toMatchObject({ status: 'succeeded', added: 2_000, updated: 0, deleted: 0, errors: 0, finishedAt: expect.any(Date) });
    expect(system.requests).toEqual([expect.objectContaining({ mode: 'full', objectTypes: [], batchSize: 500 })]);
    expect(system.closed).toBe(1);
    const objects = await all(connector.id);
    expect(objects).toHaveLength(2_000);
    expect(objects.every((o) => o.pendingImport === 'add' && o.lastRunId === run.id)).toBe(true);
    expect(await watermarks.read(connector.id)).toBe('2000');

    const staff = objects.find((o) => o.anchor === 'staff') as { id: string; attributes: Record<string, unknown> };
    expect(staff.attributes['member']).toHaveLength(3);
    const e1 = objects.find((o) => o.anchor === 'E00001') as { id: string; dnHash: string | null };
    const e2 = objects.find((o) => o.anchor === 'E00002') as { id: string };
    expect(e1.dnHash).toBe(dnHash('uid=e00001,ou=people,dc=example,dc=com'));
    expect((await space.referencesOf(staff.id)).map((r) => r.targetCsObjectId).sort()).toEqual([e1.id, e2.id, null].sort());
    expect((await space.referencesOf(e1.id))[0]).toMatchObject({ attributeName: 'manager', targetKey: 'E00000', targetCsObjectId: objects.find((o) => o.anchor === 'E00000')?.id });

    // Everything the engine sends for the run: queueing, lease, claim, four batches, completion, the end. A count, not a time.
    expect(statements / 2_000).toBeLessThanOrEqual(0.05);
    process.stdout.write(`${dialect}: full import run of 2,000 objects: ${statements} statements\n`);
    expect(await metricValue(metrics, 'import_objects_total', 'outcome="added"')).toBe(2_000);
  });

  it('resumes a delta import from the watermark and stages only what changed; a second full import marks the vanished deleted', async () => {
    const { system, runner, connector } = await setUp({ batchSize: 100 });
    people(system, 300);
    await importRun(runner, connector, 'full-import');
    expect(await watermarks.read(connector.id)).toBe('300');

    system.upsert('person', 'E00007', { employeeId: ['E00007'], mail: ['new7@example.com'], manager: ['E00000'] });
    system.upsert('person', 'E00008', { employeeId: ['E00008'], mail: ['e00008@example.com'], manager: ['E00000'] }, 'uid=E00008,ou=People,dc=example,dc=com');
    system.remove('person', 'E00009');
    people(system, 1, 300);
    const { outcome, run } = await importRun(runner, connector, 'delta-import');

    expect(system.requests.at(-1)).toMatchObject({ mode: 'delta', watermark: '300', batchSize: 100 });
    expect(outcome).toMatchObject({ kind: 'finished', status: 'succeeded' });
    // E00008 came again exactly as it was: no write.
    expect(run).toMatchObject({ added: 1, updated: 1, deleted: 1, errors: 0 });
    expect(await watermarks.read(connector.id)).toBe('304');
    const byAnchor = new Map((await all(connector.id)).map((o) => [o.anchor, o]));
    expect(byAnchor.get('E00007')).toMatchObject({ pendingImport: 'add', attributes: { mail: ['new7@example.com'] } });
    expect(byAnchor.get('E00009')?.pendingImport).toBe('delete');
    expect(byAnchor.get('E00300')?.pendingImport).toBe('add');
    expect(byAnchor.get('E00010')?.lastRunId).not.toBe(run.id);

    system.remove('person', 'E00011');
    const second = await importRun(runner, connector, 'full-import');
    expect(second.run).toMatchObject({ status: 'succeeded', added: 0, updated: 0, deleted: 1 });
    expect((await space.findByAnchor(connector.id, 'person', 'E00011'))?.pendingImport).toBe('delete');
    expect(await space.countByPendingImport(connector.id)).toEqual({ none: 0, add: 299, update: 0, delete: 2 });
  });

  it('records per-object errors, counts them once, and never takes an unreadable object for deleted', async () => {
    const { system, runner, connector } = await setUp();
    people(system, 10);
    await importRun(runner, connector, 'full-import');

    // The next file has E00003 and E00004 broken, a row without an anchor, and a row whose anchor does not fit.
    system.remove('person', 'E00003');
    system.remove('person', 'E00004');
    system.malformed.push(
      { objectType: 'person', anchor: 'E00003', position: 'line 5', code: 'OBJECT_MALFORMED', message: 'line 5: 7 fields where the header has 8' },
      { anchor: 'E00004', position: 'line 6', code: 'OBJECT_MALFORMED', message: 'line 6: bad bytes' },
      { position: 'line 12', code: 'OBJECT_MALFORMED', message: 'line 12: the anchor column is empty' },
    );
    system.upsert('person', 'X'.repeat(300), { employeeId: ['too long'] });
    const { outcome, run } = await importRun(runner, connector, 'full-import');

    expect(outcome).toMatchObject({ kind: 'finished', status: 'completed-with-errors', message: expect.stringContaining('completed with 4 failed objects') });
    expect(run).toMatchObject({ status: 'completed-with-errors', errors: 4, deleted: 0 });
    const errors = await runs.listObjectErrors(run.id);
    expect(errors.map((e) => `${e.code} ${e.anchor}`).sort()).toEqual(['OBJECT_MALFORMED E00003', 'OBJECT_MALFORMED E00004', 'OBJECT_MALFORMED null', 'OBJECT_REJECTED null']);
    const e3 = await space.findByAnchor(connector.id, 'person', 'E00003');
    expect(errors.find((e) => e.anchor === 'E00003')?.csObjectId).toBe(e3?.id);
    expect(e3?.pendingImport).toBe('add');
    expect((await space.findByAnchor(connector.id, 'person', 'E00004'))?.pendingImport).toBe('add');
    expect(errors.find((e) => e.code === 'OBJECT_REJECTED')?.message).toContain('its anchor is longer than 255 characters');
  });

  it('stops at the error threshold without marking anything deleted', async () => {
    const { system, runner, connector } = await setUp({ batchSize: 10, errorThreshold: 2 });
    people(system, 40);
    await importRun(runner, connector, 'full-import');
    system.remove('person', 'E00039');
    system.malformed.push(...[1, 2, 3].map((n) => ({ position: `line ${n}`, code: 'OBJECT_MALFORMED' as const, message: `line ${n}: broken` })));
    const served = system.batchesServed;
    const { outcome, run } = await importRun(runner, connector, 'full-import');

    expect(outcome).toMatchObject({ kind: 'finished', status: 'stopped-error-threshold', message: expect.stringMatching(/^stopped: 3 objects failed, more than the connector's error threshold of 2; .* Objects not read were not marked deleted$/) });
    expect(run).toMatchObject({ status: 'stopped-error-threshold', errors: 3, deleted: 0 });
    expect(system.batchesServed - served).toBe(1);
    expect((await space.findByAnchor(connector.id, 'person', 'E00039'))?.pendingImport).toBe('add');
  });

  it('stops after the batch in hand when aborted, keeps what was committed, and the resumed run counts nothing twice', async () => {
    const { system, runner, connector } = await setUp({ batchSize: 100 });
    people(system, 450);
    let reached!: () => void;
    const pauseReached = new Promise<void>((resolve) => (reached = resolve));
    system.pauseBefore = { batch: 2, reached, release: new Promise<void>(() => undefined) };

    const claimed = await claim(connector, 'full-import');
    const running = runner.run(claimed.context);
    await pauseReached;
    claimed.controller.abort({ kind: 'shutdown' } satisfies StopReason);
    const outcome = await running;
    expect(outcome).toEqual({ kind: 'interrupted', message: expect.stringMatching(/^interrupted: the engine is shutting down; 200 objects read in 2 batch\(es\): 200 added, .* It resumes after them when an engine runs it again$/) });
    const interrupted = await record(claimed, outcome);
    expect(interrupted).toMatchObject({ status: 'queued', added: 200 });
    expect(await all(connector.id)).toHaveLength(200);
    // A full import's position is only safe at its end.
    expect(await watermarks.read(connector.id)).toBeUndefined();
    expect(system.closed).toBe(1);

    system.pauseBefore = undefined;
    const resumed = await claim(connector, 'full-import', { queue: false });
    expect(resumed.run.id).toBe(interrupted.id);
    const final = await record(resumed, await runner.run(resumed.context));
    expect(final).toMatchObject({ status: 'succeeded', added: 450, updated: 0, deleted: 0 });
    expect(await all(connector.id)).toHaveLength(450);
    expect(await watermarks.read(connector.id)).toBe('450');
  });

  it('stops without writing once another engine takes the connector over mid-run', async () => {
    const { system, runner, connector } = await setUp({ batchSize: 100 });
    people(system, 300);
    let reached!: () => void;
    let release!: () => void;
    const pauseReached = new Promise<void>((resolve) => (reached = resolve));
    system.pauseBefore = { batch: 1, reached, release: new Promise<void>((resolve) => (release = resolve)) };

    const claimed = await claim(connector, 'full-import');
    const running = runner.run(claimed.context);
    await pauseReached;
    const takeover = await leases.acquire(connector.id, 'other-engine', { now: new Date(), durationMs: 60_000, takeover: 'always' });
    expect(takeover?.fencingToken).toBe(claimed.lease.fencingToken + 1);
    release();
    const outcome = await running;

    expect(outcome).toMatchObject({ kind: 'lease-lost', message: expect.stringContaining('engine other-engine took it over') });
    expect(await all(connector.id)).toHaveLength(100);
    expect((await runs.findById(claimed.run.id))?.added).toBe(100);
  });

  it('fails the run with the connector’s error and marks nothing deleted when the stream breaks', async () => {
    const { system, runner, connector } = await setUp({ batchSize: 100 });
    people(system, 250);
    await importRun(runner, connector, 'full-import');
    system.failAfter = { batches: 1, error: new ConnectorError('CONNECTOR_UNREACHABLE', 'the directory went away', true) };
    system.remove('person', 'E00249');
    const { outcome, run } = await importRun(runner, connector, 'full-import');
    expect(outcome).toMatchObject({ kind: 'finished', status: 'failed', message: expect.stringMatching(/^full import failed: CONNECTOR_UNREACHABLE: the directory went away; 100 objects read in 1 batch\(es\)/) });
    expect(run.status).toBe('failed');
    expect((await space.findByAnchor(connector.id, 'person', 'E00249'))?.pendingImport).toBe('add');
  });

  it('fails clearly for an unknown connector type and for a preview', async () => {
    const { runner } = await setUp();
    const ldap = await connectors.create({ name: `ldap ${Math.random()}`, type: 'ldap', config: {} });
    const { outcome } = await importRun(runner, ldap, 'full-import');
    expect(outcome).toEqual({ kind: 'finished', status: 'failed', message: "CONNECTOR_CONFIG_INVALID: connector type 'ldap' is not one this engine runs (it runs: scim)" });

    const { connector } = await setUp();
    await runs.queue({ connectorId: connector.id, profile: 'delta-import', trigger: 'manual', preview: true });
    const claimed = await claim(connector, 'delta-import', { queue: false });
    expect(await runner.run(claimed.context)).toMatchObject({ kind: 'finished', status: 'failed', message: expect.stringContaining('an import has nothing to preview') });
  });
});
