import 'reflect-metadata';
import { startService } from '@identitymesh/platform';
import { describeDatabase, migrateCommand } from '@identitymesh/persistence';
import { buildAppModule } from './app.module';
import { SyncEngineConfig } from './config/sync-engine.config';

void startService<SyncEngineConfig>({
  loadConfig: () => SyncEngineConfig.load(),
  rootModule: (config) => buildAppModule(config),
  port: (config) => config.port,
  describe: (config) => ({ database: describeDatabase(config.database) }),
  commands: { migrate: (config, logger) => migrateCommand(config.database, { info: (m) => logger.info(m), warn: (m) => logger.warn(m) }) },
});
