import type { AttributeDeclaration } from '@identitymesh/domain';
import type { ConnectorSchema, ObjectTypeSchema } from '@identitymesh/connector-sdk';
import type { ConnectorDefinition } from '@identitymesh/persistence';
import type { ConnectorHost } from '../connectors/connector-host.service';
import type { ConnectorSchemas } from './sync-rules';

/** A connector whose schema the run needs but cannot get. */
export class ConnectorSchemaUnavailableError extends Error {
  constructor(
    readonly connector: ConnectorDefinition,
    readonly failure: unknown,
  ) {
    super(`the schema of connector "${connector.name}" (${connector.id}) is not stored and could not be read from the connector: ${(failure as Error)?.message ?? String(failure)}`);
    this.name = 'ConnectorSchemaUnavailableError';
  }
}

/**
 * The attribute declarations rules are compiled against, per connector and
 * object type. The schema stored with the connector (`IM_Connectors.objectTypes`,
 * in the connector contract's ObjectTypeSchema shape) is used when there is
 * one, so a sync never needs the connected system itself; only a connector
 * without a stored schema is asked for it (and closed again).
 *
 * @throws ConnectorSchemaUnavailableError
 */
export async function connectorSchemas(connectors: readonly ConnectorDefinition[], host: ConnectorHost, runId: string, warn: (message: string) => void): Promise<ConnectorSchemas> {
  const schemas = new Map<string, Map<string, AttributeDeclaration[]>>();
  for (const definition of connectors) {
    let types: readonly ObjectTypeSchema[] = storedObjectTypes(definition);
    if (types.length === 0) types = (await readSchema(definition, host, runId, warn)).objectTypes;
    const byType = new Map<string, AttributeDeclaration[]>();
    for (const type of types) {
      byType.set(
        type.name,
        type.attributes.map((attribute) => ({ name: attribute.name, multiValued: attribute.multiValued === true, reference: attribute.type === 'reference' })),
      );
    }
    schemas.set(definition.id, byType);
  }
  return schemas;
}

/** The object types stored with the connector (`IM_Connectors.objectTypes`) that have the contract's shape; none when it has no stored schema. */
export function storedObjectTypes(definition: Pick<ConnectorDefinition, 'objectTypes'>): ObjectTypeSchema[] {
  return definition.objectTypes.filter(
    (type): type is ObjectTypeSchema & Record<string, never> => typeof type['name'] === 'string' && Array.isArray(type['attributes']),
  ) as unknown as ObjectTypeSchema[];
}

async function readSchema(definition: ConnectorDefinition, host: ConnectorHost, runId: string, warn: (message: string) => void): Promise<ConnectorSchema> {
  try {
    const connector = host.create(definition, { runId });
    try {
      return await connector.schema();
    } finally {
      await connector.close().catch((error: unknown) => warn(`closing connector "${definition.name}" after reading its schema failed: ${(error as Error).message}`));
    }
  } catch (error) {
    throw new ConnectorSchemaUnavailableError(definition, error);
  }
}
