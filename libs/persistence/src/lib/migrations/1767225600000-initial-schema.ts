import { Table, TableForeignKey, TableIndex, TableUnique } from 'typeorm';
import type { ColumnType, Driver, MigrationInterface, QueryRunner, TableColumnOptions } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/**
 * The whole sync model. Written with TypeORM's Table API and driver-mapped
 * types (never raw SQL or a dialect's own type names) so the same migration
 * runs on SQLite, PostgreSQL, MySQL/MariaDB and SQL Server. Column types,
 * lengths, defaults and constraint names mirror the entities exactly; the
 * schema-drift integration test proves it on every dialect it can reach.
 *
 * Deliberately self-contained (no imports from the entities): a migration is
 * a snapshot and must not change when the entities move on.
 */
export class InitialSchema1767225600000 implements MigrationInterface {
  name = 'InitialSchema1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new ColumnFactory(queryRunner.connection.driver);
    const create = (table: Table) => queryRunner.createTable(table, false, true, true);

    await create(
      new Table({
        name: 'IM_Connectors',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_Connectors' }),
          c.string('name', 128),
          c.string('type', 32),
          c.string('description', 1024, { isNullable: true }),
          c.json('config'),
          c.json('objectTypes'),
          c.json('schedule', { isNullable: true }),
          c.string('relayGroup', 128, { isNullable: true }),
          c.integer('batchSize', { default: 500 }),
          c.integer('deletionThresholdCount', { default: 500 }),
          c.integer('deletionThresholdPercent', { default: 10 }),
          c.integer('errorThreshold', { isNullable: true }),
          c.integer('exportMaxAttempts', { default: 5 }),
          c.boolean('enabled', true),
          c.integer('rulesVersion', { default: 1 }),
          c.timestamp('createdAt'),
          c.timestamp('updatedAt'),
        ],
        uniques: [new TableUnique({ name: 'UQ_IM_Connectors_name', columnNames: ['name'] })],
      }),
    );

    await create(
      new Table({
        name: 'IM_MeshObjects',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_MeshObjects' }),
          c.string('objectType', 64),
          c.string('displayName', 255, { isNullable: true }),
          c.json('attributes'),
          c.string('hash', 64),
          c.integer('version', { default: 1 }),
          c.timestamp('createdAt'),
          c.timestamp('updatedAt'),
        ],
        indices: [index('IM_MeshObjects', ['objectType'])],
      }),
    );

    await create(
      new Table({
        name: 'IM_ConnectorSpaceObjects',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_ConnectorSpaceObjects' }),
          c.id('connectorId'),
          c.string('objectType', 64),
          c.string('anchor', 255),
          c.string('distinguishedName', 1024, { isNullable: true }),
          c.string('dnHash', 64, { isNullable: true }),
          c.json('attributes'),
          c.string('attributeHash', 64),
          c.id('meshObjectId', { isNullable: true }),
          c.boolean('isDisconnector', false),
          c.string('pendingImport', 16, { default: "'none'" }),
          c.json('pendingImportDelta', { isNullable: true }),
          c.string('pendingExport', 16, { isNullable: true }),
          c.id('lastRunId', { isNullable: true }),
          c.timestamp('createdAt'),
          c.timestamp('updatedAt'),
          c.integer('version', { default: 1 }),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_IM_ConnectorSpaceObjects_connectorId_objectType_anchor',
            columnNames: ['connectorId', 'objectType', 'anchor'],
          }),
        ],
        indices: [
          index('IM_ConnectorSpaceObjects', ['connectorId', 'pendingImport']),
          index('IM_ConnectorSpaceObjects', ['connectorId', 'dnHash']),
          index('IM_ConnectorSpaceObjects', ['meshObjectId']),
        ],
        foreignKeys: [
          foreignKey('IM_ConnectorSpaceObjects', 'connectorId', 'IM_Connectors', 'CASCADE'),
          foreignKey('IM_ConnectorSpaceObjects', 'meshObjectId', 'IM_MeshObjects', 'SET NULL'),
        ],
      }),
    );

    await create(
      new Table({
        name: 'IM_CsReferences',
        columns: [
          c.id('csObjectId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_CsReferences' }),
          c.string('attributeName', 128, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_CsReferences' }),
          c.string('targetKey', 255, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_CsReferences' }),
          c.id('targetCsObjectId', { isNullable: true }),
        ],
        indices: [index('IM_CsReferences', ['targetCsObjectId'])],
        foreignKeys: [foreignKey('IM_CsReferences', 'csObjectId', 'IM_ConnectorSpaceObjects', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_MeshJoinKeys',
        columns: [
          c.id('meshObjectId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_MeshJoinKeys' }),
          c.string('objectType', 64),
          c.string('attributeName', 128, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_MeshJoinKeys' }),
          c.string('value', 255, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_MeshJoinKeys' }),
        ],
        indices: [index('IM_MeshJoinKeys', ['objectType', 'attributeName', 'value'])],
        foreignKeys: [foreignKey('IM_MeshJoinKeys', 'meshObjectId', 'IM_MeshObjects', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_MeshReferences',
        columns: [
          c.id('meshObjectId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_MeshReferences' }),
          c.string('attributeName', 128, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_MeshReferences' }),
          c.id('targetMeshObjectId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_MeshReferences' }),
          c.id('connectorId'),
        ],
        indices: [index('IM_MeshReferences', ['targetMeshObjectId'])],
        foreignKeys: [foreignKey('IM_MeshReferences', 'meshObjectId', 'IM_MeshObjects', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_SyncRules',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_SyncRules' }),
          c.id('connectorId', { isNullable: true }),
          c.string('kind', 32),
          c.string('objectType', 64),
          c.string('name', 255),
          c.integer('ordinal'),
          c.json('definition'),
          c.boolean('enabled', true),
          c.integer('version', { default: 1 }),
          c.timestamp('createdAt'),
          c.timestamp('updatedAt'),
        ],
        indices: [index('IM_SyncRules', ['connectorId', 'kind', 'ordinal'])],
        foreignKeys: [foreignKey('IM_SyncRules', 'connectorId', 'IM_Connectors', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_AttributePrecedence',
        columns: [
          c.string('objectType', 64, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_AttributePrecedence' }),
          c.string('attributeName', 128, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_AttributePrecedence' }),
          c.id('connectorId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_AttributePrecedence' }),
          c.integer('rank'),
        ],
        indices: [index('IM_AttributePrecedence', ['connectorId'])],
        foreignKeys: [foreignKey('IM_AttributePrecedence', 'connectorId', 'IM_Connectors', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_UniqueValueReservations',
        columns: [
          c.string('scope', 128, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_UniqueValueReservations' }),
          c.string('value', 255, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_UniqueValueReservations' }),
          c.id('meshObjectId'),
          c.id('ruleId', { isNullable: true }),
          c.timestamp('reservedAt'),
        ],
        indices: [index('IM_UniqueValueReservations', ['meshObjectId'])],
        foreignKeys: [foreignKey('IM_UniqueValueReservations', 'meshObjectId', 'IM_MeshObjects', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_Runs',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_Runs' }),
          c.id('connectorId'),
          c.string('profile', 32),
          c.string('status', 32),
          c.string('trigger', 16),
          c.boolean('preview', false),
          c.string('requestedBy', 255, { isNullable: true }),
          c.id('engineInstanceId', { isNullable: true }),
          c.bigint('fencingToken', { isNullable: true }),
          ...['added', 'updated', 'deleted', 'joined', 'projected', 'exported', 'errors', 'heldDeletes'].map((name) =>
            c.integer(name, { default: 0 }),
          ),
          c.string('deletesApprovedBy', 255, { isNullable: true }),
          c.timestamp('deletesApprovedAt', { isNullable: true }),
          c.string('message', 2000, { isNullable: true }),
          c.timestamp('queuedAt'),
          c.timestamp('startedAt', { isNullable: true }),
          c.timestamp('finishedAt', { isNullable: true }),
        ],
        indices: [index('IM_Runs', ['status', 'queuedAt']), index('IM_Runs', ['connectorId', 'queuedAt'])],
        foreignKeys: [foreignKey('IM_Runs', 'connectorId', 'IM_Connectors', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_RunObjectErrors',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_RunObjectErrors' }),
          c.id('runId'),
          c.id('csObjectId', { isNullable: true }),
          c.string('anchor', 255, { isNullable: true }),
          c.string('code', 64),
          c.string('message', 2000),
          c.json('detail', { isNullable: true }),
          c.timestamp('createdAt'),
        ],
        indices: [index('IM_RunObjectErrors', ['runId'])],
        foreignKeys: [foreignKey('IM_RunObjectErrors', 'runId', 'IM_Runs', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_RunChanges',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_RunChanges' }),
          c.id('runId'),
          c.integer('seq'),
          c.string('objectRef', 255),
          c.string('targetKind', 16),
          c.string('changeType', 16),
          c.json('attributes'),
        ],
        indices: [index('IM_RunChanges', ['runId', 'seq'])],
        foreignKeys: [foreignKey('IM_RunChanges', 'runId', 'IM_Runs', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_Watermarks',
        columns: [
          c.id('connectorId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_Watermarks' }),
          c.string('objectType', 64, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_Watermarks' }),
          c.text('value'),
          c.id('runId', { isNullable: true }),
          c.timestamp('updatedAt'),
        ],
        foreignKeys: [foreignKey('IM_Watermarks', 'connectorId', 'IM_Connectors', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_ExportQueue',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_ExportQueue' }),
          c.id('connectorId'),
          c.id('csObjectId'),
          c.string('operation', 16),
          c.json('changes'),
          c.string('status', 32),
          c.integer('attempts', { default: 0 }),
          c.timestamp('nextAttemptAt', { isNullable: true }),
          c.string('lastError', 2000, { isNullable: true }),
          c.id('runId', { isNullable: true }),
          c.timestamp('createdAt'),
          c.timestamp('updatedAt'),
        ],
        indices: [
          index('IM_ExportQueue', ['connectorId', 'status', 'nextAttemptAt']),
          index('IM_ExportQueue', ['csObjectId']),
        ],
        foreignKeys: [foreignKey('IM_ExportQueue', 'csObjectId', 'IM_ConnectorSpaceObjects', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_RelayWorkItems',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayWorkItems' }),
          c.string('relayGroup', 128),
          c.id('connectorId', { isNullable: true }),
          c.string('kind', 32),
          c.json('payload'),
          c.string('status', 16),
          c.id('relayId', { isNullable: true }),
          c.integer('attempts', { default: 0 }),
          c.timestamp('deadlineAt'),
          c.json('result', { isNullable: true }),
          c.timestamp('resultAppliedAt', { isNullable: true }),
          c.timestamp('createdAt'),
          c.timestamp('updatedAt'),
        ],
        indices: [
          index('IM_RelayWorkItems', ['relayGroup', 'status', 'createdAt']),
          index('IM_RelayWorkItems', ['connectorId']),
        ],
        foreignKeys: [foreignKey('IM_RelayWorkItems', 'connectorId', 'IM_Connectors', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_RelayResultBatches',
        columns: [
          c.id('workItemId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayResultBatches' }),
          c.integer('batchSeq', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayResultBatches' }),
          c.timestamp('appliedAt'),
        ],
        foreignKeys: [foreignKey('IM_RelayResultBatches', 'workItemId', 'IM_RelayWorkItems', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_AuditEvents',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_AuditEvents' }),
          c.timestamp('at'),
          c.string('actorType', 16),
          c.string('actor', 255),
          c.string('action', 128),
          c.string('targetType', 64),
          c.string('targetId', 255, { isNullable: true }),
          c.id('runId', { isNullable: true }),
          c.id('ruleId', { isNullable: true }),
          c.json('before', { isNullable: true }),
          c.json('after', { isNullable: true }),
          c.string('correlationId', 64, { isNullable: true }),
        ],
        indices: [
          index('IM_AuditEvents', ['at', 'id']),
          index('IM_AuditEvents', ['actor', 'at']),
          index('IM_AuditEvents', ['targetType', 'targetId', 'at']),
        ],
      }),
    );

    await create(
      new Table({
        name: 'IM_EngineInstances',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_EngineInstances' }),
          c.string('host', 255),
          c.integer('pid'),
          c.string('version', 64),
          c.string('mode', 16),
          c.string('status', 16),
          c.timestamp('startedAt'),
          c.timestamp('heartbeatAt'),
          c.timestamp('stoppedAt', { isNullable: true }),
        ],
        indices: [index('IM_EngineInstances', ['status', 'heartbeatAt'])],
      }),
    );

    await create(
      new Table({
        name: 'IM_ConnectorLeases',
        columns: [
          c.id('connectorId', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_ConnectorLeases' }),
          c.id('engineInstanceId'),
          c.bigint('fencingToken'),
          c.timestamp('acquiredAt'),
          c.timestamp('expiresAt'),
        ],
        foreignKeys: [foreignKey('IM_ConnectorLeases', 'connectorId', 'IM_Connectors', 'CASCADE')],
      }),
    );

    await create(
      new Table({
        name: 'IM_Relays',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_Relays' }),
          c.string('name', 128),
          c.string('relayGroup', 128),
          c.string('host', 255, { isNullable: true }),
          c.string('version', 64, { isNullable: true }),
          c.string('credentialHash', 255),
          c.string('status', 16),
          c.timestamp('enrolledAt'),
          c.timestamp('revokedAt', { isNullable: true }),
          c.timestamp('lastSeenAt', { isNullable: true }),
        ],
        uniques: [new TableUnique({ name: 'UQ_IM_Relays_name', columnNames: ['name'] })],
        indices: [index('IM_Relays', ['relayGroup'])],
      }),
    );

    await create(
      new Table({
        name: 'IM_RelayEnrollments',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_RelayEnrollments' }),
          c.string('tokenHash', 128),
          c.string('relayGroup', 128),
          c.timestamp('expiresAt'),
          c.timestamp('usedAt', { isNullable: true }),
          c.id('relayId', { isNullable: true }),
          c.string('createdBy', 255),
          c.timestamp('createdAt'),
        ],
        uniques: [new TableUnique({ name: 'UQ_IM_RelayEnrollments_tokenHash', columnNames: ['tokenHash'] })],
        indices: [index('IM_RelayEnrollments', ['relayId'])],
        foreignKeys: [foreignKey('IM_RelayEnrollments', 'relayId', 'IM_Relays', 'SET NULL')],
      }),
    );

    await create(
      new Table({
        name: 'IM_Secrets',
        columns: [
          c.string('reference', 255, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_Secrets' }),
          c.string('provider', 32),
          c.text('ciphertext'),
          c.string('keyId', 128),
          c.integer('version', { default: 1 }),
          c.timestamp('createdAt'),
          c.timestamp('rotatedAt', { isNullable: true }),
        ],
      }),
    );

    await create(
      new Table({
        name: 'IM_ApiKeys',
        columns: [
          c.id('id', { isPrimary: true, primaryKeyConstraintName: 'PK_IM_ApiKeys' }),
          c.string('name', 128),
          c.string('prefix', 32),
          c.string('secretHash', 255),
          c.json('permissions'),
          c.string('createdBy', 255),
          c.timestamp('createdAt'),
          c.timestamp('expiresAt', { isNullable: true }),
          c.timestamp('revokedAt', { isNullable: true }),
          c.timestamp('lastUsedAt', { isNullable: true }),
        ],
        uniques: [new TableUnique({ name: 'UQ_IM_ApiKeys_prefix', columnNames: ['prefix'] })],
      }),
    );

    await create(
      new Table({
        name: 'IM_KeyRingKeys',
        columns: [
          c.string('id', 64, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_KeyRingKeys' }),
          c.string('purpose', 32),
          c.text('material'),
          c.string('algorithm', 32),
          c.timestamp('createdAt'),
          c.timestamp('activatesAt'),
          c.timestamp('expiresAt'),
          c.timestamp('revokedAt', { isNullable: true }),
        ],
        indices: [index('IM_KeyRingKeys', ['purpose', 'activatesAt'])],
      }),
    );

    await create(
      new Table({
        name: 'IM_LicenseState',
        columns: [
          c.string('host', 255, { isPrimary: true, primaryKeyConstraintName: 'PK_IM_LicenseState' }),
          c.string('licenseId', 128),
          c.string('customer', 255),
          c.timestamp('issuedAt'),
          c.timestamp('expiresAt'),
          c.json('limits'),
          c.string('fingerprint', 128),
          c.string('status', 32),
          c.timestamp('checkedAt'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Children before parents, so no foreign key ever points at a dropped table.
    for (const table of [...TABLES_IN_CREATION_ORDER].reverse()) {
      await queryRunner.dropTable(table, false, true, true);
    }
  }
}

const TABLES_IN_CREATION_ORDER = [
  'IM_Connectors',
  'IM_MeshObjects',
  'IM_ConnectorSpaceObjects',
  'IM_CsReferences',
  'IM_MeshJoinKeys',
  'IM_MeshReferences',
  'IM_SyncRules',
  'IM_AttributePrecedence',
  'IM_UniqueValueReservations',
  'IM_Runs',
  'IM_RunObjectErrors',
  'IM_RunChanges',
  'IM_Watermarks',
  'IM_ExportQueue',
  'IM_RelayWorkItems',
  'IM_RelayResultBatches',
  'IM_AuditEvents',
  'IM_EngineInstances',
  'IM_ConnectorLeases',
  'IM_Relays',
  'IM_RelayEnrollments',
  'IM_Secrets',
  'IM_ApiKeys',
  'IM_KeyRingKeys',
  'IM_LicenseState',
];

type Extra = Partial<TableColumnOptions>;

/**
 * Builds column definitions from the portable types the entities use
 * (String, Date, Boolean, 'integer', 'bigint', 'text', 'simple-json'), letting
 * the connected driver name them exactly as it names the entity columns.
 */
class ColumnFactory {
  constructor(private readonly driver: Driver) {}

  id(name: string, extra: Extra = {}): TableColumnOptions {
    return this.string(name, 36, extra);
  }

  string(name: string, length: number, extra: Extra = {}): TableColumnOptions {
    return { name, type: this.type(String), length: String(length), ...extra };
  }

  timestamp(name: string, extra: Extra = {}): TableColumnOptions {
    return { name, type: this.type(Date), ...extra };
  }

  boolean(name: string, defaultValue: boolean): TableColumnOptions {
    return { name, type: this.type(Boolean), default: this.defaultLiteral(Boolean, defaultValue) };
  }

  integer(name: string, extra: Extra = {}): TableColumnOptions {
    return { name, type: this.type('integer'), ...extra };
  }

  bigint(name: string, extra: Extra = {}): TableColumnOptions {
    return { name, type: this.type('bigint'), ...extra };
  }

  text(name: string, extra: Extra = {}): TableColumnOptions {
    return { name, type: this.type('text'), ...extra };
  }

  json(name: string, extra: Extra = {}): TableColumnOptions {
    return { name, type: this.type('simple-json'), ...extra };
  }

  private type(type: ColumnType): string {
    return this.driver.normalizeType({ type });
  }

  /** A boolean default is `true` on PostgreSQL but `1` elsewhere; the driver knows which. */
  private defaultLiteral(type: ColumnType, value: unknown): string | undefined {
    return this.driver.normalizeDefault({ type, default: value } as unknown as ColumnMetadata);
  }
}

function index(table: string, columnNames: string[]): TableIndex {
  return new TableIndex({ name: `IX_${table}_${columnNames.join('_')}`, columnNames });
}

function foreignKey(
  table: string,
  column: string,
  referencedTableName: string,
  onDelete: 'CASCADE' | 'SET NULL',
): TableForeignKey {
  return new TableForeignKey({
    name: `FK_${table}_${column}`,
    columnNames: [column],
    referencedTableName,
    referencedColumnNames: ['id'],
    onDelete,
    onUpdate: 'NO ACTION',
  });
}
