import { Inject, Injectable, Logger } from '@nestjs/common';
import { Connector, ConnectorContext, ConnectorError, ConnectorFactory, ConnectorLogger, csvConnectorFactory, ldapConnectorFactory, SecretResolver, sqlConnectorFactory } from '@identitymesh/connector-sdk';

/** The connector types this engine runs in-process, by the type a connector row names. */
export const BUILT_IN_CONNECTOR_FACTORIES: ConnectorFactory[] = [csvConnectorFactory, ldapConnectorFactory, sqlConnectorFactory];

export const CONNECTOR_FACTORIES = Symbol('ConnectorFactories');
export const SECRET_RESOLVER = Symbol('SecretResolver');

/** What the host needs of a connector row. */
export interface HostedConnector {
  id: string;
  type: string;
  config: unknown;
}

/**
 * Creates connectors for runs: finds the factory of the row's type,
 * validates the config with it and hands the connector a context whose
 * secret references resolve through the engine's secret store. Plain secret
 * values stay between the store and the connector.
 */
@Injectable()
export class ConnectorHost {
  private readonly factories: Map<string, ConnectorFactory>;

  constructor(
    @Inject(CONNECTOR_FACTORIES) factories: ConnectorFactory[],
    @Inject(SECRET_RESOLVER) private readonly secrets: SecretResolver,
  ) {
    this.factories = new Map(factories.map((factory) => [factory.type, factory]));
  }

  /** The connector types this engine can run. */
  types(): string[] {
    return [...this.factories.keys()].sort();
  }

  /**
   * A connector for one run; the caller closes it. Throws ConnectorError
   * CONNECTOR_CONFIG_INVALID for an unknown type or a config its factory rejects.
   */
  create(connector: HostedConnector, fields: { runId?: string } = {}): Connector {
    const factory = this.factories.get(connector.type);
    if (!factory) {
      throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `connector type '${connector.type}' is not one this engine runs (it runs: ${this.types().join(', ')})`);
    }
    const context: ConnectorContext = { connectorId: connector.id, secrets: this.secrets, logger: connectorLogger({ connectorId: connector.id, ...fields }) };
    return factory.create(factory.validate(connector.config), context);
  }
}

/** A connector's log lines in the engine's log, each with the connector's and the run's id. */
function connectorLogger(base: Record<string, unknown>): ConnectorLogger {
  const logger = new Logger('Connector');
  return {
    debug: (message, fields) => logger.debug({ ...base, ...fields, msg: message }),
    info: (message, fields) => logger.log({ ...base, ...fields, msg: message }),
    warn: (message, fields) => logger.warn({ ...base, ...fields, msg: message }),
  };
}
