import { Global, Module, Type } from '@nestjs/common';
import { HealthModule, MetricsModule, MetricsRegistry } from '@identitymesh/platform';
import { PersistenceHealthModule, PersistenceModule } from '@identitymesh/persistence';
import { SyncEngineConfig } from './config/sync-engine.config';
import { LicenseModule } from './license/license.module';
import { RegistryModule } from './registry/registry.module';
import { RelaysModule } from './relays/relays.module';
import { RunsModule } from './runs/runs.module';
import { ScheduleModule } from './schedule/schedule.module';

/** The Sync Engine for one configuration; features are added as folders beside this file. */
export function buildAppModule(config: SyncEngineConfig): Type<unknown> {
  @Global()
  @Module({ providers: [{ provide: SyncEngineConfig, useValue: config }], exports: [SyncEngineConfig] })
  class SyncEngineConfigModule {}

  @Module({
    imports: [
      SyncEngineConfigModule,
      HealthModule,
      MetricsModule,
      PersistenceModule.forRoot(config.database, { autoMigrate: config.database.autoMigrate }),
      PersistenceHealthModule,
      RegistryModule,
      LicenseModule,
      RelaysModule,
      RunsModule,
      ScheduleModule,
    ],
  })
  class SyncEngineModule {
    constructor(metrics: MetricsRegistry) {
      metrics.setApp(config.app, config.version);
    }
  }
  return SyncEngineModule;
}
