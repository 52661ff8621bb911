import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ConnectorSpaceObjectEntity, CsReferenceEntity, DATA_SOURCE, ExportQueueItemEntity } from '@identitymesh/persistence';
import { AdminApiHarness } from '../support/admin-api-harness';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;
type Page = { items: Json[]; nextCursor: string | null };

/** Connector space search and detail against real tables (SQLite). */
describe('connector objects', () => {
  let api: AdminApiHarness;
  let token: string;
  let ldapId: string;
  let otherId: string;
  const objects: Array<{ id: string; anchor: string; objectType: string; dn: string }> = [];
  const at = new Date('2025-05-01T00:00:00Z');

  const row = (connectorId: string, o: { id: string; anchor: string; objectType: string; dn: string }, extra: Partial<ConnectorSpaceObjectEntity> = {}): ConnectorSpaceObjectEntity => ({
    id: o.id,
    connectorId,
    objectType: o.objectType,
    anchor: o.anchor,
    distinguishedName: o.dn,
    dnHash: null,
    attributes: { cn: o.anchor, userPassword: 'p4ssw0rd-staged' },
    attributeHash: 'h',
    meshObjectId: null,
    isDisconnector: false,
    pendingImport: 'none',
    pendingImportDelta: null,
    pendingExport: null,
    lastRunId: null,
    createdAt: at,
    updatedAt: at,
    version: 1,
    ...extra,
  });

  beforeAll(async () => {
    api = await AdminApiHarness.start();
    token = (await api.createKey(['objects.read', 'connectors.write'])).token;
    const connector = async (name: string) =>
      (await api.request<Json>('POST', '/api/connectors', { token, json: { name, type: 'csv', config: { path: '/tmp/x.csv', anchorColumn: 'id', columns: [{ column: 'id' }] } } })).body['id'] as string;
    ldapId = await connector('directory');
    otherId = await connector('other');
    for (let i = 0; i < 6; i++) objects.push({ id: randomUUID(), anchor: `u${i}`, objectType: 'user', dn: `CN=User ${i},OU=People,DC=contoso,DC=com` });
    objects.push({ id: randomUUID(), anchor: 'g0', objectType: 'group', dn: 'CN=Admins,OU=Groups,DC=contoso,DC=com' });
    const dataSource = api.app.get<DataSource>(DATA_SOURCE, { strict: false });
    await dataSource.getRepository(ConnectorSpaceObjectEntity).insert([
      ...objects.map((o, i) => row(ldapId, o, i === 1 ? { pendingImport: 'update' } : i === 2 ? { pendingExport: 'update' } : {})),
      row(otherId, { id: randomUUID(), anchor: 'u0', objectType: 'user', dn: 'CN=User 0,OU=People,DC=contoso,DC=com' }),
    ]);
    const exported = objects[2];
    await dataSource.getRepository(ExportQueueItemEntity).insert([
      { id: randomUUID(), connectorId: ldapId, csObjectId: exported.id, operation: 'update', changes: { kind: 'update', objectType: 'user', attributes: { title: { op: 'replace', values: ['Boss'] } } }, status: 'succeeded', attempts: 0, nextAttemptAt: null, lastError: null, runId: null, seq: 1, lastAttemptAt: at, thresholdRunId: null, confirmation: 'confirmed', createdAt: at, updatedAt: at },
      { id: randomUUID(), connectorId: ldapId, csObjectId: exported.id, operation: 'update', changes: { kind: 'update', objectType: 'user', attributes: { userPassword: { op: 'replace', values: ['n3w-s3cret'] }, mail: { op: 'replace', values: ['x@y'] } } }, status: 'pending', attempts: 2, nextAttemptAt: new Date('2025-05-01T01:00:00Z'), lastError: 'LDAP 53: unwilling to perform', runId: null, seq: 2, lastAttemptAt: at, thresholdRunId: null, confirmation: null, createdAt: at, updatedAt: at },
    ]);
    await dataSource.getRepository(CsReferenceEntity).insert({ csObjectId: objects[6].id, attributeName: 'member', targetKey: 'u0', targetCsObjectId: objects[0].id });
  });
  afterAll(async () => {
    await api?.close();
  });

  const search = async (connectorId: string, query = '') => {
    const answer = await api.request<Page>('GET', `/api/connectors/${connectorId}/objects?${query}`, { token });
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const anchors = (page: Page) => page.items.map((i) => i['anchor']);

  it('lists one connector’s space in (object type, anchor) order, page by page', async () => {
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await search(ldapId, `limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...anchors(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['g0', 'u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
  });

  it('searches by anchor, DN prefix ignoring case, pending import and pending export', async () => {
    expect(anchors(await search(ldapId, 'anchor=u3'))).toEqual(['u3']);
    expect(anchors(await search(ldapId, 'dnPrefix=cn%3Duser%201'))).toEqual(['u1']);
    expect(anchors(await search(ldapId, 'dnPrefix=CN%3DAdmins%2COU%3DGroups'))).toEqual(['g0']);
    expect(anchors(await search(ldapId, 'dnPrefix=%25'))).toEqual([]);
    expect(anchors(await search(ldapId, 'pendingImport=any'))).toEqual(['u1']);
    expect(anchors(await search(ldapId, 'pendingImport=update&objectType=user'))).toEqual(['u1']);
    expect(anchors(await search(ldapId, 'pendingExport=update'))).toEqual(['u2']);
    expect((await search(ldapId, 'pendingExport=none')).items).toHaveLength(6);
    expect(anchors(await search(ldapId, 'objectType=group'))).toEqual(['g0']);
  });

  it('shows one object with its attributes, references and export queue items, never an export’s values', async () => {
    const exported = objects[2];
    const answer = await api.request<Json>('GET', `/api/connectors/${ldapId}/objects/${exported.id}`, { token });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: exported.id, anchor: 'u2', pendingImport: 'none', pendingExport: 'update', attributes: { cn: 'u2', userPassword: '[redacted]' } });
    expect(answer.body['exports']).toEqual([
      expect.objectContaining({ operation: 'update', status: 'pending', attempts: 2, lastError: 'LDAP 53: unwilling to perform', attributes: ['mail', 'userPassword'], nextAttemptAt: '2025-05-01T01:00:00.000Z' }),
      expect.objectContaining({ status: 'succeeded', attempts: 0, attributes: ['title'] }),
    ]);
    expect(answer.text).not.toMatch(/n3w-s3cret|p4ssw0rd-staged/);
    const group = await api.request<Json>('GET', `/api/connectors/${ldapId}/objects/${objects[6].id}`, { token });
    expect(group.body['references']).toEqual([{ attribute: 'member', targetKey: 'u0', targetObjectId: objects[0].id }]);
  });

  it('answers 404 for an unknown connector, and for an object of another connector', async () => {
    for (const path of [`/api/connectors/${randomUUID()}/objects`, `/api/connectors/${randomUUID()}/objects/${objects[0].id}`, `/api/connectors/${otherId}/objects/${objects[0].id}`]) {
      const answer = await api.request<Json>('GET', path, { token });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
  });

  it('refuses unknown filter values and foreign cursors', async () => {
    for (const query of ['pendingImport=maybe', 'pendingExport=all', 'cursor=WyJtZXNoIiwiMDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAwIl0', 'anchor=']) {
      const answer = await api.request<Json>('GET', `/api/connectors/${ldapId}/objects?${query}`, { token });
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
    }
  });
});
