import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { MeshAttribute } from '@identitymesh/domain';
import { ConnectorSpaceObjectEntity, DATA_SOURCE, MeshRepository, TransactionRunner } from '@identitymesh/persistence';
import { AdminApiHarness } from '../support/admin-api-harness';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;
type Page = { items: Json[]; nextCursor: string | null };

/** Mesh search and detail against real tables (SQLite), with mesh objects and joined objects written as the engine writes them. */
describe('mesh objects', () => {
  let api: AdminApiHarness;
  let token: string;
  let hrId: string;
  let ruleId: string;
  const boss = randomUUID();
  const ann = randomUUID();
  const people = Array.from({ length: 7 }, () => randomUUID());
  const group = randomUUID();
  const at = '2025-05-01T00:00:00.000Z';

  beforeAll(async () => {
    api = await AdminApiHarness.start();
    token = (await api.createKey(['objects.read', 'connectors.write', 'rules.write'])).token;
    hrId = (await api.request<Json>('POST', '/api/connectors', { token, json: { name: 'hr', type: 'csv', config: { path: '/tmp/hr.csv', anchorColumn: 'id', columns: [{ column: 'id' }, { column: 'status' }] } } })).body['id'] as string;
    ruleId = (await api.request<Json>('POST', '/api/rules', { token, json: { kind: 'scoping', connectorId: hrId, objectType: 'person', name: 'active people', ordinal: 1, definition: { condition: 'status == "active"' } } })).body['id'] as string;
    const held = (value: MeshAttribute['value'], extra: Partial<MeshAttribute> = {}): MeshAttribute => ({ value, connectorId: hrId, ruleId, at, ...extra });
    await api.app.get(TransactionRunner).run((tx) =>
      api.app.get(MeshRepository).insertObjects(
        tx,
        [
          { id: boss, objectType: 'person', attributes: { displayName: held('Bo Boss'), mail: held('bo@contoso.com') } },
          {
            id: ann,
            objectType: 'person',
            attributes: {
              displayName: held('Ann Lee'),
              mail: held(['Ann.Lee@Contoso.com', 'ann@old.example']),
              employeeId: held(1042),
              userPassword: held('{SSHA}c2VjcmV0'),
              title: held('Engineer', { connectorId: null, ruleId: undefined }),
              manager: held(boss, { reference: true }),
            },
          },
          ...people.map((id, i) => ({ id, objectType: 'person', attributes: { displayName: held(`Person ${i}`), mail: held(`p${i}@contoso.com`) } })),
          { id: group, objectType: 'group', attributes: { displayName: held('Ann’s team'), mail: held('team@contoso.com') } },
        ],
        { joinAttributes: new Map(), now: new Date(at) },
      ),
    );
    const now = new Date(at);
    await api.app.get<DataSource>(DATA_SOURCE, { strict: false }).getRepository(ConnectorSpaceObjectEntity).insert({
      id: randomUUID(),
      connectorId: hrId,
      objectType: 'person',
      anchor: '1042',
      distinguishedName: null,
      dnHash: null,
      attributes: { id: '1042', status: 'active' },
      attributeHash: 'h',
      meshObjectId: ann,
      isDisconnector: false,
      pendingImport: 'none',
      pendingImportDelta: null,
      pendingExport: 'update',
      lastRunId: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  const search = async (query: string) => {
    const answer = await api.request<Page>('GET', `/api/mesh-objects?${query}`, { token });
    expect(answer.status).toBe(200);
    return answer.body;
  };

  it('finds mesh objects by an attribute value ignoring case, one of several values included, and numbers as text', async () => {
    expect((await search('attribute=mail&value=ann.lee%40contoso.COM')).items.map((i) => i['id'])).toEqual([ann]);
    expect((await search('attribute=mail&value=ANN%40old.example')).items.map((i) => i['id'])).toEqual([ann]);
    expect((await search('attribute=employeeId&value=1042')).items.map((i) => i['id'])).toEqual([ann]);
    // Exact, not a substring; and the value of another attribute does not count.
    expect((await search('attribute=mail&value=ann')).items).toEqual([]);
    expect((await search('attribute=displayName&value=bo%40contoso.com')).items).toEqual([]);
    // A wildcard in the value is a character to find, not a pattern.
    expect((await search('attribute=mail&value=%25')).items).toEqual([]);
  });

  it('filters by object type and display name prefix, and pages without skipping or repeating', async () => {
    expect((await search('objectType=group')).items).toEqual([expect.objectContaining({ id: group, objectType: 'group', displayName: 'Ann’s team' })]);
    expect((await search('displayNamePrefix=ann')).items.map((i) => i['id']).sort()).toEqual([ann, group].sort());
    expect((await search('displayNamePrefix=ann&objectType=person')).items.map((i) => i['id'])).toEqual([ann]);
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await search(`objectType=person&displayNamePrefix=person&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i['id']));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...people].sort());
  });

  it('refuses an attribute without a value, and a cursor of another list', async () => {
    for (const query of ['attribute=mail', 'value=x', 'cursor=WyJjcyIsInBlcnNvbiIsIjEiXQ', 'objectType=', 'limit=0']) {
      const answer = await api.request<Json>('GET', `/api/mesh-objects?${query}`, { token });
      expect({ query, status: answer.status, type: answer.body['type'] }).toEqual({ query, status: 400, type: 'urn:identitymesh:problem:validation-failed' });
    }
  });

  it('shows one object with each attribute’s connector and rule, its joined connector objects and its references', async () => {
    const answer = await api.request<Json>('GET', `/api/mesh-objects/${ann}`, { token });
    expect(answer.status).toBe(200);
    const attributes = answer.body['attributes'] as Json[];
    expect(attributes.map((a) => a['name'])).toEqual(['displayName', 'employeeId', 'mail', 'manager', 'title', 'userPassword']);
    expect(attributes.find((a) => a['name'] === 'mail')).toEqual({
      name: 'mail',
      value: ['Ann.Lee@Contoso.com', 'ann@old.example'],
      reference: false,
      connector: { id: hrId, name: 'hr' },
      rule: { id: ruleId, name: 'active people', kind: 'scoping' },
      changedAt: at,
    });
    expect(attributes.find((a) => a['name'] === 'title')).toMatchObject({ value: 'Engineer', connector: null, rule: null });
    expect(attributes.find((a) => a['name'] === 'userPassword')).toMatchObject({ value: '[redacted]' });
    expect(attributes.find((a) => a['name'] === 'manager')).toMatchObject({ value: boss, reference: true });
    expect(answer.body['references']).toEqual([{ attribute: 'manager', target: { id: boss, objectType: 'person', displayName: 'Bo Boss' } }]);
    expect(answer.body['connectorObjects']).toEqual([
      expect.objectContaining({ connector: { id: hrId, name: 'hr' }, objectType: 'person', anchor: '1042', pendingImport: 'none', pendingExport: 'update', isDisconnector: false }),
    ]);
    expect(answer.text).not.toContain('c2VjcmV0');
  });

  it('answers 404 for a mesh object that does not exist', async () => {
    const answer = await api.request<Json>('GET', `/api/mesh-objects/${randomUUID()}`, { token });
    expect({ status: answer.status, type: answer.body['type'] }).toEqual({ status: 404, type: 'urn:identitymesh:problem:not-found' });
  });
});
