import { Global, Module, Type } from '@nestjs/common';
import { HealthModule, MetricsModule, MetricsRegistry } from '@identitymesh/platform';
import { RelayAgentConfig } from './config/relay-agent.config';
import { HubModule } from './hub/hub.module';

/** The relay agent for one configuration. */
export function buildAppModule(config: RelayAgentConfig): Type<unknown> {
  @Global()
  @Module({ providers: [{ provide: RelayAgentConfig, useValue: config }], exports: [RelayAgentConfig] })
  class RelayAgentConfigModule {}

  @Module({ imports: [RelayAgentConfigModule, HealthModule, MetricsModule, HubModule] })
  class RelayAgentModule {
    constructor(metrics: MetricsRegistry) {
      metrics.setApp(config.app, config.version);
    }
  }
  return RelayAgentModule;
}
