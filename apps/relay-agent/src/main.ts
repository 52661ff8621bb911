import 'reflect-metadata';
import { startService } from '@identitymesh/platform';
import { buildAppModule } from './app.module';
import { RelayAgentConfig } from './config/relay-agent.config';

void startService<RelayAgentConfig>({
  loadConfig: () => RelayAgentConfig.load(),
  rootModule: (config) => buildAppModule(config),
  port: (config) => config.port,
  describe: (config) => ({ relayName: config.name, hubUrl: config.hubUrl ?? null }),
});
