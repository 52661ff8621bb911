import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { AuditRepository } from '../audit/audit.repository';
import { ConnectorRepository, ConnectorSettings } from '../connector/connector.repository';
import { RunRepository } from '../run/run.repository';
import { SyncRuleRepository } from '../sync-rule/sync-rule.repository';
import { TransactionRunner } from '../transaction/transaction';
import { ApiKeyRepository } from './api-key.repository';

jest.setTimeout(120_000);

const settings = (name: string): ConnectorSettings => ({
  name,
  type: 'csv',
  description: null,
  config: { path: '/data/people.csv' },
  objectTypes: [],
  schedule: null,
  relayGroup: null,
  batchSize: 500,
  deletionThresholdCount: 500,
  deletionThresholdPercent: 10,
  errorThreshold: null,
  exportMaxAttempts: 5,
  enabled: true,
});

/** The repository methods the Admin API uses: keyset pages, changes inside a transaction, conditional updates. */
describe.each(TEST_DIALECTS)('Admin API data access on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let tx: TransactionRunner;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
    tx = new TransactionRunner(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('stores API keys, finds them by prefix, pages them newest first and revokes each once', async () => {
    const keys = new ApiKeyRepository(dataSource);
    const base = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 3; i++) {
      await tx.run((t) =>
        keys.insert(t, { id: randomUUID(), name: `key ${i}`, prefix: `00000000000${i}`, secretHash: 'scrypt$x', permissions: ['runs.read'], createdBy: 'test', createdAt: new Date(base + i * 1000), expiresAt: null }),
      );
    }
    const first = await keys.list({ limit: 2 });
    expect(first.map((k) => k.name)).toEqual(['key 2', 'key 1']);
    const last = first[1];
    const rest = await keys.list({ limit: 2, after: last ? { createdAt: last.createdAt, id: last.id } : null });
    expect(rest.map((k) => k.name)).toEqual(['key 0']);
    const found = await keys.findByPrefix('000000000001');
    expect(found).toMatchObject({ name: 'key 1', permissions: ['runs.read'], revokedAt: null });
    const at = new Date(base + 60_000);
    expect(await tx.run((t) => keys.revoke(t, found?.id as string, at))).toBe(true);
    expect(await tx.run((t) => keys.revoke(t, found?.id as string, new Date(base + 120_000)))).toBe(false);
    expect((await keys.findById(found?.id as string))?.revokedAt?.getTime()).toBe(at.getTime());
    await keys.touch(found?.id as string, at);
    expect((await keys.findByPrefix('000000000001'))?.lastUsedAt?.getTime()).toBe(at.getTime());
  });

  it('pages connectors by name, replaces and deletes one inside a transaction', async () => {
    const connectors = new ConnectorRepository(dataSource);
    const at = new Date(Date.UTC(2026, 0, 2));
    const [b, a] = [await tx.run((t) => connectors.insertRecord(t, settings('b-hr'), at)), await tx.run((t) => connectors.insertRecord(t, settings('a-hr'), at))];
    const page = await connectors.listRecords({ limit: 1 });
    expect(page.map((c) => c.name)).toEqual(['a-hr']);
    expect((await connectors.listRecords({ limit: 5, after: { name: 'a-hr', id: a.id } })).map((c) => c.name)).toEqual(['b-hr']);
    const replaced = await tx.run((t) => connectors.replaceRecord(t, b.id, { ...settings('b-hr'), description: 'feed', enabled: false }, new Date(at.getTime() + 1000)));
    expect(replaced).toMatchObject({ description: 'feed', enabled: false, createdAt: at });
    expect(await tx.run((t) => connectors.replaceRecord(t, randomUUID(), settings('x'), at))).toBeNull();
    expect(await tx.run((t) => connectors.removeRecord(t, b.id))).toBe(true);
    expect(await connectors.findRecord(b.id)).toBeNull();
  });

  it('queues, lists and approves runs, and tells whether a connector has one waiting', async () => {
    const connectors = new ConnectorRepository(dataSource);
    const runs = new RunRepository(dataSource);
    const connector = await tx.run((t) => connectors.insertRecord(t, settings(`runs-${dialect}`), new Date()));
    const base = Date.UTC(2026, 0, 3);
    const queued = [];
    for (let i = 0; i < 3; i++) queued.push(await tx.run((t) => runs.queueIn(t, { connectorId: connector.id, profile: 'export', trigger: 'manual', requestedBy: 'jdoe', at: new Date(base + i * 1000) })));
    expect(await tx.run((t) => runs.hasActiveRun(t, connector.id))).toBe(true);
    const page = await runs.list({ connectorId: connector.id }, { limit: 2 });
    expect(page.map((r) => r.id)).toEqual([queued[2]?.id, queued[1]?.id]);
    const after = page[1];
    expect((await runs.list({ connectorId: connector.id, statuses: ['queued'] }, { limit: 5, after: after ? { queuedAt: after.queuedAt, id: after.id } : null })).map((r) => r.id)).toEqual([queued[0]?.id]);

    const held = queued[0]?.id as string;
    await runs.claimNext('engine', { now: new Date(), connectorId: connector.id });
    await runs.finish(held, 'engine', null, { status: 'held-for-approval', message: 'held', now: new Date() });
    expect(await tx.run((t) => runs.approveHeldDeletesIn(t, held, 'jdoe', new Date()))).toBe(true);
    expect(await tx.run((t) => runs.approveHeldDeletesIn(t, held, 'jdoe', new Date()))).toBe(false);
    expect(await runs.findById(held)).toMatchObject({ status: 'queued', deletesApprovedBy: 'jdoe' });
    await tx.run((t) => runs.recordObjectErrors(t, held, [{ code: 'OBJECT_MALFORMED', message: 'a', anchor: '1' }, { code: 'OBJECT_MALFORMED', message: 'b', anchor: '2' }], new Date()));
    const [firstError] = await runs.listObjectErrorsPage(held, { limit: 1 });
    const next = await runs.listObjectErrorsPage(held, { limit: 5, after: firstError ? { createdAt: firstError.createdAt, id: firstError.id } : null });
    expect(next).toHaveLength(1);
    expect(next[0]?.id).not.toBe(firstError?.id);
  });

  it('stores, pages, replaces and deletes rules, bumping their connectors’ rulesVersion', async () => {
    const connectors = new ConnectorRepository(dataSource);
    const rules = new SyncRuleRepository(dataSource);
    const hr = await tx.run((t) => connectors.insertRecord(t, settings(`rules-hr-${dialect}`), new Date()));
    const ad = await tx.run((t) => connectors.insertRecord(t, settings(`rules-ad-${dialect}`), new Date()));
    const at = new Date();
    const flow = await tx.run((t) => rules.insertIn(t, { kind: 'import-flow', connectorId: hr.id, objectType: 'person', name: 'a', ordinal: 2, definition: { target: 'sn', source: 'sn' }, enabled: true }, at));
    await tx.run((t) => rules.insertIn(t, { kind: 'import-flow', connectorId: hr.id, objectType: 'person', name: 'b', ordinal: 1, definition: { target: 'givenName', source: 'givenName' }, enabled: true }, at));
    const provisioning = await tx.run((t) =>
      rules.insertIn(t, { kind: 'provisioning', connectorId: ad.id, objectType: 'person', name: 'c', ordinal: 1, definition: { targetConnectorId: ad.id, targetObjectType: 'user', dnTemplate: 'CN={{sn}}' }, enabled: true }, at),
    );
    const first = await rules.list({ connectorId: hr.id }, { limit: 1 });
    expect(first.map((r) => r.name)).toEqual(['b']);
    const last = first[0];
    expect((await rules.list({ connectorId: hr.id }, { limit: 5, after: last ? { kind: last.kind, ordinal: last.ordinal, id: last.id } : null })).map((r) => r.name)).toEqual(['a']);
    expect((await rules.list({ kind: 'provisioning' }, { limit: 5 })).map((r) => r.id)).toContain(provisioning.id);
    expect((await connectors.findRecord(hr.id))?.rulesVersion).toBe(3);
    const replaced = await tx.run((t) => rules.replaceIn(t, flow.id, { kind: 'import-flow', connectorId: ad.id, objectType: 'person', name: 'a', ordinal: 2, definition: { target: 'sn', source: 'trim(sn)' }, enabled: false }, at));
    expect(replaced).toMatchObject({ version: 2, enabled: false, connectorId: ad.id, definition: { source: 'trim(sn)' } });
    // The rule moved: both its old and its new connector have stale compiled rules.
    expect((await connectors.findRecord(hr.id))?.rulesVersion).toBe(4);
    expect((await connectors.findRecord(ad.id))?.rulesVersion).toBe(3);
    expect(await tx.run((t) => rules.removeIn(t, flow.id, at))).toBe(true);
    expect(await tx.run((t) => rules.removeIn(t, flow.id, at))).toBe(false);
    expect(await rules.findView(flow.id)).toBeNull();
  });

  it('searches the audit log by actor, target, action and time, newest first, in keyset pages', async () => {
    const audit = new AuditRepository(dataSource);
    const base = Date.UTC(2026, 1, 1);
    await audit.append(
      Array.from({ length: 5 }, (_v, i) => ({ actorType: 'operator' as const, actor: i % 2 === 0 ? 'jdoe' : 'asmith', action: 'connector.update', targetType: 'connector', targetId: `c${i % 2}`, at: new Date(base + i * 1000) })),
    );
    const byActor = await audit.search({ actor: 'jdoe' }, { limit: 2 });
    expect(byActor.map((e) => e.at.getTime())).toEqual([base + 4000, base + 2000]);
    const last = byActor[1];
    expect((await audit.search({ actor: 'jdoe' }, { limit: 5, after: last ? { at: last.at, id: last.id } : null })).map((e) => e.at.getTime())).toEqual([base]);
    expect((await audit.search({ targetType: 'connector', targetId: 'c1', action: 'connector.update' }, { limit: 5 })).map((e) => e.at.getTime())).toEqual([base + 3000, base + 1000]);
    expect((await audit.search({ from: new Date(base + 1000), to: new Date(base + 3000) }, { limit: 5 })).map((e) => e.at.getTime())).toEqual([base + 2000, base + 1000]);
  });
});
