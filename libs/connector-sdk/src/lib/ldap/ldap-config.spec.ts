import { ConnectorError } from '../connector';
import { parseLdapConfig } from './ldap-config';
import { ldapConnectorFactory } from './ldap-connector';

const minimal = {
  url: 'ldap://ldap.corp.example',
  bindDn: 'cn=sync,ou=services,dc=corp,dc=example',
  bindPasswordSecret: 'ldap/corp/bind-password',
  objectTypes: [{ name: 'person', baseDns: ['ou=people,dc=corp,dc=example'], objectClasses: ['inetOrgPerson'], attributes: ['cn', 'mail'] }],
};

function refusal(config: unknown): ConnectorError {
  try {
    parseLdapConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe('CONNECTOR_CONFIG_INVALID');
    return error as ConnectorError;
  }
  throw new Error('the config was accepted');
}

describe('parseLdapConfig', () => {
  it('fills in the OpenLDAP defaults', () => {
    const config = parseLdapConfig(minimal);
    expect(config).toEqual(
      expect.objectContaining({
        flavor: 'openldap',
        urls: ['ldap://ldap.corp.example'],
        startTls: false,
        tls: { rejectUnauthorized: true },
        timeouts: { connectMs: 10_000, operationMs: 120_000 },
        pageSize: 500,
        maxValueBytes: 1_048_576,
        delta: { mode: 'accesslog', accesslogBase: 'cn=accesslog', overlapSeconds: 5, clockSkewSeconds: 60 },
      }),
    );
    expect(config.objectTypes[0]).toEqual({
      name: 'person',
      baseDns: ['ou=people,dc=corp,dc=example'],
      scope: 'sub',
      filter: '(objectClass=inetOrgPerson)',
      objectClasses: ['inetOrgPerson'],
      anchorAttribute: 'entryUUID',
      attributes: [{ name: 'cn' }, { name: 'mail' }],
      referenceAttributes: [],
      binaryAttributes: [],
      pageSize: 500,
      timeLimitSeconds: 0,
    });
  });

  it('fills in the Active Directory defaults: objectGUID anchors, USN deltas, binary GUID and SID', () => {
    const config = parseLdapConfig({ ...minimal, flavor: 'active-directory', urls: ['ldaps://dc1.corp.example', 'ldaps://dc2.corp.example'], url: undefined });
    expect(config.delta.mode).toBe('usn');
    expect(config.urls).toEqual(['ldaps://dc1.corp.example', 'ldaps://dc2.corp.example']);
    expect(config.objectTypes[0].anchorAttribute).toBe('objectGUID');
    expect(config.objectTypes[0].binaryAttributes).toEqual(['objectGUID', 'objectSid']);
  });

  it('is what the factory validates with', () => {
    expect(ldapConnectorFactory.type).toBe('ldap');
    expect(ldapConnectorFactory.validate(minimal)).toEqual(parseLdapConfig(minimal));
  });

  it.each([
    [{ ...minimal, url: 'http://ldap.corp.example' }, 'url: must start with ldap:// or ldaps://'],
    [{ ...minimal, url: 'ldap://ldap.corp.example/dc=corp?cn' }, 'url: must hold only the scheme, host and port'],
    [{ ...minimal, urls: ['ldap://a'] }, 'urls: give either url or urls'],
    [{ ...minimal, url: 'ldaps://ldap.corp.example', startTls: true }, 'startTls: StartTLS is for ldap:// URLs'],
    [{ ...minimal, bindDn: 'sync' }, 'bindDn: bindDn is not a distinguished name'],
    [{ ...minimal, bindPasswordSecret: 'has spaces in it' }, 'bindPasswordSecret: must be a secret reference'],
    [{ ...minimal, pageSize: 0 }, 'pageSize:'],
    [{ ...minimal, objectTypes: [] }, 'objectTypes: needs at least one object type'],
    [{ ...minimal, objectTypes: [{ ...minimal.objectTypes[0], filter: 'objectClass=person' }] }, 'objectTypes[0].filter: must be an LDAP filter in parentheses'],
    [{ ...minimal, objectTypes: [{ ...minimal.objectTypes[0], filter: '(&(objectClass=person)' }] }, 'objectTypes[0].filter: is not a valid LDAP filter'],
    [{ ...minimal, objectTypes: [{ ...minimal.objectTypes[0], baseDns: ['ou=a,,dc=x'] }] }, 'objectTypes[0].baseDns[0]: a base DN is not a distinguished name'],
    [{ ...minimal, objectTypes: [{ name: 'person', baseDns: ['dc=x'] }] }, 'objectTypes[0].filter: is required when objectClasses is empty'],
    [{ ...minimal, objectTypes: [{ ...minimal.objectTypes[0], anchorAttribute: 'uid' }] }, 'objectTypes[0].anchorAttribute: must be entryUUID with delta.mode accesslog'],
    [{ ...minimal, objectTypes: [minimal.objectTypes[0], minimal.objectTypes[0]] }, 'objectTypes[1].name: is used by another object type'],
    [{ ...minimal, objectTypes: [{ ...minimal.objectTypes[0], attributes: ['bad name!'] }] }, 'objectTypes[0].attributes[0]'],
    [{ ...minimal, delta: { mode: 'dirsync' } }, 'delta.mode'],
    [{ ...minimal, objectTypes: [{ ...minimal.objectTypes[0], baseDns: ['dc=corp,dc=example', 'OU=People,dc=corp,dc=example'] }] }, 'objectTypes[0].baseDns[1]: lies inside baseDns[0]'],
    [{ ...minimal, tls: { rejectUnauthorised: false } }, 'tls.rejectUnauthorised: is not a setting of the ldap connector'],
  ])('refuses %#, naming the field', (config, message) => {
    expect(refusal(config).message).toContain(message);
  });

  it('lists every problem at once', () => {
    const { message } = refusal({ ...minimal, url: 'http://x', pageSize: -1, bindDn: 'x' });
    expect(message).toContain('url:');
    expect(message).toContain('pageSize:');
    expect(message).toContain('bindDn:');
  });

  it('accepts modifyTimestamp deltas with any anchor attribute', () => {
    const config = parseLdapConfig({ ...minimal, delta: { mode: 'modifyTimestamp' }, objectTypes: [{ ...minimal.objectTypes[0], anchorAttribute: 'employeeNumber' }] });
    expect(config.objectTypes[0].anchorAttribute).toBe('employeeNumber');
  });

  describe('never repeats a secret', () => {
    it('refuses a plain password and says where it belongs, without its value', () => {
      const { message } = refusal({ ...minimal, bindPassword: 'Tr0ub4dor&3' });
      expect(message).toContain('bindPassword: plain passwords are not accepted');
      expect(message).toContain('bindPasswordSecret');
      expect(message).not.toContain('Tr0ub4dor');
    });

    it('does not echo credentials put into a URL', () => {
      const { message } = refusal({ ...minimal, url: 'ldap://sync:Tr0ub4dor&3@ldap.corp.example' });
      expect(message).toContain('url:');
      expect(message).not.toContain('Tr0ub4dor');
    });

    it('does not echo a secret pasted where the reference belongs', () => {
      const { message } = refusal({ ...minimal, bindPasswordSecret: 'Tr0ub4dor &3' });
      expect(message).not.toContain('Tr0ub4dor');
    });

    it('does not echo values of the wrong type', () => {
      const { message } = refusal({ ...minimal, bindPasswordSecret: { value: 'Tr0ub4dor&3' } });
      expect(message).toContain('bindPasswordSecret');
      expect(message).not.toContain('Tr0ub4dor');
    });
  });
});
