import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ExportStatus } from '@identitymesh/domain';
import { ConnectorSpaceObjectEntity, DATA_SOURCE, ExportQueueItemEntity } from '@identitymesh/persistence';
import { AdminApiHarness } from '../support/admin-api-harness';

jest.setTimeout(120_000);

/** `/metrics` reports runs by status and the export queue's depth, read from the database at scrape time. */
describe('operations metrics', () => {
  let api: AdminApiHarness;

  beforeAll(async () => {
    api = await AdminApiHarness.start();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('reports queued runs and export queue items by status', async () => {
    const empty = await api.request('GET', '/metrics');
    expect(empty.text).toMatch(/^identitymesh_runs\{status="queued",app="admin-api"\} 0$/m);
    expect(empty.text).toMatch(/^identitymesh_export_queue_items\{status="parked",app="admin-api"\} 0$/m);

    const { token } = await api.createKey(['connectors.write', 'runs.trigger']);
    const connector = await api.request<Record<string, unknown>>('POST', '/api/connectors', { token, json: { name: 'hr', type: 'csv', config: { path: '/tmp/hr.csv', anchorColumn: 'id', columns: [{ column: 'id' }] } } });
    const connectorId = connector.body['id'] as string;
    for (let i = 0; i < 2; i++) expect((await api.request('POST', `/api/connectors/${connectorId}/runs`, { token, json: { profile: 'full-import' } })).status).toBe(202);
    const dataSource = api.app.get<DataSource>(DATA_SOURCE, { strict: false });
    const now = new Date();
    const csObjectId = randomUUID();
    await dataSource.getRepository(ConnectorSpaceObjectEntity).insert({ id: csObjectId, connectorId, objectType: 'person', anchor: '1', distinguishedName: null, dnHash: null, attributes: {}, attributeHash: 'h', meshObjectId: null, isDisconnector: false, pendingImport: 'none', pendingImportDelta: null, pendingExport: 'update', lastRunId: null, createdAt: now, updatedAt: now, version: 1 });
    const item = (status: ExportStatus, seq: number): ExportQueueItemEntity => ({ id: randomUUID(), connectorId, csObjectId, operation: 'update', changes: {}, status, attempts: 0, nextAttemptAt: null, lastError: null, runId: null, seq, lastAttemptAt: null, thresholdRunId: null, confirmation: null, createdAt: now, updatedAt: now });
    await dataSource.getRepository(ExportQueueItemEntity).insert([item('parked', 1), item('pending', 2), item('pending', 3), item('succeeded', 4)]);

    // Counts are reused for five seconds, so several scrapers cost one query each.
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    const scraped = (await api.request('GET', '/metrics')).text;
    expect(scraped).toMatch(/^identitymesh_runs\{status="queued",app="admin-api"\} 2$/m);
    expect(scraped).toMatch(/^identitymesh_runs\{status="running",app="admin-api"\} 0$/m);
    expect(scraped).toMatch(/^identitymesh_export_queue_items\{status="pending",app="admin-api"\} 2$/m);
    expect(scraped).toMatch(/^identitymesh_export_queue_items\{status="parked",app="admin-api"\} 1$/m);
  });
});
