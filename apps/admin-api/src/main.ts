import 'reflect-metadata';
import { startService } from '@identitymesh/platform';
import { describeDatabase, migrateCommand } from '@identitymesh/persistence';
import { createApiKeyCommand } from './api-keys/create-api-key.command';
import { buildAppModule } from './app.module';
import { AdminApiConfig } from './config/admin-api.config';

void startService<AdminApiConfig>({
  loadConfig: () => AdminApiConfig.load(),
  rootModule: (config) => buildAppModule(config),
  port: (config) => config.port,
  describe: (config) => ({ database: describeDatabase(config.database), oidcIssuer: config.oidc?.issuer ?? null }),
  commands: {
    migrate: (config, logger) => migrateCommand(config.database, { info: (m) => logger.info(m), warn: (m) => logger.warn(m) }),
    'create-api-key': (config, logger) => createApiKeyCommand(config, logger, process.argv.slice(3)),
  },
});
