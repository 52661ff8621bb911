import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ConnectorLeaseRepository, ConnectorSpaceObjectEntity, DATA_SOURCE, EngineRegistryRepository, RunRepository, TransactionRunner } from '@identitymesh/persistence';
import { PERMISSIONS } from './auth/permissions';
import { AdminApiHarness, OidcTestProvider } from './support/admin-api-harness';

jest.setTimeout(180_000);

type Json = Record<string, unknown>;
type Page = { items: Json[]; nextCursor: string | null };

/**
 * The Admin API's resources against the real tables (SQLite), each change
 * audited, with OIDC tokens from a real provider on loopback.
 */
describe('Admin API resources', () => {
  let oidc: OidcTestProvider;
  let api: AdminApiHarness;
  let admin: { token: string; prefix: string };
  const files = mkdtempSync(join(tmpdir(), 'im-admin-api-files-'));
  const peopleFile = join(files, 'people.csv');
  writeFileSync(peopleFile, 'id,givenName,sn,status\n1,Ann,Lee,active\n2,Bob,Kim,active\n');

  const csvConnector = (name: string, extra: Json = {}) => ({
    name,
    type: 'csv',
    config: { path: peopleFile, anchorColumn: 'id', columns: [{ column: 'id' }, { column: 'givenName' }, { column: 'sn' }, { column: 'status' }] },
    objectTypes: [
      {
        name: 'person',
        anchorAttribute: 'id',
        attributes: ['id', 'givenName', 'sn', 'status'].map((attribute) => ({ name: attribute, type: 'string' })),
      },
    ],
    ...extra,
  });

  beforeAll(async () => {
    oidc = await OidcTestProvider.start();
    api = await AdminApiHarness.start({ IM_OIDC_ISSUER: oidc.issuer, IM_OIDC_AUDIENCE: oidc.audience, IM_OIDC_ROLE_MAP: 'IdentityMesh.Admins=admin' });
    admin = await api.createKey(PERMISSIONS, { name: 'bootstrap' });
  });
  afterAll(async () => {
    await api?.close();
    await oidc?.stop();
    rmSync(files, { recursive: true, force: true });
  });

  describe('connectors', () => {
    it('creates, lists by page, reads, replaces and deletes a connector, auditing each change', async () => {
      const ids: string[] = [];
      for (const name of ['hr-b', 'hr-a', 'hr-c']) {
        const created = await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector(name) });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ name, type: 'csv', enabled: true, batchSize: 500, rulesVersion: 1, schedule: null });
        ids.push(created.body['id'] as string);
      }
      const first = await api.request<Page>('GET', '/api/connectors?limit=2', { token: admin.token });
      expect(first.body.items.map((c) => c['name'])).toEqual(['hr-a', 'hr-b']);
      const second = await api.request<Page>('GET', `/api/connectors?limit=2&cursor=${first.body.nextCursor}`, { token: admin.token });
      expect(second.body).toEqual({ items: [expect.objectContaining({ name: 'hr-c' })], nextCursor: null });

      const [id] = ids;
      const replaced = await api.request<Json>('PUT', `/api/connectors/${id}`, { token: admin.token, json: csvConnector('hr-b', { description: 'the HR feed', schedule: { intervalSeconds: 900, profiles: ['delta-import', 'delta-sync'] } }) });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ description: 'the HR feed', schedule: { intervalSeconds: 900 } });
      expect((await api.request('GET', `/api/connectors/${id}`, { token: admin.token })).body).toMatchObject({ description: 'the HR feed' });

      expect((await api.request('DELETE', `/api/connectors/${ids[2]}`, { token: admin.token })).status).toBe(204);
      expect((await api.request('GET', `/api/connectors/${ids[2]}`, { token: admin.token })).status).toBe(404);

      const audit = await api.request<Page>('GET', `/api/audit?targetType=connector&targetId=${id}`, { token: admin.token });
      expect(audit.body.items.map((e) => e['action'])).toEqual(['connector.update', 'connector.create']);
      expect(audit.body.items[0]).toMatchObject({ actor: `api-key:${admin.prefix}`, actorType: 'api-key', before: { description: null }, after: { description: 'the HR feed' } });
      const deleted = await api.request<Page>('GET', `/api/audit?targetType=connector&targetId=${ids[2]}&action=connector.delete`, { token: admin.token });
      expect(deleted.body.items).toEqual([expect.objectContaining({ before: expect.objectContaining({ name: 'hr-c' }), after: null })]);
    });

    it('refuses a taken name, a config its type rejects, a bad schedule and a type change, storing nothing', async () => {
      const before = await api.request<Page>('GET', '/api/audit?limit=200', { token: admin.token });
      await api.request('POST', '/api/connectors', { token: admin.token, json: csvConnector('taken') });
      const taken = await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector('taken') });
      expect(taken).toMatchObject({ status: 409, body: { type: 'urn:identitymesh:problem:conflict', code: 'NAME_TAKEN' } });
      const config = await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: { ...csvConnector('bad-config'), config: { path: peopleFile, anchorColumn: 'id', columns: [{ column: 'id' }], password: 'hunter2' } } });
      expect(config).toMatchObject({ status: 422, body: { type: 'urn:identitymesh:problem:connector-config-invalid', code: 'CONNECTOR_CONFIG_INVALID' } });
      expect(config.text).not.toContain('hunter2');
      const schedule = await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector('bad-schedule', { schedule: { cron: '61 * * * *', profiles: ['full-import'] } }) });
      expect(schedule).toMatchObject({ status: 422, body: { type: 'urn:identitymesh:problem:schedule-invalid', code: 'SCHEDULE_INVALID' } });
      const id = (await api.request<Page>('GET', '/api/connectors?limit=200', { token: admin.token })).body.items.find((c) => c['name'] === 'taken')?.['id'] as string;
      const typeChange = await api.request<Json>('PUT', `/api/connectors/${id}`, {
        token: admin.token,
        json: { name: 'taken', type: 'sql', config: { dialect: 'sqlite', file: join(files, 'x.sqlite'), objectTypes: [] } },
      });
      expect(typeChange.status).toBeGreaterThanOrEqual(400);
      expect(typeChange.status).toBeLessThan(500);
      const after = await api.request<Page>('GET', '/api/audit?limit=200', { token: admin.token });
      expect(after.body.items.length).toBe(before.body.items.length + 1);
    });

    it('tests the connection with the connector type, reporting a failure in the answer', async () => {
      const ok = await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector('testable') });
      expect((await api.request('POST', `/api/connectors/${ok.body['id']}/test`, { token: admin.token })).body).toMatchObject({ ok: true, code: null });
      const missing = await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: { ...csvConnector('missing-file'), config: { path: join(files, 'nope.csv'), anchorColumn: 'id', columns: [{ column: 'id' }] } } });
      const result = await api.request<Json>('POST', `/api/connectors/${missing.body['id']}/test`, { token: admin.token });
      expect(result).toMatchObject({ status: 200, body: { ok: false, detail: expect.stringContaining('does not exist') } });
    });

    it('redacts secret-looking values of a config in the audit log', async () => {
      const ldap = await api.request<Json>('POST', '/api/connectors', {
        token: admin.token,
        json: {
          name: 'corp-ldap',
          type: 'ldap',
          config: { url: 'ldap://127.0.0.1:3890', bindDn: 'cn=admin,dc=example,dc=org', bindPasswordSecret: 'ldap/corp/bind-password', objectTypes: [{ name: 'person', baseDns: ['ou=people,dc=example,dc=org'], objectClasses: ['inetOrgPerson'], anchorAttribute: 'entryUUID' }] },
        },
      });
      expect(ldap.status).toBe(201);
      const [entry] = (await api.request<Page>('GET', `/api/audit?targetId=${ldap.body['id']}`, { token: admin.token })).body.items;
      expect(entry?.['after']).toMatchObject({ config: { bindPasswordSecret: '[redacted]', bindDn: 'cn=admin,dc=example,dc=org' } });
    });
  });

  describe('rules', () => {
    let hr: string;
    let directory: string;
    beforeAll(async () => {
      hr = (await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector('rules-hr') })).body['id'] as string;
      // No stored schema: the rules are checked against the schema the connector reports.
      const withoutSchema: Json = csvConnector('rules-directory');
      delete withoutSchema['objectTypes'];
      directory = (await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: withoutSchema })).body['id'] as string;
    });

    it('stores a rule only after its definition validates, naming the field and position otherwise', async () => {
      const flow = await api.request<Json>('POST', '/api/rules', {
        token: admin.token,
        json: { kind: 'import-flow', connectorId: hr, objectType: 'person', name: 'given name', ordinal: 1, definition: { target: 'givenName', source: 'trim(givenName)' } },
      });
      expect(flow).toMatchObject({ status: 201, body: { kind: 'import-flow', version: 1, enabled: true } });
      expect((await api.request('GET', `/api/connectors/${hr}`, { token: admin.token })).body).toMatchObject({ rulesVersion: 2 });

      const expression = await api.request<Json>('POST', '/api/rules', {
        token: admin.token,
        json: { kind: 'scoping', connectorId: hr, objectType: 'person', name: 'active', ordinal: 1, definition: { condition: 'lowr(status) == "active"' } },
      });
      expect(expression).toMatchObject({ status: 422, body: { type: 'urn:identitymesh:problem:expression-invalid', code: 'EXPRESSION_INVALID', details: { field: 'condition', problem: 'unknown-function' } } });
      const unknownField = await api.request<Json>('POST', '/api/rules', {
        token: admin.token,
        json: { kind: 'import-flow', connectorId: hr, objectType: 'person', name: 'x', ordinal: 2, definition: { target: 'sn', source: 'sn', nullhandling: 'keep' } },
      });
      expect(unknownField).toMatchObject({ status: 422, body: { type: 'urn:identitymesh:problem:rule-definition-invalid', code: 'RULE_DEFINITION_INVALID' } });
      const unknownType = await api.request<Json>('POST', '/api/rules', {
        token: admin.token,
        json: { kind: 'scoping', connectorId: hr, objectType: 'group', name: 'x', ordinal: 1, definition: { condition: 'true' } },
      });
      expect(unknownType).toMatchObject({ status: 422, body: { code: 'RULE_DEFINITION_INVALID', details: { field: 'objectType' } } });

      // An export flow reads the mesh: givenName exists there through the import flow above.
      const exportFlow = await api.request<Json>('POST', '/api/rules', {
        token: admin.token,
        json: { kind: 'export-flow', connectorId: directory, objectType: 'person', name: 'given name out', ordinal: 1, definition: { target: 'givenName', source: 'upper(givenName)' } },
      });
      expect(exportFlow.status).toBe(201);
      const unknownMesh = await api.request<Json>('POST', '/api/rules', {
        token: admin.token,
        json: { kind: 'export-flow', connectorId: directory, objectType: 'person', name: 'x', ordinal: 2, definition: { target: 'sn', source: 'surname' } },
      });
      expect(unknownMesh).toMatchObject({ status: 422, body: { code: 'EXPRESSION_INVALID', details: { problem: 'unknown-variable' } } });

      const id = flow.body['id'] as string;
      const replaced = await api.request<Json>('PUT', `/api/rules/${id}`, {
        token: admin.token,
        json: { kind: 'import-flow', connectorId: hr, objectType: 'person', name: 'given name', ordinal: 1, definition: { target: 'givenName', source: 'trim(coalesce(givenName, sn))' }, enabled: false },
      });
      expect(replaced).toMatchObject({ status: 200, body: { version: 2, enabled: false } });
      const listed = await api.request<Page>('GET', `/api/rules?connectorId=${hr}`, { token: admin.token });
      expect(listed.body.items.map((r) => r['id'])).toEqual([id]);
      const audit = await api.request<Page>('GET', `/api/audit?targetType=rule&targetId=${id}`, { token: admin.token });
      expect(audit.body.items.map((e) => e['action'])).toEqual(['rule.update', 'rule.create']);
      expect((await api.request('DELETE', `/api/rules/${id}`, { token: admin.token })).status).toBe(204);
      expect((await api.request('GET', `/api/rules/${id}`, { token: admin.token })).status).toBe(404);
    });

    it('previews a rule against a sample object and against a real connector-space object, writing nothing', async () => {
      const sample = await api.request<Json>('POST', '/api/rules/preview', {
        token: admin.token,
        json: { kind: 'scoping', connectorId: hr, objectType: 'person', definition: { condition: 'status == "active"' }, sample: { cso: { anchor: '7', attributes: { status: ['terminated'] } } } },
      });
      expect(sample).toMatchObject({ status: 200, body: { ok: true, outcome: 'out-of-scope', values: { condition: false } } });

      const dataSource = api.app.get<DataSource>(DATA_SOURCE, { strict: false });
      const csoId = randomUUID();
      const now = new Date();
      await dataSource.getRepository(ConnectorSpaceObjectEntity).insert({
        id: csoId,
        connectorId: hr,
        objectType: 'person',
        anchor: '1',
        distinguishedName: null,
        dnHash: null,
        attributes: { id: ['1'], givenName: ['  Ann '], sn: ['Lee'], status: ['active'] },
        attributeHash: 'x',
        meshObjectId: null,
        isDisconnector: false,
        pendingImport: 'add',
        pendingImportDelta: null,
        pendingExport: null,
        lastRunId: null,
        createdAt: now,
        updatedAt: now,
        version: 1,
      });
      const real = await api.request<Json>('POST', '/api/rules/preview', {
        token: admin.token,
        json: { kind: 'import-flow', connectorId: hr, objectType: 'person', definition: { target: 'givenName', source: 'trim(givenName)' }, sample: { csObjectId: csoId } },
      });
      expect(real).toMatchObject({ status: 200, body: { ok: true, outcome: 'changed', values: { givenName: 'Ann' } } });
      const invalid = await api.request<Json>('POST', '/api/rules/preview', {
        token: admin.token,
        json: { kind: 'scoping', connectorId: hr, objectType: 'person', definition: { condition: 'matches(status, "a+")' }, sample: { cso: { anchor: '1', attributes: {} } } },
      });
      expect(invalid).toMatchObject({ status: 200, body: { ok: false, error: { code: 'EXPRESSION_INVALID' } } });
    });
  });

  describe('runs', () => {
    let connector: string;
    beforeAll(async () => {
      connector = (await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector('runs-hr') })).body['id'] as string;
    });

    it('queues a run the way the engine takes it, and shows it with its per-object errors', async () => {
      const operator = await oidc.token('im-operator');
      const queued = await api.request<Json>('POST', `/api/connectors/${connector}/runs`, { token: operator, json: { profile: 'full-import' } });
      expect(queued).toMatchObject({ status: 202, body: { status: 'queued', trigger: 'manual', profile: 'full-import', preview: false, requestedBy: 'im-operator' } });
      const runId = queued.body['id'] as string;

      // What the engine's run queue does at its next poll.
      const runs = api.app.get(RunRepository);
      const claimed = await runs.claimNext('engine-1', { now: new Date(), connectorId: connector });
      expect(claimed?.id).toBe(runId);
      await api.app.get(TransactionRunner).run((tx) => runs.recordObjectErrors(tx, runId, [{ code: 'OBJECT_MALFORMED', message: 'line 3: bad quoting', anchor: '3', position: 'line 3' }], new Date()));
      await runs.finish(runId, 'engine-1', null, { status: 'completed-with-errors', message: 'done', now: new Date() });

      const detail = await api.request<Json>('GET', `/api/runs/${runId}`, { token: operator });
      expect(detail.body).toMatchObject({ status: 'completed-with-errors', objectErrors: [{ code: 'OBJECT_MALFORMED', anchor: '3', message: 'line 3: bad quoting' }] });
      const errors = await api.request<Page>('GET', `/api/runs/${runId}/errors?limit=1`, { token: operator });
      expect(errors.body).toMatchObject({ items: [{ code: 'OBJECT_MALFORMED' }], nextCursor: null });
      const listed = await api.request<Page>('GET', `/api/runs?connectorId=${connector}&status=completed-with-errors`, { token: operator });
      expect(listed.body.items.map((r) => r['id'])).toEqual([runId]);
      const audit = await api.request<Page>('GET', `/api/audit?actor=im-operator&action=run.trigger`, { token: admin.token });
      expect(audit.body.items[0]).toMatchObject({ actorType: 'operator', targetId: connector, runId });
    });

    it('refuses a preview of an import and a run of a disabled connector', async () => {
      const preview = await api.request<Json>('POST', `/api/connectors/${connector}/runs`, { token: admin.token, json: { profile: 'full-import', preview: true } });
      expect(preview).toMatchObject({ status: 400, body: { errors: [{ pointer: '/preview' }] } });
      const disabled = (await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector('disabled-hr', { enabled: false }) })).body['id'];
      const refused = await api.request<Json>('POST', `/api/connectors/${disabled}/runs`, { token: admin.token, json: { profile: 'full-import' } });
      expect(refused).toMatchObject({ status: 409, body: { code: 'CONNECTOR_NOT_RUNNABLE' } });
    });

    it('releases exactly a run held for approval, once', async () => {
      const runs = api.app.get(RunRepository);
      const run = await runs.queue({ connectorId: connector, profile: 'export', trigger: 'manual' });
      await runs.claimNext('engine-1', { now: new Date(), connectorId: connector });
      await runs.finish(run.id, 'engine-1', null, { status: 'held-for-approval', message: '600 deletes held', now: new Date() });
      const approved = await api.request<Json>('POST', `/api/runs/${run.id}/approve-deletes`, { token: await oidc.token('im-operator') });
      expect(approved).toMatchObject({ status: 200, body: { status: 'queued', deletesApprovedBy: 'im-operator' } });
      const again = await api.request<Json>('POST', `/api/runs/${run.id}/approve-deletes`, { token: admin.token });
      expect(again).toMatchObject({ status: 409, body: { code: 'RUN_NOT_HELD_FOR_APPROVAL' } });
      const reader = await api.request<Json>('POST', `/api/runs/${run.id}/approve-deletes`, { token: await oidc.token('im-reader') });
      expect(reader).toMatchObject({ status: 403, body: { type: 'urn:identitymesh:problem:forbidden' } });
    });
  });

  it('lists the engines of the registry with the leases they hold', async () => {
    const connector = (await api.request<Json>('POST', '/api/connectors', { token: admin.token, json: csvConnector('leased-hr') })).body['id'] as string;
    const engineId = randomUUID();
    const now = new Date();
    await api.app.get(EngineRegistryRepository).register({ id: engineId, host: 'engine-host', pid: 4242, version: '0.1.0', status: 'active', startedAt: now, heartbeatAt: now }, () => ({ kind: 'active' }), () => 'active');
    await api.app.get(ConnectorLeaseRepository).acquire(connector, engineId, { now, durationMs: 60_000, takeover: 'always' });
    const instances = await api.request<{ items: Json[] }>('GET', '/api/instances', { token: await oidc.token('im-reader') });
    expect(instances.body.items).toContainEqual(
      expect.objectContaining({ id: engineId, host: 'engine-host', pid: 4242, status: 'active', live: true, leases: [expect.objectContaining({ connectorId: connector, fencingToken: 1 })] }),
    );
  });

  it('filters the audit log by time and pages through it', async () => {
    const all = await api.request<Page>('GET', '/api/audit?limit=200', { token: admin.token });
    expect(all.body.items.length).toBeGreaterThan(3);
    const newest = all.body.items[0] as Json;
    const since = await api.request<Page>('GET', `/api/audit?from=${encodeURIComponent(newest['at'] as string)}`, { token: admin.token });
    expect(since.body.items.map((e) => e['id'])).toContain(newest['id']);
    expect((await api.request<Page>('GET', `/api/audit?to=${encodeURIComponent('2000-01-01T00:00:00Z')}`, { token: admin.token })).body.items).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Page } = await api.request<Page>('GET', `/api/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.token });
      seen.push(...page.body.items.map((e) => e['id'] as string));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((e) => e['id']));
  });

  describe('API keys', () => {
    it('shows a key once, stores only its hash, scopes it and revokes it at once', async () => {
      const created = await api.request<Json>('POST', '/api/api-keys', { token: admin.token, json: { name: 'reporting', permissions: ['runs.read'], expiresInDays: 7 } });
      expect(created).toMatchObject({ status: 201, body: { name: 'reporting', permissions: ['runs.read'], createdBy: `api-key:${admin.prefix}`, key: expect.stringMatching(/^im_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/) } });
      const key = created.body['key'] as string;
      expect((await api.request('GET', '/api/runs', { token: key })).status).toBe(200);
      expect((await api.request('GET', '/api/connectors', { token: key })).status).toBe(403);
      const listed = await api.request<Page>('GET', '/api/api-keys', { token: admin.token });
      expect(listed.text).not.toContain(key.slice('im_'.length + 12 + 1));
      expect(listed.text).not.toContain('scrypt');
      const revoked = await api.request<Json>('DELETE', `/api/api-keys/${created.body['id']}`, { token: admin.token });
      expect(revoked).toMatchObject({ status: 200, body: { revokedAt: expect.any(String) } });
      expect((await api.request('GET', '/api/runs', { token: key })).status).toBe(401);
    });

    it('gives a key no permission its creator lacks', async () => {
      const limited = await api.createKey(['keys.manage', 'runs.read']);
      const beyond = await api.request<Json>('POST', '/api/api-keys', { token: limited.token, json: { name: 'escalation', permissions: ['connectors.write'] } });
      expect(beyond).toMatchObject({ status: 403, body: { details: { permissions: ['connectors.write'] } } });
    });
  });

  it('maps a configured claim value to a role', async () => {
    expect((await api.request('GET', '/api/api-keys', { token: await oidc.token('im-mapped') })).status).toBe(200);
  });
});
