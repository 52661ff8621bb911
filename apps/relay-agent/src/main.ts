import 'reflect-metadata';
import { startService } from '@identitymesh/platform';
import { buildAppModule } from './app.module';
import { RelayAgentConfig } from './config/relay-agent.config';
import { createRelaySecretStore } from './secrets/relay-secrets';
import { runSecretCommand, stdinValue } from './secrets/secret.command';

const argv = process.argv.slice(2);

void startService<RelayAgentConfig>(
  {
    loadConfig: () => RelayAgentConfig.load(),
    rootModule: (config, logger) => buildAppModule(config, logger, () => RelayAgentConfig.load()),
    port: (config) => config.port,
    describe: (config) => ({ relayName: config.name, hubUrl: config.hubUrl ?? null }),
    commands: {
      // `node main.js secret set <reference>`: secrets of the connectors this relay runs, kept on this host.
      secret: (config) => runSecretCommand(argv.slice(1), createRelaySecretStore(config), { out: (text) => process.stdout.write(text), readValue: stdinValue() }),
    },
  },
  argv,
);
