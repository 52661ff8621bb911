import type { ConnectorContext } from '../connector';
import { ConnectorError } from '../connector';
import { sqlConnectorFactory } from './sql-connector';

/*
 * What the connector decides from its config alone, without a database:
 * capabilities, schema, refusals. Reading and writing is in
 * sql-connector.integration-spec.ts.
 */

const context = (resolve: (reference: string) => Promise<string>): ConnectorContext => ({
  connectorId: 'sql-unit',
  secrets: { resolve },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
});

const person = {
  name: 'person',
  table: 'hr.people',
  anchor: { column: 'employee_id', attribute: 'employeeId', type: 'integer' },
  dnColumn: 'display_name',
  attributes: [
    { column: 'surname', attribute: 'sn', required: true },
    { column: 'groups_list', attribute: 'groups', multiValued: true },
    { column: 'manager_id', attribute: 'manager', type: 'reference' },
    { column: 'updated_at', attribute: 'updatedAt', type: 'datetime' },
  ],
  watermark: { column: 'updated_at' },
  softDelete: { column: 'is_deleted', type: 'boolean' },
};

function connectorFor(objectTypes: unknown[], resolve: (reference: string) => Promise<string> = async () => 'pw') {
  return sqlConnectorFactory.create(
    sqlConnectorFactory.validate({ dialect: 'postgres', connection: { host: 'db.invalid', database: 'hr', passwordSecret: 'sql/hr' }, objectTypes }),
    context(resolve),
  );
}

describe('SqlConnector without a database', () => {
  it('has native deltas only when every object type has a watermark and a soft-delete column', () => {
    expect(connectorFor([person]).capabilities()).toEqual({ deltaImport: 'native', export: true, rename: true, assignsAnchorOnAdd: false });
    expect(connectorFor([person, { ...person, name: 'other', softDelete: undefined }]).capabilities().deltaImport).toBe('snapshot');
    expect(connectorFor([{ ...person, dnColumn: undefined }]).capabilities().rename).toBe(false);
    expect(connectorFor([{ ...person, table: undefined, view: 'hr.people_view' }]).capabilities()).toMatchObject({ export: false, rename: false });
  });

  it('describes the anchor, types, multi-valued and reference attributes, and what exports cannot write', async () => {
    expect(await connectorFor([person]).schema()).toEqual({
      objectTypes: [
        {
          name: 'person',
          anchorAttribute: 'employeeId',
          attributes: [
            { name: 'employeeId', type: 'integer', required: true },
            { name: 'sn', type: 'string', required: true },
            { name: 'groups', type: 'string', multiValued: true },
            { name: 'manager', type: 'reference', referenceBy: 'anchor' },
            { name: 'updatedAt', type: 'datetime', readOnly: true },
          ],
        },
      ],
    });
    const view = await connectorFor([{ ...person, table: undefined, view: 'hr.people_view' }]).schema();
    expect(view.objectTypes[0].attributes.every((attribute) => attribute.readOnly)).toBe(true);
  });

  it('refuses an import of an object type it does not have, before connecting', async () => {
    const connector = connectorFor([person]);
    const iterator = connector.import({ mode: 'full', objectTypes: ['group'] })[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'CONNECTOR_CONFIG_INVALID', message: 'object type group is not configured for this connector' });
    await connector.close();
  });

  it('fails exports to unknown types and views per change, without connecting', async () => {
    const connector = connectorFor([{ ...person, table: undefined, view: 'hr.people_view' }]);
    expect(
      await connector.export([
        { id: '1', kind: 'delete', objectType: 'person', anchor: '1' },
        { id: '2', kind: 'delete', objectType: 'group', anchor: '1' },
      ]),
    ).toEqual([
      { id: '1', outcome: 'failed', error: { code: 'OBJECT_REJECTED', message: 'object type person is read from a view; exports need a table', retryable: false } },
      { id: '2', outcome: 'failed', error: { code: 'OBJECT_REJECTED', message: 'object type group is not configured for this connector', retryable: false } },
    ]);
  });

  it('reports a secret it cannot resolve by its reference, never repeating the resolver', async () => {
    const connector = connectorFor([person], async () => Promise.reject(new Error('vault said: the value was hunter2')));
    const result = await connector.testConnection();
    expect(result).toEqual({ ok: false, detail: 'CONNECTOR_AUTH_FAILED: the secret sql/hr named in connection.passwordSecret could not be resolved' });
    const error = await connector.export([{ id: '1', kind: 'delete', objectType: 'person', anchor: '1' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).message).not.toContain('hunter2');
    await connector.close();
  });

  it('validates through the factory', () => {
    expect(sqlConnectorFactory.type).toBe('sql');
    expect(() => sqlConnectorFactory.validate({ dialect: 'sqlite', connection: { file: 'x' }, objectTypes: [{ ...person, table: 'x;y' }] })).toThrow(ConnectorError);
  });
});
