import { createServer } from 'node:net';
import { Connector, ConnectorContext, sqlConnectorFactory, SqlConnectorRawConfig } from '@identitymesh/connector-sdk';
import type { ConformanceHarness, ConformanceObject } from '../../lib/conformance-harness';
import { describeConnectorConformance } from '../../lib/describe-connector-conformance';
import { SqlSystemOptions, SqlTableDriver } from './support/sql-table-driver';

/*
 * The SQL connector against real SQLite, PostgreSQL and MariaDB: every case
 * gets a new database holding an empty `people` table. PostgreSQL's configs
 * name a password secret (trust authentication accepts it), so resolution
 * is part of every case there. SQL Server cannot run on these machines; its
 * dialect is covered by the connector's unit tests only.
 */

const SECRET_REF = 'sql/conformance/password';

const context: ConnectorContext = {
  connectorId: 'conformance-sql',
  secrets: { resolve: async (reference) => (reference === SECRET_REF ? 'conformance-password' : Promise.reject(new Error(`no secret ${reference}`))) },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
};

function rawConfig(options: SqlSystemOptions, connection: Record<string, unknown>): SqlConnectorRawConfig {
  return {
    dialect: options.dialect,
    connection: options.dialect === 'postgres' ? { ...connection, passwordSecret: SECRET_REF } : connection,
    objectTypes: [
      {
        name: 'person',
        ...(options.view ? { view: 'people_view' } : { table: 'people' }),
        anchor: { column: 'employee_id', attribute: 'employeeId' },
        dnColumn: 'display_name',
        attributes: [
          { column: 'given_name', attribute: 'givenName' },
          // Not required here: the server's NOT NULL refuses the rejected sample, inside a set-based batch.
          { column: 'surname', attribute: 'sn' },
          { column: 'mail' },
          { column: 'groups_list', attribute: 'groups', multiValued: true },
          { column: 'manager_id', attribute: 'manager', type: 'reference' },
          { column: 'grade', type: 'integer' },
          { column: 'active', type: 'boolean' },
          { column: 'hired_at', attribute: 'hiredAt', type: 'datetime' },
        ],
        watermark: { column: 'updated_at', type: 'timestamp' },
        ...(options.softDelete ? { softDelete: { column: 'deleted_at', type: 'timestamp' } } : {}),
      },
    ],
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function sqlHarness(options: SqlSystemOptions): ConformanceHarness {
  let driver: SqlTableDriver | undefined;
  const current = () => {
    if (!driver) throw new Error('setUp has not run');
    return driver;
  };
  const connectorFor = (connection: Record<string, unknown>): Connector => sqlConnectorFactory.create(sqlConnectorFactory.validate(rawConfig(options, connection)), context);

  const person = (n: number): ConformanceObject => {
    const id = `E${String(n).padStart(5, '0')}`;
    return {
      anchor: id,
      dn: `Person ${n}`,
      attributes: {
        employeeId: [id],
        // Quotes, the list separator in a single-valued column, text beyond ASCII.
        givenName: [n % 2 === 0 ? `Zoë ${n}` : `Jean-Luc "JL" ${n}`],
        sn: [`O'Brien; Ångström ${n}`],
        mail: [`user${n}@corp.example`],
        groups: n % 3 === 0 ? [] : ['Staff', `Team ${n % 4}`],
        manager: n === 0 ? [] : ['E00000'],
        grade: [n % 10],
        active: [n % 2 === 0],
        hiredAt: [new Date(Date.UTC(2020, 0, 1 + n, 8, 30, 0, 250)).toISOString()],
      },
    };
  };

  const exporting = !options.view;
  return {
    objectType: 'person',
    capabilities: { deltaImport: options.softDelete ? 'native' : 'snapshot', export: exporting, rename: exporting, assignsAnchorOnAdd: false },
    batchSize: 5,
    timeoutMs: 60_000,
    async setUp() {
      driver = await SqlTableDriver.create(options);
      const connection = driver.connection;
      const connect = () => connectorFor(connection);
      return { connector: connect(), driver, reconnect: connect };
    },
    async tearDown() {
      await driver?.drop();
      driver = undefined;
    },
    async brokenConnector() {
      if (options.dialect === 'sqlite') return connectorFor({ file: `${String(current().connection['file'])}.missing` });
      return connectorFor({ host: '127.0.0.1', port: await closedPort(), database: 'people', user: 'sync', connectTimeoutMs: 2_000 });
    },
    factory: sqlConnectorFactory,
    invalidConfigs: [
      {},
      { dialect: 'oracle', connection: { host: 'db' }, objectTypes: [] },
      // A name that would be SQL if it were pasted into a statement.
      { dialect: 'sqlite', connection: { file: 'people.sqlite' }, objectTypes: [{ name: 'person', table: 'people; DROP TABLE people', anchor: { column: 'employee_id' } }] },
      { dialect: 'sqlite', connection: { file: 'people.sqlite' }, objectTypes: [{ name: 'person', table: 'people', anchor: { column: 'employee_id"--' } }] },
      // Passwords belong in the secret store, not in the config.
      { dialect: 'postgres', connection: { url: 'postgres://sync:hunter2@db/hr' }, objectTypes: [{ name: 'person', table: 'people', anchor: { column: 'id' } }] },
      { dialect: 'mariadb', connection: { host: 'db', database: 'hr', password: 'hunter2' }, objectTypes: [{ name: 'person', table: 'people', anchor: { column: 'id' } }] },
      { dialect: 'postgres', connection: { host: 'db', database: 'hr' }, objectTypes: [{ name: 'person', table: 'people', anchor: { column: 'id' }, watermark: { column: 'rv', type: 'rowversion' } }] },
    ],
    samples: {
      valid: person,
      rejected: { anchor: 'E-NO-SURNAME', dn: 'No surname', attributes: { employeeId: ['E-NO-SURNAME'], givenName: ['Nobody'] } },
      update: { givenName: ['Changed'], sn: ['Øster, Updated'], groups: ['Alumni'], grade: [42] },
      renamedDn: (object) => `${object.dn} (renamed)`,
    },
    async injectMalformed() {
      await current().injectMalformed();
    },
  };
}

for (const dialect of ['sqlite', 'postgres', 'mariadb'] as const) {
  describeConnectorConformance(`sql (${dialect} table, soft deletes)`, sqlHarness({ dialect, softDelete: true, view: false }));
}
// Without a soft-delete column deltas are snapshots; an import-only view over the table.
describeConnectorConformance('sql (sqlite table, hard deletes)', sqlHarness({ dialect: 'sqlite', softDelete: false, view: false }));
describeConnectorConformance('sql (postgres view)', sqlHarness({ dialect: 'postgres', softDelete: true, view: true }));
