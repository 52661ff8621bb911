import { z } from 'zod';
import { ConnectorError } from './connector';
import { ConfigWording, validateConnectorConfig } from './config-validation';

const schema = z.strictObject({
  host: z.string().min(1),
  passwordSecret: z.string().optional(),
  items: z.array(z.strictObject({ name: z.string() })).default([]),
});
const wording: ConfigWording = { connector: 'demo', passwordSecretSetting: 'passwordSecret' };

/** The config's validation, to run inside `expect(…).toThrow`. */
const validating =
  (raw: unknown, options: ConfigWording = wording) =>
  () =>
    validateConnectorConfig(schema, raw, options);

describe('validateConnectorConfig', () => {
  it('returns the parsed config with its defaults', () => {
    expect(validateConnectorConfig(schema, { host: 'db' }, wording)).toEqual({ host: 'db', items: [] });
  });

  it('names every bad field by its path, under the connector type and code', () => {
    const run = validating({ host: '', items: [{ name: 'a' }, { name: 7 }] });
    expect(run).toThrow(expect.objectContaining({ name: 'ConnectorError', code: 'CONNECTOR_CONFIG_INVALID' }));
    expect(run).toThrow(/^demo connector config: host: .+; items\[1\]\.name: .+$/);
  });

  it('points a plain password at its secret setting without echoing it, at any depth by default', () => {
    expect(validating({ host: 'db', password: 'Tr0ub4dor&3', items: [{ name: 'a', dbPassword: 'x' }], port: 5432 })).toThrow(
      new ConnectorError(
        'CONNECTOR_CONFIG_INVALID',
        'demo connector config: items[0].dbPassword: plain passwords are not accepted; store it with secretscli and name it in passwordSecret; ' +
          'password: plain passwords are not accepted; store it with secretscli and name it in passwordSecret; port: is not a setting of the demo connector',
      ),
    );
  });

  it('takes only a top-level key for the password when told so', () => {
    expect(validating({ host: 'db', items: [{ name: 'a', userPassword: 'x' }] }, { ...wording, passwordAtTopOnly: true })).toThrow(
      'demo connector config: items[0].userPassword: is not a setting of the demo connector',
    );
  });
});
