import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { ConfigError, HealthRegistry, MetricsRegistry } from '@identitymesh/platform';
import { SecretStore } from '@identitymesh/secrets';
import { RelayCommands } from '../commands/relay-commands';
import { RelayAgentConfig } from '../config/relay-agent.config';
import { prometheusRelayMetrics } from '../metrics/relay-metrics';
import { applyLogLevel } from '../runtime/log-level';
import { nestRelayLogger } from '../runtime/relay-logger';
import { RELAY_CREDENTIAL_REFERENCE, RelayCredentials, relaySecretResolver } from '../secrets/relay-secrets';
import { RELAY_CONNECTOR_FACTORIES, RelayConnectorHost } from '../work/relay-connector-host';
import { RelayAgent } from './relay-agent';

/** The process's pino logger (its level changes on reload-config). */
export const PROCESS_LOGGER = Symbol('ProcessLogger');
/** Reads the configuration again, for reload-config. */
export const CONFIG_RELOADER = Symbol('ConfigReloader');

/**
 * The relay agent inside the Nest app: refuses to start without a hub or a
 * way to authenticate to it, reports the hub link as the `hub` readiness
 * check, and stops the work in hand within the shutdown timeout.
 */
@Injectable()
export class HubLinkService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HubLinkService');
  private readonly credentials: RelayCredentials;
  private readonly resolver: ReturnType<typeof relaySecretResolver>;
  private agent?: RelayAgent;

  constructor(
    private readonly config: RelayAgentConfig,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsRegistry,
    store: SecretStore,
    @Inject(PROCESS_LOGGER) private readonly processLogger: PinoLogger,
    @Inject(CONFIG_RELOADER) private readonly reload: () => RelayAgentConfig,
  ) {
    this.credentials = new RelayCredentials(store);
    this.resolver = relaySecretResolver(store);
  }

  async onModuleInit(): Promise<void> {
    const { config } = this;
    if (!config.hubUrl) {
      throw new ConfigError([{ setting: 'IM_HUB_URL', problem: 'is required: the relay agent dials out to the hub of this Admin API' }]);
    }
    if (!config.enrollmentToken && !(await this.credentials.read())) {
      throw new ConfigError([
        {
          setting: 'IM_RELAY_ENROLLMENT_TOKEN',
          problem: `is required on the first start: no relay credential is stored yet (${RELAY_CREDENTIAL_REFERENCE} in ${config.secretsFile}); create a token with POST /api/relays/enrollments`,
        },
      ]);
    }
    const commands = new RelayCommands({
      config,
      reload: this.reload,
      applyLogLevel: (level) => applyLogLevel(this.processLogger, level),
      itemsInHand: () => this.agent?.itemsInHand ?? 0,
    });
    const agent = new RelayAgent({
      hubUrl: config.hubUrl,
      name: config.name,
      host: config.host,
      version: config.version,
      enrollmentToken: config.enrollmentToken,
      maxConcurrentItems: config.maxConcurrentItems,
      credentials: this.credentials,
      connectors: new RelayConnectorHost(RELAY_CONNECTOR_FACTORIES, this.resolver, (fields) => nestRelayLogger('Connector', fields)),
      commands: (command) => commands.handle(command),
      metrics: prometheusRelayMetrics(this.metrics),
      logger: (context) => nestRelayLogger(context),
    });
    this.agent = agent;
    this.health.register({ name: 'hub', run: async () => agent.health() });
  }

  onApplicationBootstrap(): void {
    this.agent?.start().catch((error: unknown) => {
      this.logger.error({ msg: `the relay could not start its hub link: ${(error as Error).message}`, err: error });
    });
  }

  async onModuleDestroy(): Promise<void> {
    // Leaves room for closing the HTTP server and logging before the process's own shutdown timer fires.
    const graceMs = Math.max(0, this.config.shutdownTimeoutMs - Math.min(2_000, this.config.shutdownTimeoutMs / 4));
    await this.agent?.stop(graceMs);
  }
}
