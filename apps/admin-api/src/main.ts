import 'reflect-metadata';
import { startService } from '@identitymesh/platform';
import { describeDatabase, migrateCommand } from '@identitymesh/persistence';
import { buildAppModule } from './app.module';
import { AdminApiConfig } from './config/admin-api.config';

void startService<AdminApiConfig>({
  loadConfig: () => AdminApiConfig.load(),
  rootModule: (config) => buildAppModule(config),
  port: (config) => config.port,
  describe: (config) => ({ database: describeDatabase(config.database) }),
  commands: { migrate: (config, logger) => migrateCommand(config.database, { info: (m) => logger.info(m), warn: (m) => logger.warn(m) }) },
});
