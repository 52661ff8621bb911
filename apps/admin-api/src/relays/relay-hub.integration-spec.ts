import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_EVENTS, HubAck, RelayWorkOrder } from '@identitymesh/connector-sdk';
import type { KeyRing } from '@identitymesh/key-ring';
import { EngineRegistryRepository, RelayRepository, RelayWorkQueueRepository, TransactionRunner } from '@identitymesh/persistence';
import { createThrowawayDatabase, TestDialect, ThrowawayDatabase } from '@identitymesh/testing';
import { AdminApiHarness } from '../support/admin-api-harness';
import { enrollmentTokenHash, newEnrollmentToken } from './relay-credentials';
import { RelayHubGateway } from './relay-hub.gateway';
import { RELAY_KEY_RING } from './relay-key-ring';
import { closeAllHubClients, connected, dialHub, disconnected, HubClient, refused } from './support/hub-client';

jest.setTimeout(180_000);

type Json = Record<string, unknown>;
type PullReply = { ok?: boolean; items: RelayWorkOrder[] } | Extract<HubAck, { ok: false }>;

/** The hub's core on SQLite and PostgreSQL: handshakes, group isolation, staging, backpressure, revocation, engines. */
describe.each<TestDialect>(['sqlite', 'postgres'])('relay hub on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let api: AdminApiHarness;
  let admin: string;
  const files = mkdtempSync(join(tmpdir(), 'im-relay-hub-'));
  const csv = join(files, 'people.csv');
  writeFileSync(csv, 'id,status\n1,active\n');
  const connectorIds: Record<string, string> = {};

  const enroll = async (relayGroup: string, name = `relay-${randomUUID().slice(0, 8)}`) => {
    const enrollment = await api.request<Json>('POST', '/api/relays/enrollments', { token: admin, json: { relayGroup } });
    expect(enrollment.status).toBe(201);
    const enrolled = await api.request<Json>('POST', '/api/relays/enroll', { json: { token: enrollment.body['token'], name, host: `${name}.example.test`, version: '1.2.3' } });
    expect(enrolled.status).toBe(201);
    return { relayId: enrolled.body['relayId'] as string, credential: enrolled.body['credential'] as string, name };
  };

  const dialRelay = async (credential: string, extra: Json = {}): Promise<HubClient> => {
    const client = dialHub(api.url, { token: credential, ...extra });
    await connected(client);
    return client;
  };

  const queue = () => api.app.get(RelayWorkQueueRepository);

  /** An engine's socket: a registered instance with a key ring token, as the engine's hub link dials. */
  const dialEngine = async (): Promise<HubClient> => {
    const engineId = `engine-${randomUUID().slice(0, 8)}`;
    const now = new Date();
    await api.app.get(EngineRegistryRepository).register({ id: engineId, host: 'engine-host', pid: 4243, version: '0.1.0', status: 'active', startedAt: now, heartbeatAt: now }, () => ({ kind: 'active' }), () => 'active');
    const token = await api.app.get<KeyRing>(RELAY_KEY_RING).protect('relay-token', JSON.stringify({ kind: 'engine', instanceId: engineId }), { expiresAt: new Date(Date.now() + 600_000) });
    const engine = dialHub(api.url, { token });
    await connected(engine);
    return engine;
  };

  const enqueueImport = (relayGroup: string) =>
    queue().enqueue(
      { relayGroup, connectorId: connectorIds[relayGroup] as string, runId: null, workKey: null, kind: 'import', payload: { mode: 'full', watermark: null, batchSize: 100 }, deadlineAt: new Date(Date.now() + 3600_000) },
      new Date(),
    );

  const batch = (order: RelayWorkOrder, seq: number, last = false) => ({
    itemId: order.id,
    attempt: order.attempt,
    seq,
    changes: [{ kind: 'upsert', objectType: 'person', anchor: String(seq), attributes: { status: ['active'] } }],
    errors: [],
    last,
  });

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    api = await AdminApiHarness.start({ ...db.env, IM_DB_AUTO_MIGRATE: 'true' });
    admin = (await api.createKey()).token;
    for (const group of ['branch-a', 'branch-b']) {
      const created = await api.request<Json>('POST', '/api/connectors', { token: admin, json: { name: `hr-${group}`, type: 'csv', relayGroup: group, config: { path: csv, anchorColumn: 'id', columns: [{ column: 'id' }, { column: 'status' }] } } });
      expect(created.status).toBe(201);
      connectorIds[group] = created.body['id'] as string;
    }
  });
  afterEach(() => closeAllHubClients());
  afterAll(async () => {
    closeAllHubClients();
    await api?.close();
    await db?.drop();
    rmSync(files, { recursive: true, force: true });
  });

  it('refuses a handshake without, with a forged or with a revoked credential before the socket joins any room', async () => {
    const good = await enroll('branch-a');
    const gone = await enroll('branch-a');
    expect((await api.request('POST', `/api/relays/${gone.relayId}/revoke`, { token: admin })).status).toBe(200);
    const control = await dialRelay(good.credential);

    const attempts: Array<[string, Record<string, unknown> | undefined, string]> = [
      ['no auth', undefined, 'HUB_UNAUTHENTICATED'],
      ['an empty token', { token: '' }, 'HUB_UNAUTHENTICATED'],
      ['a forged secret', { token: `${good.credential.slice(0, -43)}${'A'.repeat(43)}` }, 'HUB_UNAUTHENTICATED'],
      ['an unknown relay', { token: `imr_${randomUUID()}_${'A'.repeat(43)}` }, 'HUB_UNAUTHENTICATED'],
      ['a malformed credential', { token: 'imr_not-a-relay' }, 'HUB_UNAUTHENTICATED'],
      ['an API key', { token: admin }, 'HUB_UNAUTHENTICATED'],
      ['a revoked relay', { token: gone.credential }, 'RELAY_REVOKED'],
    ];
    const refusedClients: HubClient[] = [];
    for (const [what, auth, code] of attempts) {
      const client = dialHub(api.url, auth);
      refusedClients.push(client);
      const refusal = await refused(client);
      expect({ what, code: refusal.code, prefix: refusal.message.split(':')[0] }).toEqual({ what, code, prefix: code });
    }
    // The default namespace takes nobody either.
    expect((await refused(dialHub(api.url, { token: good.credential }, '/'))).code).toBe('HUB_UNAUTHENTICATED');

    // The group is told about work twice; the control relay hears both in order, the refused sockets nothing.
    api.app.get(RelayHubGateway).notifyGroup('branch-a');
    api.app.get(RelayHubGateway).notifyGroup('branch-a');
    await control.next(HUB_EVENTS.workAvailable, 2);
    for (const client of refusedClients) expect(client.received.size).toBe(0);
  });

  it('refuses an enrollment token used twice, expired or forged (R11), and keeps it usable after a taken name', async () => {
    const enrollment = await api.request<Json>('POST', '/api/relays/enrollments', { token: admin, json: { relayGroup: 'branch-a' } });
    const token = enrollment.body['token'] as string;
    const name = `relay-${randomUUID().slice(0, 8)}`;
    const taken = await api.request<Json>('POST', '/api/relays/enroll', { json: { token, name: (await enroll('branch-a')).name } });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'NAME_TAKEN' });
    expect((await api.request('POST', '/api/relays/enroll', { json: { token, name } })).status).toBe(201);
    const reused = await api.request<Json>('POST', '/api/relays/enroll', { json: { token, name: `${name}-again` } });
    expect(reused.status).toBe(401);
    expect(reused.body).toMatchObject({ type: 'urn:identitymesh:problem:unauthenticated', code: 'UNAUTHENTICATED' });

    const expired = newEnrollmentToken();
    await api.app.get(RelayRepository).createEnrollment({ id: expired.id, tokenHash: expired.tokenHash, relayGroup: 'branch-a', expiresAt: new Date(Date.now() - 1000), createdBy: 'test' }, new Date(Date.now() - 60_000));
    expect((await api.request('POST', '/api/relays/enroll', { json: { token: expired.token, name: `${name}-late` } })).status).toBe(401);

    const forged = `${token.slice(0, -43)}${'B'.repeat(43)}`;
    expect(enrollmentTokenHash(forged)).not.toBe(enrollmentTokenHash(token));
    for (const bad of [forged, `ime_${randomUUID()}_${'C'.repeat(43)}`, 'ime_nonsense']) {
      expect((await api.request('POST', '/api/relays/enroll', { json: { token: bad, name: `${name}-forged` } })).status).toBe(401);
    }
    const names = (await api.request<{ items: Json[] }>('GET', '/api/relays', { token: admin })).body.items.map((r) => r['name']);
    expect(names).toContain(name);
    expect(names).not.toEqual(expect.arrayContaining([`${name}-again`, `${name}-late`, `${name}-forged`]));
  });

  it('gives a relay only its own group’s work, and refuses it another’s item (WORK_NOT_YOURS)', async () => {
    const a = await dialRelay((await enroll('branch-a')).credential);
    const b = await dialRelay((await enroll('branch-b')).credential);
    const item = await enqueueImport('branch-b');

    const order = { itemId: item.id, attempt: 1 };
    // Not claimed by anybody yet: nobody's.
    expect(await a.send(HUB_EVENTS.importBatch, { ...order, seq: 1, changes: [], errors: [], last: false })).toMatchObject({ ok: false, code: 'WORK_NOT_YOURS' });
    expect(await a.send<PullReply>(HUB_EVENTS.workPull, { max: 16 })).toEqual({ ok: true, items: [] });
    const pulled = await b.send<PullReply>(HUB_EVENTS.workPull, { max: 16 });
    expect(pulled).toMatchObject({ items: [expect.objectContaining({ id: item.id, kind: 'import', attempt: 1, import: { mode: 'full', batchSize: 100, nextSeq: 1 }, connector: expect.objectContaining({ id: connectorIds['branch-b'], type: 'csv' }) })] });

    for (const [event, message] of [
      [HUB_EVENTS.workStarted, order],
      [HUB_EVENTS.importBatch, { ...order, seq: 1, changes: [], errors: [], last: true }],
      [HUB_EVENTS.workResult, { ...order, status: 'done' }],
    ] as const) {
      expect({ event, ack: await a.send(event, message) }).toEqual({ event, ack: expect.objectContaining({ ok: false, code: 'WORK_NOT_YOURS' }) });
    }
    expect(await queue().batchProgress(item.id)).toMatchObject({ lastStaged: 0 });
    expect(await queue().get(item.id)).toMatchObject({ status: 'delivered', relayId: expect.any(String) });
    // The owner gets on with it.
    expect(await b.send(HUB_EVENTS.workStarted, order)).toEqual({ ok: true });
    expect(await b.send(HUB_EVENTS.workStarted, order)).toEqual({ ok: true });
    expect(await b.send(HUB_EVENTS.workStarted, { ...order, attempt: 2 })).toMatchObject({ ok: false, code: 'WORK_CLOSED' });
  });

  it('answers malformed messages with MESSAGE_INVALID and changes nothing', async () => {
    const relay = await dialRelay((await enroll('branch-a')).credential);
    for (const [event, message] of [
      [HUB_EVENTS.workPull, { max: 0 }],
      [HUB_EVENTS.workPull, undefined],
      [HUB_EVENTS.importBatch, { itemId: 'x', attempt: 1, seq: 0, changes: [], errors: [], last: false }],
      [HUB_EVENTS.workResult, { itemId: 'x', attempt: 1, status: 'maybe' }],
      [HUB_EVENTS.workStarted, 'x'],
    ] as const) {
      expect({ event, ack: await relay.send(event, message) }).toEqual({ event, ack: expect.objectContaining({ ok: false, code: 'MESSAGE_INVALID' }) });
    }
    // A relay cannot speak for the engine.
    expect(await relay.send(HUB_EVENTS.workEnqueued, { relayGroup: 'branch-b' })).toMatchObject({ ok: false, code: 'HUB_UNAUTHENTICATED' });
  });

  it('stages an import batch sent twice once, and holds the 5th batch’s acknowledgement until the engine applies earlier ones', async () => {
    const { credential } = await enroll('branch-a');
    const relay = await dialRelay(credential);
    const item = await enqueueImport('branch-a');
    const pulled = (await relay.send<PullReply>(HUB_EVENTS.workPull, { max: 1 })) as { items: RelayWorkOrder[] };
    const order = pulled.items.find((o) => o.id === item.id) as RelayWorkOrder;
    expect(order).toBeDefined();
    expect(await relay.send(HUB_EVENTS.workStarted, { itemId: order.id, attempt: order.attempt })).toEqual({ ok: true });

    expect(await relay.send(HUB_EVENTS.importBatch, batch(order, 1))).toEqual({ ok: true });
    expect(await relay.send(HUB_EVENTS.importBatch, batch(order, 1))).toEqual({ ok: true });
    expect(await queue().unappliedBatchCount(item.id)).toBe(1);
    expect(await queue().stagedBatch(item.id, 1)).toMatchObject({ seq: 1, isLast: false, payload: { changes: [expect.objectContaining({ anchor: '1' })], errors: [] } });

    for (const seq of [2, 3, 4]) expect(await relay.send(HUB_EVENTS.importBatch, batch(order, seq))).toEqual({ ok: true });
    let acknowledged: HubAck | null = null;
    const fifth = relay.send(HUB_EVENTS.importBatch, batch(order, 5, true)).then((ack) => (acknowledged = ack));
    // Staged, but four batches wait for the engine: the acknowledgement is held.
    while (!(await queue().stagedBatch(item.id, 5))) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await queue().unappliedBatchCount(item.id)).toBe(5);
    expect(acknowledged).toBeNull();

    await api.app.get(TransactionRunner).run((tx) => queue().markBatchApplied(tx, item.id, 1, new Date()));
    await fifth;
    expect(acknowledged).toEqual({ ok: true });
    expect(await queue().batchProgress(item.id)).toEqual({ lastApplied: 1, lastStaged: 5, lastIsApplied: false });

    // A replay of the item after a reconnect goes on after the last staged batch.
    relay.close();
    const again = await dialRelay(credential);
    const replay = (await again.send<PullReply>(HUB_EVENTS.workPull, { max: 16 })) as { items: RelayWorkOrder[] };
    expect(replay.items).toContainEqual(expect.objectContaining({ id: item.id, attempt: order.attempt, import: expect.objectContaining({ nextSeq: 6 }) }));

    expect(await again.send(HUB_EVENTS.workResult, { itemId: order.id, attempt: order.attempt, status: 'done' })).toEqual({ ok: true });
    expect(await again.send(HUB_EVENTS.workResult, { itemId: order.id, attempt: order.attempt, status: 'done' })).toEqual({ ok: true });
    expect(await again.send(HUB_EVENTS.importBatch, batch(order, 6))).toMatchObject({ ok: false, code: 'WORK_CLOSED' });
    expect(await queue().get(item.id)).toMatchObject({ status: 'done' });
  });

  it('disconnects every socket of a revoked relay at once and refuses it afterwards', async () => {
    const relay = await enroll('branch-a');
    const first = await dialRelay(relay.credential);
    const second = await dialRelay(relay.credential);
    const listed = (await api.request<Json>('GET', `/api/relays/${relay.relayId}`, { token: admin })).body;
    expect(listed).toMatchObject({ connected: true, status: 'active', host: `${relay.name}.example.test`, version: '1.2.3', instanceId: api.app.get(RelayHubGateway).instanceId });

    // Both sockets are in the relay's group.
    api.app.get(RelayHubGateway).notifyGroup('branch-a');
    await Promise.all([first.next(HUB_EVENTS.workAvailable), second.next(HUB_EVENTS.workAvailable)]);

    const closings = [disconnected(first), disconnected(second)];
    const revoked = await api.request<Json>('POST', `/api/relays/${relay.relayId}/revoke`, { token: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', connected: false, revokedAt: expect.any(String) });
    expect(await Promise.all(closings)).toEqual(['io server disconnect', 'io server disconnect']);
    expect(first.received.has(HUB_EVENTS.revoked)).toBe(true);
    expect(second.received.has(HUB_EVENTS.revoked)).toBe(true);
    expect((await refused(dialHub(api.url, { token: relay.credential }))).code).toBe('RELAY_REVOKED');

    // Revoking again changes nothing and is audited once.
    expect((await api.request('POST', `/api/relays/${relay.relayId}/revoke`, { token: admin })).status).toBe(200);
    const audit = await api.request<{ items: Json[] }>('GET', `/api/audit?targetType=relay&targetId=${relay.relayId}`, { token: admin });
    expect(audit.body.items.map((e) => e['action'])).toEqual(['relay.revoke', 'relay.enroll']);
  });

  it('refuses a message of a relay revoked after its handshake, and expels it', async () => {
    const relay = await enroll('branch-a');
    const socket = await dialRelay(relay.credential);
    const closing = disconnected(socket);
    // Revoked in SQL (another instance, say): this socket was not told.
    await api.app.get(RelayRepository).revoke(relay.relayId, new Date());
    expect(await socket.send(HUB_EVENTS.workPull, { max: 1 })).toMatchObject({ ok: false, code: 'RELAY_REVOKED' });
    expect(await closing).toBe('io server disconnect');
    expect(socket.received.has(HUB_EVENTS.revoked)).toBe(true);
  });

  it('accepts an engine by its key ring token and tells the group’s relays at once when it enqueues work', async () => {
    const engineId = `engine-${randomUUID().slice(0, 8)}`;
    const registry = api.app.get(EngineRegistryRepository);
    const now = new Date();
    await registry.register({ id: engineId, host: 'engine-host', pid: 4242, version: '0.1.0', status: 'active', startedAt: now, heartbeatAt: now }, () => ({ kind: 'active' }), () => 'active');
    const ring = api.app.get<KeyRing>(RELAY_KEY_RING);
    const engineToken = (payload: Json) => ring.protect('relay-token', JSON.stringify(payload), { expiresAt: new Date(Date.now() + 600_000) });

    const a = await dialRelay((await enroll('branch-a')).credential);
    const b = await dialRelay((await enroll('branch-b')).credential);
    const engine = dialHub(api.url, { token: await engineToken({ kind: 'engine', instanceId: engineId }) });
    await connected(engine);

    expect(await engine.send(HUB_EVENTS.workEnqueued, { relayGroup: 'branch-a' })).toEqual({ ok: true });
    await a.next(HUB_EVENTS.workAvailable, 1);
    expect(await engine.send(HUB_EVENTS.workEnqueued, { relayGroup: 'branch-b' })).toEqual({ ok: true });
    await b.next(HUB_EVENTS.workAvailable, 1);
    // Events on one socket arrive in order: had branch-b's relay heard branch-a's nudge, it would have come first.
    expect(b.received.get(HUB_EVENTS.workAvailable)).toHaveLength(1);
    expect(engine.received.size).toBe(0);
    expect(await engine.send(HUB_EVENTS.workPull, { max: 1 })).toMatchObject({ ok: false, code: 'HUB_UNAUTHENTICATED' });
    expect(await engine.send(HUB_EVENTS.workEnqueued, { relayGroup: '' })).toMatchObject({ ok: false, code: 'MESSAGE_INVALID' });

    const refusals: Array<[string, string]> = [
      ['an unregistered engine', await engineToken({ kind: 'engine', instanceId: 'engine-nobody' })],
      ['another kind of token', await engineToken({ kind: 'relay', instanceId: engineId })],
      ['a token of another purpose', await ring.protect('csrf', JSON.stringify({ kind: 'engine', instanceId: engineId }))],
      ['an altered token', (await engineToken({ kind: 'engine', instanceId: engineId })).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))],
    ];
    await registry.markStopped(engineId, new Date());
    refusals.push(['a stopped engine', await engineToken({ kind: 'engine', instanceId: engineId })]);
    for (const [what, token] of refusals) {
      const refusal = await refused(dialHub(api.url, { token }));
      expect({ what, code: refusal.code }).toEqual({ what, code: 'HUB_UNAUTHENTICATED' });
    }
  });

  it('tells connected engines work:progress for every batch staged and item completed, never for a duplicate', async () => {
    const engine = await dialEngine();
    const relay = await dialRelay((await enroll('branch-a')).credential);
    const item = await enqueueImport('branch-a');
    const check = await queue().enqueue({ relayGroup: 'branch-a', connectorId: connectorIds['branch-a'] as string, runId: null, workKey: null, kind: 'test-connection', payload: {}, deadlineAt: new Date(Date.now() + 3600_000) }, new Date());
    const pulled = (await relay.send<PullReply>(HUB_EVENTS.workPull, { max: 16 })) as { items: RelayWorkOrder[] };
    const order = pulled.items.find((o) => o.id === item.id) as RelayWorkOrder;
    const checkOrder = pulled.items.find((o) => o.id === check.id) as RelayWorkOrder;
    expect([order, checkOrder]).toEqual([expect.objectContaining({ kind: 'import' }), expect.objectContaining({ kind: 'test-connection' })]);
    const progressOf = () => (engine.received.get(HUB_EVENTS.workProgress) ?? []).filter(([message]) => [item.id, check.id].includes((message as { itemId?: string })?.itemId ?? ''));

    // Started is no progress; a staged batch is.
    expect(await relay.send(HUB_EVENTS.workStarted, { itemId: order.id, attempt: order.attempt })).toEqual({ ok: true });
    expect(await relay.send(HUB_EVENTS.importBatch, batch(order, 1))).toEqual({ ok: true });
    expect(await engine.next(HUB_EVENTS.workProgress, 1)).toEqual([{ itemId: item.id }]);
    // The same batch again, then the last one: one more wake-up, for the last.
    expect(await relay.send(HUB_EVENTS.importBatch, batch(order, 1))).toEqual({ ok: true });
    expect(await relay.send(HUB_EVENTS.importBatch, batch(order, 2, true))).toEqual({ ok: true });
    // The item completed, then its result again.
    expect(await relay.send(HUB_EVENTS.workResult, { itemId: order.id, attempt: order.attempt, status: 'done' })).toEqual({ ok: true });
    expect(await relay.send(HUB_EVENTS.workResult, { itemId: order.id, attempt: order.attempt, status: 'done' })).toEqual({ ok: true });
    // Another item completes last: events on one socket arrive in order, so once its wake-up is there, any for the repeats would be too.
    expect(await relay.send(HUB_EVENTS.workResult, { itemId: checkOrder.id, attempt: checkOrder.attempt, status: 'done', testConnection: { ok: true, detail: 'read 1 row' } })).toEqual({ ok: true });
    while (!progressOf().some(([message]) => (message as { itemId: string }).itemId === check.id)) await engine.next(HUB_EVENTS.workProgress);
    expect(progressOf()).toEqual([[{ itemId: item.id }], [{ itemId: item.id }], [{ itemId: item.id }], [{ itemId: check.id }]]);
    // A wake-up for the engines, not for relays.
    expect(relay.received.has(HUB_EVENTS.workProgress)).toBe(false);
    expect(await queue().get(item.id)).toMatchObject({ status: 'done' });
  });

  it('polls SQL: touches connected relays, tells groups with claimable work, expires overdue items, purges old closed ones', async () => {
    const enrolled = await enroll('branch-b');
    const relay = await dialRelay(enrolled.credential);
    const item = await enqueueImport('branch-b');
    const testItem = (deadlineAt: Date) => ({ relayGroup: 'branch-b', connectorId: connectorIds['branch-b'] as string, runId: null, workKey: null, kind: 'test-connection' as const, payload: {}, deadlineAt });
    const overdue = await queue().enqueue(testItem(new Date(Date.now() - 1000)), new Date(Date.now() - 60_000));
    // Closed eight days ago: past the default retention of seven.
    const eightDaysAgo = Date.now() - 8 * 86_400_000;
    const old = await queue().enqueue(testItem(new Date(eightDaysAgo)), new Date(eightDaysAgo - 60_000));
    await queue().expireOverdue(new Date(eightDaysAgo + 1000));
    const heard = relay.received.get(HUB_EVENTS.workAvailable)?.length ?? 0;

    const before = new Date();
    await api.app.get(RelayHubGateway).poll();
    await relay.next(HUB_EVENTS.workAvailable, heard + 1);
    expect((await api.app.get(RelayRepository).find(enrolled.relayId))?.lastSeenAt?.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(await queue().get(overdue.id)).toMatchObject({ status: 'expired' });
    expect(await queue().get(item.id)).toMatchObject({ status: 'queued' });
    expect(await queue().get(old.id)).toBeNull();
  });
});
