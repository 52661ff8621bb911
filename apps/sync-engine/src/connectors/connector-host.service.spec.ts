import { ConnectorContext, ConnectorError, ConnectorFactory } from '@identitymesh/connector-sdk';
import { BUILT_IN_CONNECTOR_FACTORIES, ConnectorHost } from './connector-host.service';

describe('ConnectorHost', () => {
  const secrets = { resolve: async (reference: string) => `value of ${reference}` };

  it('knows the built-in connector types', () => {
    expect(new ConnectorHost(BUILT_IN_CONNECTOR_FACTORIES, secrets).types()).toEqual(['csv', 'ldap', 'sql']);
  });

  it('validates the config with the type’s factory and hands the connector a context that resolves secret references', async () => {
    let context: ConnectorContext | undefined;
    const factory: ConnectorFactory<{ password: { secretRef: string } }> = {
      type: 'scim',
      validate: (config) => {
        if (typeof config !== 'object' || config === null || !('password' in config)) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'password: is required');
        return config as { password: { secretRef: string } };
      },
      create: (_config, ctx) => {
        context = ctx;
        return {} as never;
      },
    };
    const host = new ConnectorHost([factory], secrets);
    host.create({ id: 'c-1', type: 'scim', config: { password: { secretRef: 'scim/token' } } }, { runId: 'r-1' });
    expect(context?.connectorId).toBe('c-1');
    expect(await context?.secrets.resolve('scim/token')).toBe('value of scim/token');
    expect(() => host.create({ id: 'c-1', type: 'scim', config: {} })).toThrow(new ConnectorError('CONNECTOR_CONFIG_INVALID', 'password: is required'));
  });

  it('refuses a type it does not run, naming those it does', () => {
    const host = new ConnectorHost(BUILT_IN_CONNECTOR_FACTORIES, secrets);
    expect(() => host.create({ id: 'c-1', type: 'scim', config: {} })).toThrow("connector type 'scim' is not one this engine runs (it runs: csv, ldap, sql)");
    expect(() => host.create({ id: 'c-1', type: 'csv', config: { path: '' } })).toThrow(expect.objectContaining({ code: 'CONNECTOR_CONFIG_INVALID' }));
  });
});
