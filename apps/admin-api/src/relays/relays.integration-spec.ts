import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_EVENTS, RelayCommand } from '@identitymesh/connector-sdk';
import { RelayWorkQueueRepository } from '@identitymesh/persistence';
import { RelayConnectionTests } from './relay-connection-tests.service';
import { AdminApiHarness } from '../support/admin-api-harness';
import { closeAllHubClients, connected, dialHub, disconnected, HubClient } from './support/hub-client';

jest.setTimeout(180_000);

type Json = Record<string, unknown>;

/** The relay routes over a real hub: enrollment, the list with presence, commands to connected relays, gauges and the enrollment rate limit. */
describe('relay routes', () => {
  let api: AdminApiHarness;
  let admin: { token: string; prefix: string };
  const files = mkdtempSync(join(tmpdir(), 'im-relays-'));
  const csv = join(files, 'people.csv');
  writeFileSync(csv, 'id,status\n1,active\n');

  const connector = async (name: string, relayGroup: string | null) => {
    const created = await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: { name, type: 'csv', relayGroup, config: { path: csv, anchorColumn: 'id', columns: [{ column: 'id' }, { column: 'status' }] } } });
    expect(created.status).toBe(201);
    return created.body['id'] as string;
  };

  const enroll = async (relayGroup: string) => {
    const name = `relay-${randomUUID().slice(0, 8)}`;
    const enrollment = await api.request<Json>('POST', '/api/relays/enrollments', { token: admin.token, json: { relayGroup } });
    const enrolled = await api.request<Json>('POST', '/api/relays/enroll', { json: { token: enrollment.body['token'], name } });
    expect(enrolled.status).toBe(201);
    return { id: enrolled.body['relayId'] as string, credential: enrolled.body['credential'] as string, name };
  };

  /** A relay that answers commands the way the agent does. */
  const answeringRelay = async (credential: string, answer: (command: RelayCommand) => unknown): Promise<HubClient> => {
    const client = dialHub(api.url, { token: credential, host: 'branch-host', version: '9.9.9' });
    client.socket.on(HUB_EVENTS.command, (command: RelayCommand, ack: (reply: unknown) => void) => {
      const reply = answer(command);
      if (reply !== undefined) ack(reply);
    });
    await connected(client);
    return client;
  };

  beforeAll(async () => {
    api = await AdminApiHarness.start();
    admin = await api.createKey();
  });
  afterEach(() => closeAllHubClients());
  afterAll(async () => {
    closeAllHubClients();
    await api?.close();
    rmSync(files, { recursive: true, force: true });
  });

  it('creates a one-time enrollment token bound to a group, shown once and audited without it', async () => {
    const created = await api.request<Json>('POST', '/api/relays/enrollments', { token: admin.token, json: { relayGroup: ' dmz ', expiresInMinutes: 60 } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), relayGroup: 'dmz', expiresAt: expect.any(String), token: expect.stringMatching(/^ime_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/) });
    const lifetime = Date.parse(created.body['expiresAt'] as string) - Date.now();
    expect(lifetime).toBeGreaterThan(59 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(60 * 60_000);
    expect((await api.request('POST', '/api/relays/enrollments', { token: admin.token, json: { relayGroup: 'dmz', expiresInMinutes: 24 * 60 + 1 } })).status).toBe(400);

    const audit = await api.request<{ items: Json[] }>('GET', `/api/audit?targetType=relay-enrollment&targetId=${created.body['id']}`, { token: admin.token });
    expect(audit.body.items).toEqual([expect.objectContaining({ action: 'relay.enrollment.create', actor: `api-key:${admin.prefix}`, after: { relayGroup: 'dmz', expiresAt: created.body['expiresAt'] } })]);
    expect(JSON.stringify(audit.body)).not.toContain(created.body['token'] as string);

    const enrolled = await api.request<Json>('POST', '/api/relays/enroll', { json: { token: created.body['token'], name: 'dmz-1', host: 'dmz-1.example.test', version: '1.0.0' } });
    expect(enrolled.status).toBe(201);
    expect(enrolled.body).toEqual({ relayId: expect.any(String), name: 'dmz-1', relayGroup: 'dmz', credential: expect.stringMatching(new RegExp(`^imr_${enrolled.body['relayId']}_[A-Za-z0-9_-]{43}$`)) });
    const enrollAudit = await api.request<{ items: Json[] }>('GET', `/api/audit?targetType=relay&targetId=${enrolled.body['relayId']}`, { token: admin.token });
    expect(enrollAudit.body.items).toEqual([expect.objectContaining({ action: 'relay.enroll', actorType: 'relay', actor: 'relay:dmz-1' })]);
    expect(JSON.stringify(enrollAudit.body)).not.toContain(enrolled.body['credential'] as string);
  });

  it('tests the connection of a connector of a relay group on a relay of that group, and says so when none answers', async () => {
    const relay = await enroll('test-group');
    const connectorId = await connector(`tested-${randomUUID().slice(0, 8)}`, 'test-group');
    const client = dialHub(api.url, { token: relay.credential, host: 'branch-host', version: '9.9.9' });
    // A relay that runs the test: pulls the item the hub announces and answers what the system said.
    const seen: Json[] = [];
    client.socket.on(HUB_EVENTS.workAvailable, async () => {
      const pulled = (await client.socket.emitWithAck(HUB_EVENTS.workPull, { max: 4 })) as { items: Json[] };
      for (const order of pulled.items) {
        seen.push(order);
        await client.socket.emitWithAck(HUB_EVENTS.workStarted, { itemId: order['id'], attempt: order['attempt'] });
        await client.socket.emitWithAck(HUB_EVENTS.workResult, { itemId: order['id'], attempt: order['attempt'], status: 'done', testConnection: { ok: true, detail: 'read 1 row' } });
      }
    });
    await connected(client);
    const tested = await api.request<Json>('POST', `/api/connectors/${connectorId}/test`, { token: admin.token });
    expect(tested).toMatchObject({ status: 200, body: { ok: true, code: null, detail: 'on a relay of group "test-group": read 1 row' } });
    expect(seen).toEqual([expect.objectContaining({ kind: 'test-connection', connector: expect.objectContaining({ id: connectorId, type: 'csv' }) })]);
    client.socket.disconnect();

    // Nobody of the group connected: the item expires unanswered and the test says where to look.
    const unanswered = await api.app.get(RelayConnectionTests).test({ id: connectorId, relayGroup: 'test-group' }, 300);
    expect(unanswered).toEqual({ ok: false, code: 'CONNECTOR_UNREACHABLE', detail: expect.stringContaining('no relay of group "test-group" answered') });
  });

  it('lists relays with whether, since when and where they are connected', async () => {
    const relay = await enroll('branch');
    const offline = await enroll('branch');
    const before = Date.now();
    const socket = await answeringRelay(relay.credential, () => ({ ok: true, detail: 'pong' }));
    const list = await api.request<{ items: Json[] }>('GET', '/api/relays', { token: admin.token });
    expect(list.status).toBe(200);
    const byId = new Map(list.body.items.map((r) => [r['id'], r]));
    expect(byId.get(relay.id)).toEqual({
      id: relay.id,
      name: relay.name,
      relayGroup: 'branch',
      host: 'branch-host',
      version: '9.9.9',
      status: 'active',
      connected: true,
      connectedSince: expect.any(String),
      instanceId: expect.any(String),
      lastSeenAt: expect.any(String),
      enrolledAt: expect.any(String),
      revokedAt: null,
    });
    expect(Date.parse(byId.get(relay.id)?.['connectedSince'] as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(byId.get(offline.id)).toMatchObject({ connected: false, connectedSince: null, instanceId: null, lastSeenAt: null });

    const closing = disconnected(socket);
    socket.socket.disconnect();
    await closing;
    // The hub sees the close a moment after the client; the list follows it.
    let after = (await api.request<Json>('GET', `/api/relays/${relay.id}`, { token: admin.token })).body;
    while (after['connected']) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = (await api.request<Json>('GET', `/api/relays/${relay.id}`, { token: admin.token })).body;
    }
    expect(after).toMatchObject({ connected: false, host: 'branch-host', version: '9.9.9', lastSeenAt: expect.any(String) });
    expect((await api.request('GET', `/api/relays/${randomUUID()}`, { token: admin.token })).status).toBe(404);
  });

  it('pings a connected relay and reloads its config, and answers 409 for a relay that is not connected', async () => {
    const relay = await enroll('branch');
    const seen: RelayCommand[] = [];
    await answeringRelay(relay.credential, (command) => {
      seen.push(command);
      return command.kind === 'ping' ? { ok: true, detail: 'pong from branch-host' } : { ok: false, detail: 'config file unreadable' };
    });
    const ping = await api.request<Json>('POST', `/api/relays/${relay.id}/commands`, { token: admin.token, json: { kind: 'ping' } });
    expect(ping.status).toBe(200);
    expect(ping.body).toEqual({ kind: 'ping', outcome: 'ok', detail: 'pong from branch-host', roundTripMs: expect.any(Number) });
    const reload = await api.request<Json>('POST', `/api/relays/${relay.id}/commands`, { token: admin.token, json: { kind: 'reload-config' } });
    expect(reload.body).toMatchObject({ kind: 'reload-config', outcome: 'failed', detail: 'config file unreadable' });
    expect(seen).toEqual([
      { kind: 'ping', sentAt: expect.any(String) },
      { kind: 'reload-config', sentAt: expect.any(String) },
    ]);
    const audit = await api.request<{ items: Json[] }>('GET', `/api/audit?targetType=relay&targetId=${relay.id}&action=relay.command`, { token: admin.token });
    expect(audit.body.items.map((e) => (e['after'] as Json)['kind'])).toEqual(['reload-config', 'ping']);

    const offline = await enroll('branch');
    const refused = await api.request<Json>('POST', `/api/relays/${offline.id}/commands`, { token: admin.token, json: { kind: 'ping' } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: 'urn:identitymesh:problem:conflict', code: 'RELAY_NOT_CONNECTED' });
    expect((await api.request('POST', `/api/relays/${randomUUID()}/commands`, { token: admin.token, json: { kind: 'ping' } })).status).toBe(404);

    expect((await api.request('POST', `/api/relays/${offline.id}/revoke`, { token: admin.token })).status).toBe(200);
    expect((await api.request<Json>('POST', `/api/relays/${offline.id}/commands`, { token: admin.token, json: { kind: 'ping' } })).body).toMatchObject({ code: 'RELAY_REVOKED' });
  });

  it('reports a malformed command answer as failed', async () => {
    const relay = await enroll('branch');
    await answeringRelay(relay.credential, () => ({ pong: true }));
    const answer = await api.request<Json>('POST', `/api/relays/${relay.id}/commands`, { token: admin.token, json: { kind: 'ping' } });
    expect(answer.body).toMatchObject({ kind: 'ping', outcome: 'failed', detail: expect.stringContaining('malformed') });
  });

  it('queues a run of a connector of the relay’s group, and refuses one of another group', async () => {
    const relay = await enroll('warehouse');
    const own = await connector('warehouse-hr', 'warehouse');
    const other = await connector('head-office-hr', null);
    const queued = await api.request<Json>('POST', `/api/relays/${relay.id}/commands`, { token: admin.token, json: { kind: 'run-connector', connectorId: own, profile: 'delta-import' } });
    expect(queued.status).toBe(200);
    expect(queued.body).toEqual({ kind: 'run-connector', outcome: 'queued', runId: expect.any(String) });
    const run = await api.request<Json>('GET', `/api/runs/${queued.body['runId']}`, { token: admin.token });
    expect(run.body).toMatchObject({ connectorId: own, profile: 'delta-import', status: 'queued', trigger: 'manual', requestedBy: `api-key:${admin.prefix}` });

    const foreign = await api.request<Json>('POST', `/api/relays/${relay.id}/commands`, { token: admin.token, json: { kind: 'run-connector', connectorId: other } });
    expect(foreign.status).toBe(409);
    expect(foreign.body).toMatchObject({ code: 'CONNECTOR_NOT_RUNNABLE' });
    expect((await api.request('POST', `/api/relays/${relay.id}/commands`, { token: admin.token, json: { kind: 'run-connector', connectorId: randomUUID() } })).status).toBe(404);
    for (const body of [{ kind: 'run-connector' }, { kind: 'ping', connectorId: own }, { kind: 'ping', profile: 'full-import' }, { kind: 'reboot' }]) {
      expect({ body, status: (await api.request('POST', `/api/relays/${relay.id}/commands`, { token: admin.token, json: body })).status }).toEqual({ body, status: 400 });
    }
    const runs = await api.request<{ items: Json[] }>('GET', `/api/runs?connectorId=${own}`, { token: admin.token });
    expect(runs.body.items).toHaveLength(1);
  });

  it('reports connected relays and open relay work on /metrics', async () => {
    const relay = await enroll('metrics-group');
    const connectorId = await connector('metrics-hr', 'metrics-group');
    await answeringRelay(relay.credential, () => undefined);
    const queue = api.app.get(RelayWorkQueueRepository);
    for (let i = 0; i < 2; i++) {
      await queue.enqueue({ relayGroup: 'metrics-group', connectorId, runId: null, workKey: null, kind: 'test-connection', payload: {}, deadlineAt: new Date(Date.now() + 3600_000) }, new Date());
    }
    // Sockets of the tests above close a moment after their clients did.
    while ((await api.request<{ items: Json[] }>('GET', '/api/relays', { token: admin.token })).body.items.filter((r) => r['connected']).length !== 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const scraped = (await api.request('GET', '/metrics')).text;
    expect(scraped).toMatch(/^identitymesh_relays_connected\{app="admin-api"\} 1$/m);
    expect(scraped).toMatch(/^identitymesh_relay_work_items\{relay_group="metrics-group",status="queued",app="admin-api"\} 2$/m);
  });

  it('limits enrollment attempts per address', async () => {
    let status = 0;
    let attempts = 0;
    while (status !== 429 && attempts < 40) {
      attempts++;
      status = (await api.request('POST', '/api/relays/enroll', { json: { token: `ime_${randomUUID()}_${'A'.repeat(43)}`, name: 'guess' } })).status;
      expect([401, 429]).toContain(status);
    }
    expect(status).toBe(429);
    // 30 a minute; the enrollments of the tests above used some of them.
    expect(attempts).toBeLessThanOrEqual(30);
  });

  it('closes relay sockets when the Admin API shuts down, so the close does not wait for them', async () => {
    const other = await AdminApiHarness.start();
    let open = true;
    try {
      const key = await other.createKey();
      const enrollment = await other.request<Json>('POST', '/api/relays/enrollments', { token: key.token, json: { relayGroup: 'branch' } });
      const enrolled = await other.request<Json>('POST', '/api/relays/enroll', { json: { token: enrollment.body['token'], name: 'short-lived' } });
      const client = dialHub(other.url, { token: enrolled.body['credential'] });
      await connected(client);
      const closing = disconnected(client);
      await other.close();
      open = false;
      expect(await closing).toBe('io server disconnect');
    } finally {
      if (open) await other.close();
    }
  });
});
