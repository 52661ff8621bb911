import { ConnectorContext, ldapConnectorFactory, LdapConnectorRawConfig } from '@identitymesh/connector-sdk';
import type { ConformanceHarness, ConformanceObject } from '../../lib/conformance-harness';
import { describeConnectorConformance } from '../../lib/describe-connector-conformance';
import { OPENLDAP, OpenLdapDriver } from './support/openldap-driver';

/*
 * The LDAP connector against the real OpenLDAP of tools/dev-services/services.sh
 * (delta through slapo-accesslog). Every case gets a fresh OU subtree.
 */

const SECRET_REF = 'ldap/conformance/bind-password';
const ATTRIBUTES = ['uid', 'cn', 'sn', 'givenName', 'mail', 'description', 'manager'];

const contextWith = (password: string): ConnectorContext => ({
  connectorId: 'conformance-ldap',
  secrets: { resolve: async (reference) => (reference === SECRET_REF ? password : Promise.reject(new Error(`no secret ${reference}`))) },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
});

function rawConfig(base: string, overrides: Partial<LdapConnectorRawConfig> = {}): LdapConnectorRawConfig {
  return {
    url: OPENLDAP.url,
    bindDn: OPENLDAP.adminDn,
    bindPasswordSecret: SECRET_REF,
    // Small, so the malformed case can put an oversized value in the directory.
    maxValueBytes: 4096,
    objectTypes: [
      {
        name: 'person',
        baseDns: [base],
        filter: '(objectClass=inetOrgPerson)',
        objectClasses: ['inetOrgPerson'],
        attributes: ATTRIBUTES.filter((name) => name !== 'manager'),
        referenceAttributes: ['manager'],
      },
    ],
    ...overrides,
  };
}

function ldapHarness(): ConformanceHarness {
  let driver: OpenLdapDriver | undefined;
  const current = () => {
    if (!driver) throw new Error('setUp has not run');
    return driver;
  };
  const connectorFor = (password: string) => ldapConnectorFactory.create(ldapConnectorFactory.validate(rawConfig(current().base)), contextWith(password));

  const person = (n: number): ConformanceObject => ({
    dn: `uid=user${n},${current().people}`,
    attributes: {
      uid: [`user${n}`],
      // Characters that DNs and filters treat specially, and text beyond ASCII.
      cn: [`Ångström, Zoë+${n}`],
      sn: [`O'Brien (${n}) *`],
      givenName: [n % 2 === 0 ? `Zoë ${n}` : `Jean-Luc "JL" ${n}`],
      mail: [`user${n}@corp.example`],
      description: n % 3 === 0 ? [] : [`back\\slash ${n}`, `=#;<> ${n}`],
      manager: n === 0 ? [] : [`uid=user0,${current().people}`],
    },
  });

  const invalidBase = `ou=x,${OPENLDAP.suffix}`;
  return {
    objectType: 'person',
    capabilities: { deltaImport: 'native', export: true, rename: true, assignsAnchorOnAdd: true },
    batchSize: 5,
    timeoutMs: 60_000,
    async setUp() {
      driver = await OpenLdapDriver.create(ATTRIBUTES);
      const connect = () => connectorFor(OPENLDAP.adminPassword);
      return { connector: connect(), driver, reconnect: connect };
    },
    async tearDown() {
      await driver?.drop();
      driver = undefined;
    },
    brokenConnector: () => connectorFor('not-the-password'),
    factory: ldapConnectorFactory,
    invalidConfigs: [
      {},
      rawConfig(invalidBase, { url: 'http://127.0.0.1:3890' }),
      rawConfig(invalidBase, { url: 'ldaps://127.0.0.1:6360', startTls: true }),
      { ...rawConfig(invalidBase), bindPassword: 'plain-text' },
      rawConfig('not a dn'),
      rawConfig(invalidBase, { objectTypes: [{ name: 'person', baseDns: [invalidBase], filter: 'objectClass=person' }] }),
      rawConfig(invalidBase, { objectTypes: [{ name: 'person', baseDns: [invalidBase], objectClasses: ['person'], anchorAttribute: 'uid' }] }),
    ],
    samples: {
      valid: person,
      // inetOrgPerson requires sn: the directory refuses this one (objectClassViolation).
      get rejected(): ConformanceObject {
        return { dn: `uid=nosurname,${current().people}`, attributes: { uid: ['nosurname'], cn: ['No Surname'] } };
      },
      update: { sn: ['Øster, Renamed'], mail: ['changed@corp.example'], description: ['updated'] },
      renamedDn: (object) => `${(object.dn as string).split(',')[0]}-moved,${current().alumni}`,
    },
    async injectMalformed() {
      // The directory holds a value over the connector's maxValueBytes; the connector must refuse that entry alone.
      await current().add(`uid=oversized,${current().people}`, { uid: ['oversized'], cn: ['Oversized'], sn: ['Value'], description: ['x'.repeat(10_000)] });
    },
  };
}

describeConnectorConformance('ldap (OpenLDAP, accesslog delta)', ldapHarness());
