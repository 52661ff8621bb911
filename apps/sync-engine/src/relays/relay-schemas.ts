import { ldapSchemaFromConfig } from '@identitymesh/connector-sdk';
import type { Connector, ConnectorSchema, LdapConnectorConfig } from '@identitymesh/connector-sdk';
import type { JsonObject } from '@identitymesh/persistence';
import { storedObjectTypes } from '../sync/connector-schemas';

/**
 * The schema of a connector that runs on a relay, read without reaching the
 * connected system (only the relay reaches it): the schema stored with the
 * connector when there is one; else, for LDAP, whose own schema() reads the
 * directory's subschema, the schema its config alone gives (what the LDAP
 * connector falls back to when the subschema is not readable); else the
 * local instance's, which CSV and SQL build from their config.
 */
export async function relayedConnectorSchema(connector: { type: string; objectTypes?: readonly JsonObject[] }, validatedConfig: unknown, local: Connector): Promise<ConnectorSchema> {
  const stored = storedObjectTypes({ objectTypes: [...(connector.objectTypes ?? [])] });
  if (stored.length > 0) return { objectTypes: stored };
  if (connector.type === 'ldap') return ldapSchemaFromConfig(validatedConfig as LdapConnectorConfig);
  return local.schema();
}
