import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createThrowawayDatabase, TEST_DIALECTS, type ThrowawayDatabase } from '@identitymesh/testing';
import { buildDataSourceOptions, MIGRATIONS_TABLE } from '../data-source/data-source-options';
import {
  ALL_ENTITIES,
  ConnectorEntity,
  ConnectorLeaseEntity,
  ConnectorSpaceObjectEntity,
  ExportQueueItemEntity,
  MeshObjectEntity,
  RunEntity,
} from '../entities';
import { ALL_MIGRATIONS } from '../migrations';

// Creating ~25 tables with their keys takes a few seconds on MariaDB.
jest.setTimeout(120_000);

/** What TypeORM would still change to make the database match the entities. */
async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((query) => query.query);
}

/** The tables of the test database itself (not the server's catalogs or SQLite's own bookkeeping). */
async function tableNames(dataSource: DataSource): Promise<string[]> {
  const dialect = dataSource.options.type;
  const sql =
    dialect === 'better-sqlite3'
      ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`
      : dialect === 'postgres'
        ? `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
        : `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'`;
  const rows: { name: string }[] = await dataSource.query(sql);
  return rows.map((row) => row.name).sort();
}

/** Opens a migrated throwaway database of one dialect for a describe block and removes it afterwards. */
function useMigratedDatabase(dialect: (typeof TEST_DIALECTS)[number]) {
  const state: { dataSource: DataSource; appliedOnFirstRun: string[] } = {} as never;
  let database: ThrowawayDatabase | undefined;

  beforeAll(async () => {
    database = await createThrowawayDatabase(dialect);
    state.dataSource = new DataSource(buildDataSourceOptions(database.settings));
    await state.dataSource.initialize();
    state.appliedOnFirstRun = (await state.dataSource.runMigrations()).map((migration) => migration.name);
  });

  afterAll(async () => {
    try {
      if (state.dataSource?.isInitialized) await state.dataSource.destroy();
    } finally {
      await database?.drop();
    }
  });

  return state;
}

describe.each(TEST_DIALECTS)('schema on %s', (dialect) => {
  const db = useMigratedDatabase(dialect);

  it('applies every migration on an empty database', () => {
    expect(db.appliedOnFirstRun).toEqual(ALL_MIGRATIONS.map((migration) => new migration().name));
  });

  it('leaves no schema change pending: entities and migrations agree', async () => {
    // toEqual([]) prints every pending statement when it fails.
    expect(await pendingSchemaChanges(db.dataSource)).toEqual([]);
  });

  it('creates one IM_-prefixed table per entity and nothing else', async () => {
    const entityTables = ALL_ENTITIES.map((entity) => db.dataSource.getMetadata(entity).tableName);
    const names = await tableNames(db.dataSource);
    expect(names).toEqual([...entityTables, MIGRATIONS_TABLE].sort());
    expect(names.filter((name) => !name.startsWith('IM_'))).toEqual([]);
  });

  it('applies nothing when run again', async () => {
    expect(await db.dataSource.runMigrations()).toEqual([]);
  });

  it('undoes every migration completely and applies them again', async () => {
    for (let i = 0; i < ALL_MIGRATIONS.length; i++) await db.dataSource.undoLastMigration();
    expect(await tableNames(db.dataSource)).toEqual([MIGRATIONS_TABLE]);

    const reapplied = await db.dataSource.runMigrations();
    expect(reapplied.map((migration) => migration.name)).toEqual(db.appliedOnFirstRun);
    expect(await pendingSchemaChanges(db.dataSource)).toEqual([]);
  });
});

/** One connector with a linked CSO, its mesh object, a pending export and a lease; fresh ids per call. */
function sampleRows() {
  // Whole seconds: MySQL/MariaDB datetime keeps no fraction (see column-types.ts).
  const createdAt = new Date('2026-03-04T05:06:07.000Z');
  const updatedAt = new Date('2026-03-04T05:06:08.000Z');

  const connector: ConnectorEntity = {
    id: randomUUID(),
    name: `HR feed ${randomUUID()}`,
    type: 'csv',
    description: null,
    config: { path: '/data/hr.csv', delimiter: ';', password: { secretRef: 'hr/password' }, columns: ['a', 'b'] },
    objectTypes: [{ name: 'person', anchor: 'employeeId', attributes: [{ name: 'mail', multiValued: false }] }],
    schedule: null,
    relayGroup: 'branch-office',
    batchSize: 250,
    deletionThresholdCount: 500,
    deletionThresholdPercent: 10,
    errorThreshold: null,
    exportMaxAttempts: 5,
    enabled: false,
    rulesVersion: 3,
    createdAt,
    updatedAt,
  };

  const meshObject: MeshObjectEntity = {
    id: randomUUID(),
    objectType: 'person',
    displayName: 'Łukasz Żółć 山田',
    attributes: {
      mail: { value: 'lukasz@example.com', connectorId: connector.id, at: '2026-03-04T05:06:07.123Z' },
      costCenter: { value: 4711, connectorId: connector.id, ruleId: randomUUID(), at: '2026-03-04T05:06:07.123Z' },
    },
    hash: 'a'.repeat(64),
    version: 1,
    createdAt,
    updatedAt,
  };

  const cso: ConnectorSpaceObjectEntity = {
    id: randomUUID(),
    connectorId: connector.id,
    objectType: 'person',
    anchor: 'E-1001',
    distinguishedName: 'CN=Łukasz Żółć,OU=People,DC=example,DC=com',
    dnHash: 'b'.repeat(64),
    attributes: { mail: 'lukasz@example.com', groups: ['a', 'b'], active: true, nested: { x: null } },
    attributeHash: 'c'.repeat(64),
    meshObjectId: meshObject.id,
    isDisconnector: true,
    pendingImport: 'update',
    pendingImportDelta: { mail: { before: null, after: 'lukasz@example.com' } },
    pendingExport: null,
    lastRunId: null,
    createdAt,
    updatedAt,
    version: 7,
  };

  const exportItem: ExportQueueItemEntity = {
    id: randomUUID(),
    connectorId: connector.id,
    csObjectId: cso.id,
    operation: 'update',
    changes: { mail: { op: 'replace', values: ['lukasz@example.com'] } },
    status: 'pending',
    attempts: 2,
    // Past 2038, where a MySQL TIMESTAMP column would end.
    nextAttemptAt: new Date('2038-02-01T00:00:00.000Z'),
    lastError: 'LDAP 51: busy',
    runId: null,
    seq: 3,
    lastAttemptAt: updatedAt,
    thresholdRunId: null,
    confirmation: 'not-confirmed',
    createdAt,
    updatedAt,
  };

  const lease: ConnectorLeaseEntity = {
    connectorId: connector.id,
    engineInstanceId: randomUUID(),
    // Beyond 32 bits, so a narrowed column would fail.
    fencingToken: 5_000_000_000 + Math.floor(Math.random() * 1_000_000),
    acquiredAt: createdAt,
    expiresAt: updatedAt,
  };

  return { connector, meshObject, cso, exportItem, lease };
}

/**
 * Inserts shallow copies: TypeORM's insert() writes database defaults back into the
 * object it was given (on MySQL/MariaDB unconverted, e.g. a boolean as 0), and
 * the originals must stay the expected values.
 */
async function insertRows(dataSource: DataSource, rows: ReturnType<typeof sampleRows>): Promise<void> {
  const manager = dataSource.manager;
  await manager.insert(ConnectorEntity, { ...rows.connector });
  await manager.insert(MeshObjectEntity, { ...rows.meshObject });
  await manager.insert(ConnectorSpaceObjectEntity, { ...rows.cso });
  await manager.insert(ExportQueueItemEntity, { ...rows.exportItem });
  await manager.insert(ConnectorLeaseEntity, { ...rows.lease });
}

describe.each(TEST_DIALECTS)('column round trip on %s', (dialect) => {
  const db = useMigratedDatabase(dialect);

  it('reads back dates, JSON, booleans, bigints and Unicode exactly as written', async () => {
    const rows = sampleRows();
    await insertRows(db.dataSource, rows);
    const manager = db.dataSource.manager;

    expect(await manager.findOneByOrFail(ConnectorEntity, { id: rows.connector.id })).toEqual(rows.connector);
    expect(await manager.findOneByOrFail(MeshObjectEntity, { id: rows.meshObject.id })).toEqual(rows.meshObject);
    expect(await manager.findOneByOrFail(ConnectorSpaceObjectEntity, { id: rows.cso.id })).toEqual(rows.cso);
    expect(await manager.findOneByOrFail(ExportQueueItemEntity, { id: rows.exportItem.id })).toEqual(rows.exportItem);
    expect(await manager.findOneByOrFail(ConnectorLeaseEntity, { connectorId: rows.connector.id })).toEqual(rows.lease);
    expect(await manager.findOneByOrFail(ConnectorLeaseEntity, { fencingToken: rows.lease.fencingToken })).toEqual(
      rows.lease,
    );
  });

  it('fills the database defaults of a row written with only the required columns', async () => {
    const { connector } = sampleRows();
    await db.dataSource.manager.insert(ConnectorEntity, { ...connector });
    const run = {
      id: randomUUID(),
      connectorId: connector.id,
      profile: 'delta-import' as const,
      status: 'queued' as const,
      trigger: 'manual' as const,
      queuedAt: connector.createdAt,
    };
    await db.dataSource.manager.insert(RunEntity, { ...run });

    expect(await db.dataSource.manager.findOneByOrFail(RunEntity, { id: run.id })).toEqual({
      ...run,
      preview: false,
      requestedBy: null,
      engineInstanceId: null,
      fencingToken: null,
      added: 0,
      updated: 0,
      deleted: 0,
      joined: 0,
      projected: 0,
      exported: 0,
      errors: 0,
      heldDeletes: 0,
      recoveries: 0,
      deletesApprovedBy: null,
      deletesApprovedAt: null,
      message: null,
      startedAt: null,
      finishedAt: null,
      chainId: null,
      chainStep: null,
      chainProfiles: null,
      chainState: null,
    });
  });

  it('enforces the foreign keys: SET NULL from mesh objects, CASCADE from connectors', async () => {
    const rows = sampleRows();
    await insertRows(db.dataSource, rows);
    const manager = db.dataSource.manager;

    await manager.delete(MeshObjectEntity, { id: rows.meshObject.id });
    expect((await manager.findOneByOrFail(ConnectorSpaceObjectEntity, { id: rows.cso.id })).meshObjectId).toBeNull();

    await manager.delete(ConnectorEntity, { id: rows.connector.id });
    expect(await manager.countBy(ConnectorSpaceObjectEntity, { connectorId: rows.connector.id })).toBe(0);
    expect(await manager.countBy(ExportQueueItemEntity, { csObjectId: rows.cso.id })).toBe(0);
    expect(await manager.countBy(ConnectorLeaseEntity, { connectorId: rows.connector.id })).toBe(0);
  });
});
