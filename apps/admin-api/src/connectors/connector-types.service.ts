import { Injectable, Logger } from '@nestjs/common';
import {
  ConnectionTestResult,
  Connector,
  ConnectorError,
  ConnectorFactory,
  ConnectorSchema,
  csvConnectorFactory,
  ldapConnectorFactory,
  SecretResolver,
  sqlConnectorFactory,
} from '@identitymesh/connector-sdk';
import { DomainError } from '@identitymesh/domain';
import { SecretRepository } from '@identitymesh/persistence';
import { SecretProviders, SecretStore } from '@identitymesh/secrets';
import { AdminApiConfig } from '../config/admin-api.config';

/** The connector types the engine runs in-process; a connector of another type is refused when saved. */
export const CONNECTOR_TYPE_NAMES = ['csv', 'ldap', 'sql'] as const;
const FACTORIES: Record<(typeof CONNECTOR_TYPE_NAMES)[number], ConnectorFactory> = { csv: csvConnectorFactory, ldap: ldapConnectorFactory, sql: sqlConnectorFactory };

/** How long a connection test or a schema read may take before it is reported as failed. */
const CONNECTOR_CALL_TIMEOUT_MS = 20_000;

/**
 * The connector types as the Admin API uses them: validating a config when
 * a connector is saved (the same factory check the engine makes before a
 * run), and opening a connector for a connection test or a schema read,
 * with secret references resolved through the secret store (`IM_SECRETS_*`).
 */
@Injectable()
export class ConnectorTypes {
  private readonly secrets: SecretResolver;

  constructor(config: AdminApiConfig, records: SecretRepository) {
    const store = new SecretStore(records, new SecretProviders(config.secrets));
    this.secrets = { resolve: (reference) => store.get(reference) };
  }

  /** Throws ConnectorError CONNECTOR_CONFIG_INVALID naming the bad field (values are never echoed). */
  validate(type: string, config: unknown): void {
    this.factory(type).validate(config);
  }

  /** Asks the system whether it can be reached and read; a failure is an answer, not an error. */
  async test(connector: { id: string; type: string; config: unknown }): Promise<ConnectionTestResult & { code: string | null }> {
    try {
      const result = await this.withConnector(connector, (c) => c.testConnection());
      return { ...result, code: null };
    } catch (error) {
      if (error instanceof ConnectorError && error.code !== 'CONNECTOR_CONFIG_INVALID') return { ok: false, detail: error.message, code: error.code };
      if (error instanceof ConnectorError) throw error;
      if (error instanceof DomainError) return { ok: false, detail: error.message, code: error.code };
      return { ok: false, detail: (error as Error)?.message ?? String(error), code: 'SYSTEM_ERROR' };
    }
  }

  async schema(connector: { id: string; type: string; config: unknown }): Promise<ConnectorSchema> {
    return this.withConnector(connector, (c) => c.schema());
  }

  private factory(type: string): ConnectorFactory {
    const factory = (FACTORIES as Record<string, ConnectorFactory | undefined>)[type];
    if (!factory) throw new ConnectorError('CONNECTOR_CONFIG_INVALID', `connector type '${type}' is not one the engine runs (it runs: ${CONNECTOR_TYPE_NAMES.join(', ')})`);
    return factory;
  }

  private async withConnector<T>(connector: { id: string; type: string; config: unknown }, work: (c: Connector) => Promise<T>): Promise<T> {
    const factory = this.factory(connector.type);
    const logger = new Logger('Connector');
    const fields = { connectorId: connector.id };
    const instance = factory.create(factory.validate(connector.config), {
      connectorId: connector.id,
      secrets: this.secrets,
      logger: {
        debug: (message, extra) => logger.debug({ ...fields, ...extra, msg: message }),
        info: (message, extra) => logger.log({ ...fields, ...extra, msg: message }),
        warn: (message, extra) => logger.warn({ ...fields, ...extra, msg: message }),
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new ConnectorError('CONNECTOR_UNREACHABLE', `no answer within ${CONNECTOR_CALL_TIMEOUT_MS / 1000} s`, true)), CONNECTOR_CALL_TIMEOUT_MS);
      });
      return await Promise.race([work(instance), timeout]);
    } finally {
      clearTimeout(timer);
      await instance.close().catch((error: unknown) => logger.warn({ ...fields, msg: `closing the connector failed: ${(error as Error).message}` }));
    }
  }
}
