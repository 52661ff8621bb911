/*
 * Transport security and binding against the real slapd: ldaps:// and
 * StartTLS with the test CA of tools/dev-services/services.sh, refusal
 * without it, and a wrong bind password that never shows up anywhere.
 */
import { ConnectorError } from '../connector';
import type { LdapConnectorRawConfig } from './ldap-config';
import { ldapConnectorFactory } from './ldap-connector';
import { ADMIN_SECRET_REF, readAll, RecordingLogger, TEST_LDAP, testContext, TestOu } from './support/test-directory';

const WRONG_PASSWORD = 'Wr0ng-Pa55word!';

let ou: TestOu;

beforeAll(async () => {
  ou = await TestOu.create('tls');
  await ou.admin.add(`uid=ann,${ou.people}`, { objectClass: 'inetOrgPerson', uid: 'ann', cn: 'Ann', sn: 'Example' });
});

afterAll(async () => {
  await ou.remove();
});

function connectorFor(overrides: Partial<LdapConnectorRawConfig>, password = TEST_LDAP.adminPassword, logger = new RecordingLogger()) {
  const config = ldapConnectorFactory.validate({
    url: TEST_LDAP.url,
    bindDn: TEST_LDAP.adminDn,
    bindPasswordSecret: ADMIN_SECRET_REF,
    timeouts: { connectMs: 5_000, operationMs: 10_000 },
    objectTypes: [{ name: 'person', baseDns: [ou.people], objectClasses: ['inetOrgPerson'], attributes: ['uid', 'cn'] }],
    ...overrides,
  });
  return ldapConnectorFactory.create(config, testContext({ [ADMIN_SECRET_REF]: password }, logger));
}

async function importedUids(overrides: Partial<LdapConnectorRawConfig>): Promise<string[]> {
  const connector = connectorFor(overrides);
  try {
    const batches = await readAll(connector.import({ mode: 'full', objectTypes: [] }));
    return batches.flatMap((b) => b.changes).map((c) => (c.kind === 'upsert' ? String(c.attributes['uid'][0]) : ''));
  } finally {
    await connector.close();
  }
}

async function importFailure(overrides: Partial<LdapConnectorRawConfig>, password?: string, logger?: RecordingLogger): Promise<ConnectorError> {
  const connector = connectorFor(overrides, password, logger);
  try {
    await readAll(connector.import({ mode: 'full', objectTypes: [] }));
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError);
    return error as ConnectorError;
  } finally {
    await connector.close();
  }
  throw new Error('the import succeeded');
}

describe('ldaps://', () => {
  it('imports over TLS when the test CA is trusted', async () => {
    await expect(importedUids({ url: TEST_LDAP.ldapsUrl, tls: { caFile: TEST_LDAP.caFile } })).resolves.toEqual(['ann']);
  });

  it('refuses a server whose certificate it cannot verify, as a configuration problem', async () => {
    const error = await importFailure({ url: TEST_LDAP.ldapsUrl });
    expect(error.code).toBe('CONNECTOR_UNREACHABLE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('not trusted');
  });

  it('checks the name in the certificate (serverName), not only the CA', async () => {
    await expect(importedUids({ url: TEST_LDAP.ldapsUrl, tls: { caFile: TEST_LDAP.caFile, serverName: 'localhost' } })).resolves.toEqual(['ann']);
    const error = await importFailure({ url: TEST_LDAP.ldapsUrl, tls: { caFile: TEST_LDAP.caFile, serverName: 'ldap.elsewhere.example' } });
    expect(error.code).toBe('CONNECTOR_UNREACHABLE');
    expect(error.retryable).toBe(false);
  });

  it('connects without verification only when told to (rejectUnauthorized: false)', async () => {
    await expect(importedUids({ url: TEST_LDAP.ldapsUrl, tls: { rejectUnauthorized: false } })).resolves.toEqual(['ann']);
  });

  it('says which file when the CA file is missing', async () => {
    const error = await importFailure({ url: TEST_LDAP.ldapsUrl, tls: { caFile: '/nonexistent/ca.pem' } });
    expect(error.code).toBe('CONNECTOR_CONFIG_INVALID');
    expect(error.message).toContain('/nonexistent/ca.pem');
  });
});

describe('StartTLS', () => {
  it('upgrades ldap:// before binding when the test CA is trusted', async () => {
    await expect(importedUids({ startTls: true, tls: { caFile: TEST_LDAP.caFile } })).resolves.toEqual(['ann']);
  });

  it('refuses the upgrade without the CA', async () => {
    const error = await importFailure({ startTls: true });
    expect(error.code).toBe('CONNECTOR_UNREACHABLE');
    expect(error.message).toContain('StartTLS');
    expect(error.message).toContain('not trusted');
  });

  it('reports ok through testConnection, naming StartTLS', async () => {
    const connector = connectorFor({ startTls: true, tls: { caFile: TEST_LDAP.caFile } });
    try {
      const result = await connector.testConnection();
      expect(result.ok).toBe(true);
      expect(result.detail).toContain('StartTLS');
      expect(result.detail).toContain('delta mode accesslog available');
    } finally {
      await connector.close();
    }
  });
});

describe('a wrong bind password', () => {
  it('fails the import with CONNECTOR_AUTH_FAILED, and the password is in no message and no log line', async () => {
    const logger = new RecordingLogger();
    const error = await importFailure({}, WRONG_PASSWORD, logger);
    expect(error.code).toBe('CONNECTOR_AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(TEST_LDAP.adminDn);
    expect(error.message).toContain('invalidCredentials (49)');
    expect(error.message).not.toContain(WRONG_PASSWORD);
    expect(JSON.stringify(error)).not.toContain(WRONG_PASSWORD);
    expect(logger.lines.join('\n')).not.toContain(WRONG_PASSWORD);
  });

  it('fails an export call as a whole, before applying anything', async () => {
    const connector = connectorFor({}, WRONG_PASSWORD);
    try {
      await expect(connector.export([{ id: 'x', kind: 'delete', objectType: 'person', dn: `uid=ann,${ou.people}` }])).rejects.toMatchObject({ code: 'CONNECTOR_AUTH_FAILED' });
    } finally {
      await connector.close();
    }
    expect(await ou.dnOf(await ou.uuidOf(`uid=ann,${ou.people}`))).toBeDefined();
  });

  it('gives ok:false from testConnection, without the password', async () => {
    const connector = connectorFor({ url: TEST_LDAP.ldapsUrl, tls: { caFile: TEST_LDAP.caFile } }, WRONG_PASSWORD);
    try {
      const result = await connector.testConnection();
      expect(result.ok).toBe(false);
      expect(result.detail).toContain('CONNECTOR_AUTH_FAILED');
      expect(result.detail).not.toContain(WRONG_PASSWORD);
    } finally {
      await connector.close();
    }
  });

  it('reports a secret reference that does not resolve, naming the reference', async () => {
    const connector = ldapConnectorFactory.create(
      ldapConnectorFactory.validate({ url: TEST_LDAP.url, bindDn: TEST_LDAP.adminDn, bindPasswordSecret: 'ldap/missing', objectTypes: [{ name: 'p', baseDns: [ou.people], objectClasses: ['inetOrgPerson'] }] }),
      testContext({}),
    );
    try {
      const result = await connector.testConnection();
      expect(result.ok).toBe(false);
      expect(result.detail).toContain('ldap/missing');
    } finally {
      await connector.close();
    }
  });
});

describe('an unreachable server', () => {
  it('fails with a retryable CONNECTOR_UNREACHABLE after trying every URL, quickly', async () => {
    const started = Date.now();
    const error = await importFailure({ url: undefined, urls: ['ldap://127.0.0.1:1', 'ldap://127.0.0.1:2'] });
    expect(error.code).toBe('CONNECTOR_UNREACHABLE');
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails over to the next URL', async () => {
    await expect(importedUids({ url: undefined, urls: ['ldap://127.0.0.1:1', TEST_LDAP.url] })).resolves.toEqual(['ann']);
  });
});
