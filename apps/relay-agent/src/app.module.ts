import { Global, Module, Type } from '@nestjs/common';
import type { Logger } from 'pino';
import { HealthModule, MetricsModule, MetricsRegistry } from '@identitymesh/platform';
import { RelayAgentConfig } from './config/relay-agent.config';
import { CONFIG_RELOADER, PROCESS_LOGGER } from './hub/hub-link.service';
import { HubModule } from './hub/hub.module';

/** The relay agent for one configuration. */
export function buildAppModule(config: RelayAgentConfig, logger: Logger, reload: () => RelayAgentConfig): Type<unknown> {
  @Global()
  @Module({
    providers: [
      { provide: RelayAgentConfig, useValue: config },
      { provide: PROCESS_LOGGER, useValue: logger },
      { provide: CONFIG_RELOADER, useValue: reload },
    ],
    exports: [RelayAgentConfig, PROCESS_LOGGER, CONFIG_RELOADER],
  })
  class RelayAgentConfigModule {}

  @Module({ imports: [RelayAgentConfigModule, HealthModule, MetricsModule, HubModule] })
  class RelayAgentModule {
    constructor(metrics: MetricsRegistry) {
      metrics.setApp(config.app, config.version);
    }
  }
  return RelayAgentModule;
}
