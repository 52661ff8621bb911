import {
  Connector,
  ConnectorContext,
  ConnectorError,
  ConnectorFactory,
  csvConnectorFactory,
  ldapConnectorFactory,
  RelayWorkOrder,
  SecretResolver,
} from '@identitymesh/connector-sdk';
import type { RelayLogger } from '../runtime/relay-logger';

/**
 * The connector types a relay runs: the file and directory connectors that
 * have to sit near their system. SQL connectors run in the engine, which
 * reaches databases itself; a relay carries no SQL driver.
 */
export const RELAY_CONNECTOR_FACTORIES: ConnectorFactory[] = [csvConnectorFactory, ldapConnectorFactory];

/**
 * Creates the connector of a work order: validates its config with the type's
 * factory and hands it a context whose secret references resolve on this
 * host, through the relay's own secret store.
 */
export class RelayConnectorHost {
  private readonly factories: Map<string, ConnectorFactory>;

  constructor(
    factories: ConnectorFactory[],
    private readonly secrets: SecretResolver,
    private readonly logger: (fields: Record<string, unknown>) => RelayLogger,
  ) {
    this.factories = new Map(factories.map((factory) => [factory.type, factory]));
  }

  types(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** Throws ConnectorError CONNECTOR_CONFIG_INVALID for a type this relay does not run or a config its factory rejects. */
  create(connector: RelayWorkOrder['connector'], fields: { itemId: string }): Connector {
    const factory = this.factories.get(connector.type);
    if (!factory) {
      throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `connector type '${connector.type}' is not one this relay runs (it runs: ${this.types().join(', ')})`);
    }
    const log = this.logger({ connectorId: connector.id, ...fields });
    const context: ConnectorContext = {
      connectorId: connector.id,
      secrets: this.secrets,
      logger: { debug: log.debug, info: log.info, warn: log.warn },
    };
    return factory.create(factory.validate(connector.config), context);
  }
}
