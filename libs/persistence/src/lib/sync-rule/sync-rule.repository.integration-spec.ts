import type { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { ConnectorRepository } from '../connector/connector.repository';
import { connectDatabase, migrateDatabase } from '../data-source/open-database';
import { SyncRuleEntity } from '../entities/sync-rule.entity';
import { SyncRuleRepository } from './sync-rule.repository';

jest.setTimeout(120_000);

describe.each(TEST_DIALECTS)('sync rules on %s', (dialect) => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createThrowawayDatabase(dialect);
    dataSource = await connectDatabase(db.settings);
    await migrateDatabase(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('loads every enabled rule with the precedence rows, and bumps the rule version of the connectors a new rule names', async () => {
    const connectors = new ConnectorRepository(dataSource);
    const hr = await connectors.create({ name: 'hr', type: 'csv', config: {} });
    const ad = await connectors.create({ name: 'ad', type: 'ldap', config: {} });
    const rules = new SyncRuleRepository(dataSource);
    const projection = await rules.create({ kind: 'projection', connectorId: hr.id, objectType: 'person', name: 'people', ordinal: 1, definition: { meshObjectType: 'person' } });
    const composer = await rules.create({ kind: 'composer', connectorId: null, objectType: 'person', name: 'display name', ordinal: 1, definition: { target: 'displayName', candidates: ['sn'] } });
    await rules.create({ kind: 'provisioning', connectorId: ad.id, objectType: 'person', name: 'accounts', ordinal: 1, definition: { targetConnectorId: ad.id, targetObjectType: 'user', dnTemplate: 'cn={{sn}}' } });
    const disabled = await rules.create({ kind: 'scoping', connectorId: hr.id, objectType: 'person', name: 'off', ordinal: 1, definition: { condition: 'true' }, enabled: false });
    await rules.setPrecedence([
      { objectType: 'person', attributeName: 'title', connectorId: hr.id, rank: 2 },
      { objectType: 'person', attributeName: 'title', connectorId: ad.id, rank: 1 },
    ]);
    await rules.setPrecedence([{ objectType: 'person', attributeName: 'title', connectorId: ad.id, rank: 3 }]);

    const loaded = await rules.loadEnabled();
    expect(loaded.rules.map((rule) => rule.kind).sort()).toEqual(['composer', 'projection', 'provisioning']);
    expect(loaded.rules.find((rule) => rule.id === projection.id)).toEqual({ ...projection, enabled: true });
    expect(loaded.rules.find((rule) => rule.id === composer.id)?.connectorId).toBeNull();
    expect(loaded.rules.some((rule) => rule.id === disabled.id)).toBe(false);
    expect(await dataSource.getRepository(SyncRuleEntity).countBy({ id: disabled.id })).toBe(1);
    expect(loaded.precedence.sort((a, b) => a.rank - b.rank)).toEqual([
      { objectType: 'person', attributeName: 'title', connectorId: hr.id, rank: 2 },
      { objectType: 'person', attributeName: 'title', connectorId: ad.id, rank: 3 },
    ]);
    expect((await connectors.findById(hr.id))?.rulesVersion).toBe(3);
    expect((await connectors.findById(ad.id))?.rulesVersion).toBe(2);
  });
});
