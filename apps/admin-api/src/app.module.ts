import { Global, Module, Type } from '@nestjs/common';
import { HealthModule, MetricsModule, MetricsRegistry } from '@identitymesh/platform';
import { PersistenceHealthModule, PersistenceModule } from '@identitymesh/persistence';
import { AdminApiConfig } from './config/admin-api.config';
import { LicenseModule } from './license/license.module';

/** The Admin API for one configuration; features are added as folders beside this file. */
export function buildAppModule(config: AdminApiConfig): Type<unknown> {
  @Global()
  @Module({ providers: [{ provide: AdminApiConfig, useValue: config }], exports: [AdminApiConfig] })
  class AdminApiConfigModule {}

  @Module({
    imports: [
      AdminApiConfigModule,
      HealthModule,
      MetricsModule,
      PersistenceModule.forRoot(config.database, { autoMigrate: config.database.autoMigrate }),
      PersistenceHealthModule,
      LicenseModule,
    ],
  })
  class AdminApiModule {
    constructor(metrics: MetricsRegistry) {
      metrics.setApp(config.app, config.version);
    }
  }
  return AdminApiModule;
}
