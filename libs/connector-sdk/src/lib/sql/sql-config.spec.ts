import { ConnectorError } from '../connector';
import { parseSqlConnectorConfig } from './sql-config';

const person = { name: 'person', table: 'people', anchor: { column: 'employee_id' }, attributes: [{ column: 'surname', attribute: 'sn' }] };

function refusal(config: unknown): ConnectorError {
  try {
    parseSqlConnectorConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe('CONNECTOR_CONFIG_INVALID');
    return error as ConnectorError;
  }
  throw new Error('the config was accepted');
}

describe('parseSqlConnectorConfig', () => {
  it('fills in defaults for a PostgreSQL URL', () => {
    const config = parseSqlConnectorConfig({
      dialect: 'postgres',
      connection: { url: 'postgres://sync@db.corp.example/hr', passwordSecret: 'sql/hr/password' },
      objectTypes: [person],
    });
    expect(config.connection).toEqual({
      host: 'db.corp.example',
      port: 5432,
      database: 'hr',
      user: 'sync',
      passwordSecret: 'sql/hr/password',
      encrypt: false,
      trustServerCertificate: false,
      poolSize: 4,
      connectTimeoutMs: 15_000,
      queryTimeoutMs: 300_000,
    });
    expect(config.objectTypes).toEqual([
      {
        name: 'person',
        relation: ['people'],
        kind: 'table',
        anchor: { column: 'employee_id', attribute: 'employee_id', type: 'string' },
        attributes: [{ column: 'surname', attribute: 'sn', type: 'string', multiValued: false, separator: ';', required: false, readOnly: false }],
      },
    ]);
  });

  it('takes host settings, encrypting SQL Server connections by default', () => {
    const config = parseSqlConnectorConfig({
      dialect: 'mssql',
      connection: { host: 'sql01', database: 'hr', user: 'sync', passwordSecret: 'sql/hr', trustServerCertificate: true },
      objectTypes: [{ ...person, table: 'dbo.people', watermark: { column: 'rv', type: 'rowversion' } }],
    });
    expect(config.connection).toMatchObject({ host: 'sql01', port: 1433, encrypt: true, trustServerCertificate: true });
    expect(config.objectTypes[0]).toMatchObject({ relation: ['dbo', 'people'], watermark: { column: 'rv', type: 'rowversion' } });
  });

  it('makes the watermark and soft-delete columns read-only when they are also mapped', () => {
    const config = parseSqlConnectorConfig({
      dialect: 'sqlite',
      connection: { file: '/var/lib/hr.sqlite' },
      objectTypes: [
        {
          ...person,
          view: undefined,
          attributes: [{ column: 'updated_at', type: 'datetime' }, { column: 'deleted_at', type: 'datetime' }, { column: 'surname' }],
          watermark: { column: 'updated_at' },
          softDelete: { column: 'deleted_at' },
        },
      ],
    });
    expect(config.objectTypes[0].attributes.map((a) => [a.column, a.readOnly])).toEqual([
      ['updated_at', true],
      ['deleted_at', true],
      ['surname', false],
    ]);
    expect(config.objectTypes[0].softDelete).toEqual({ column: 'deleted_at', type: 'timestamp', onExport: 'soft' });
  });

  it.each([
    ['a table name with SQL in it', { objectTypes: [{ ...person, table: 'people; DROP TABLE people' }] }, 'objectTypes[0].table: must be a table or view name'],
    ['a column name with a quote', { objectTypes: [{ ...person, anchor: { column: 'id"--' } }] }, 'objectTypes[0].anchor.column: must be a plain column name'],
    ['a three-part name', { objectTypes: [{ ...person, table: 'db.hr.people' }] }, 'objectTypes[0].table'],
    ['both table and view', { objectTypes: [{ ...person, view: 'v' }] }, 'objectTypes[0].table: give either table or view'],
    ['a column mapped twice', { objectTypes: [{ ...person, attributes: [{ column: 'a' }, { column: 'a', attribute: 'b' }] }] }, 'objectTypes[0].attributes[1].column: is already mapped'],
    ['an attribute mapped twice', { objectTypes: [{ ...person, attributes: [{ column: 'a', attribute: 'x' }, { column: 'b', attribute: 'x' }] }] }, "maps attribute 'x' a second time"],
    ['dn on the anchor column', { objectTypes: [{ ...person, dnColumn: 'employee_id' }] }, 'objectTypes[0].dnColumn'],
    ['a multi-valued boolean', { objectTypes: [{ ...person, attributes: [{ column: 'a', type: 'boolean', multiValued: true }] }] }, 'multiValued'],
    ['a separator on a single value', { objectTypes: [{ ...person, attributes: [{ column: 'a', separator: ',' }] }] }, 'separator: is only for multiValued'],
    ['rowversion outside SQL Server', { objectTypes: [{ ...person, watermark: { column: 'rv', type: 'rowversion' } }] }, 'rowversion is SQL Server only'],
    ['two object types of one name', { objectTypes: [person, person] }, 'objectTypes[1].name: is used by another object type'],
    ['no object types', { objectTypes: [] }, 'objectTypes: needs at least one object type'],
    ['an unknown setting', { objectTypes: [{ ...person, filter: 'x' }] }, 'objectTypes[0].filter: is not a setting of the sql connector'],
  ])('refuses %s, naming the field', (_what, overrides, message) => {
    expect(refusal({ dialect: 'postgres', connection: { host: 'db', database: 'hr' }, ...overrides }).message).toContain(message);
  });

  it.each([
    ['sqlite without a file', 'sqlite', {}, 'connection.file: is required for sqlite'],
    ['sqlite with a host', 'sqlite', { file: 'x', host: 'db' }, 'connection.host: is not a setting for sqlite'],
    ['a file on a server dialect', 'postgres', { file: 'x', host: 'db', database: 'hr' }, 'connection.file: is only for sqlite'],
    ['neither url nor host', 'mariadb', { database: 'hr' }, 'connection.host: give either url or host'],
    ['host without database', 'mariadb', { host: 'db' }, 'connection.database: is required'],
    ['a URL of another scheme', 'postgres', { url: 'mysql://db/hr' }, 'connection.url: must start with postgres:// or postgresql://'],
    ['a URL without database', 'mssql', { url: 'mssql://db' }, 'connection.url: must name the database'],
    ['a URL with query parameters', 'postgres', { url: 'postgres://db/hr?sslmode=require' }, 'connection.url: must not have query parameters'],
    ['url and host together', 'postgres', { url: 'postgres://db/hr', host: 'db' }, 'connection.host: cannot be combined with url'],
  ])('refuses %s', (_what, dialect, connection, message) => {
    expect(refusal({ dialect, connection, objectTypes: [person] }).message).toContain(message);
  });

  it('refuses a password in the config and never repeats it', () => {
    const inUrl = refusal({ dialect: 'postgres', connection: { url: 'postgres://sync:Secret-Pa55@db/hr' }, objectTypes: [person] });
    expect(inUrl.message).toContain('connection.url: must not hold a password; store it with secretscli and name it in passwordSecret');
    const inField = refusal({ dialect: 'mariadb', connection: { host: 'db', database: 'hr', password: 'Secret-Pa55' }, objectTypes: [person] });
    expect(inField.message).toContain('connection.password: plain passwords are not accepted');
    const misplaced = refusal({ dialect: 'mariadb', connection: { host: 'db', database: 'hr', passwordSecret: 'Secret Pa55' }, objectTypes: [person] });
    expect(misplaced.message).toContain('connection.passwordSecret: must be a secret reference');
    for (const error of [inUrl, inField, misplaced]) expect(error.message).not.toMatch(/Secret.Pa55/);
  });

  it('refuses what is not an object', () => {
    expect(refusal(undefined).message).toContain('config');
    expect(refusal({ dialect: 'oracle' }).message).toContain('dialect');
  });
});
