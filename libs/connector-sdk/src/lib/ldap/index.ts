export { ldapConnectorFactory, LdapConnector } from './ldap-connector';
export { ldapSchemaFromConfig } from './ldap-schema';
export { parseLdapConfig, LDAP_DELTA_MODES, LDAP_FLAVORS, LDAP_SCOPES } from './ldap-config';
export type { LdapAttributeConfig, LdapConnectorConfig, LdapConnectorRawConfig, LdapDeltaMode, LdapFlavor, LdapObjectTypeConfig, LdapScope } from './ldap-config';
export { dnKey, escapeDnValue, escapeFilterValue, formatDn, isDn, parseDn, DnSyntaxError } from './ldap-dn';
export type { DnAttributeValue, Rdn } from './ldap-dn';
export { guidToBytes, guidToString } from './ldap-values';
