import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Connector, ConnectorError, ConnectorFactory, ConnectorLogger, csvConnectorFactory, ldapConnectorFactory, SecretResolver, sqlConnectorFactory } from '@identitymesh/connector-sdk';
import type { JsonObject } from '@identitymesh/persistence';
import { RELAYED_CONNECTORS, type RelayedConnectorSource } from '../relays/relayed-connectors.service';

/** The connector types this engine runs in-process, by the type a connector row names. */
export const BUILT_IN_CONNECTOR_FACTORIES: ConnectorFactory[] = [csvConnectorFactory, ldapConnectorFactory, sqlConnectorFactory];

export const CONNECTOR_FACTORIES = Symbol('ConnectorFactories');
export const SECRET_RESOLVER = Symbol('SecretResolver');

/** What the host needs of a connector row. */
export interface HostedConnector {
  id: string;
  type: string;
  config: unknown;
  /** @default the id */
  name?: string;
  /** Set: the connector runs on a relay of this group, not in the engine. @default null */
  relayGroup?: string | null;
  /** The schema stored with the connector. @default [] */
  objectTypes?: readonly JsonObject[];
}

/** A relay's connectors open their secret references on the relay's host; the engine never holds those values. */
const SECRETS_ON_THE_RELAY: SecretResolver = {
  resolve: async (reference) => {
    throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `secret ${reference} belongs to a connector that runs on a relay; it is opened on the relay's host, not in the engine`);
  },
};

/**
 * Creates connectors for runs: finds the factory of the row's type,
 * validates the config with it and hands the connector a context whose
 * secret references resolve through the engine's secret store. Plain secret
 * values stay between the store and the connector. A row with a relay group
 * gets a connector that runs it through the relay work queue instead.
 */
@Injectable()
export class ConnectorHost {
  private readonly factories: Map<string, ConnectorFactory>;

  constructor(
    @Inject(CONNECTOR_FACTORIES) factories: ConnectorFactory[],
    @Inject(SECRET_RESOLVER) private readonly secrets: SecretResolver,
    @Optional() @Inject(RELAYED_CONNECTORS) private readonly relays?: RelayedConnectorSource,
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
  create(connector: HostedConnector, fields: { runId?: string; signal?: AbortSignal } = {}): Connector {
    const factory = this.factories.get(connector.type);
    if (!factory) {
      throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `connector type '${connector.type}' is not one this engine runs (it runs: ${this.types().join(', ')})`);
    }
    const { signal, ...logFields } = fields;
    const logger = connectorLogger({ connectorId: connector.id, ...logFields });
    const config = factory.validate(connector.config);
    const relayGroup = connector.relayGroup ?? null;
    if (relayGroup === null) return factory.create(config, { connectorId: connector.id, secrets: this.secrets, logger });
    if (!this.relays) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `connector ${connector.id} runs on relay group "${relayGroup}", and this engine has no relay work queue`);
    // Never opened: it answers capabilities and schema from its config, without the secrets only the relay's host holds.
    const local = factory.create(config, { connectorId: connector.id, secrets: SECRETS_ON_THE_RELAY, logger });
    const relayed = { id: connector.id, name: connector.name ?? connector.id, type: connector.type, relayGroup, objectTypes: connector.objectTypes };
    return this.relays.create(relayed, local, config, { runId: fields.runId, signal });
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
