import { Global, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { HealthModule, MetricsModule, MetricsRegistry } from '@identitymesh/platform';
import { PersistenceHealthModule, PersistenceModule } from '@identitymesh/persistence';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditModule } from './audit/audit.module';
import { AuthGuard } from './auth/auth.guard';
import { Authenticator } from './auth/authenticator.service';
import { AdminApiConfig } from './config/admin-api.config';
import { ConnectorObjectsModule } from './connector-objects/connector-objects.module';
import { ConnectorsModule } from './connectors/connectors.module';
import { ProblemFilter } from './http/problem.filter';
import { ValidationInterceptor } from './http/validation.interceptor';
import { InstancesModule } from './instances/instances.module';
import { LicenseModule } from './license/license.module';
import { MeshObjectsModule } from './mesh-objects/mesh-objects.module';
import { OperationsMetricsModule } from './metrics/operations-metrics.module';
import { OpenApiModule } from './openapi/openapi.module';
import { RelaysModule } from './relays/relays.module';
import { RulesModule } from './rules/rules.module';
import { RunsModule } from './runs/runs.module';
import { SecretsModule } from './secrets/secrets.module';
import { SessionsModule } from './sessions/sessions.module';

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
      OpenApiModule,
      ConnectorsModule,
      RulesModule,
      RunsModule,
      InstancesModule,
      AuditModule,
      ApiKeysModule,
      MeshObjectsModule,
      ConnectorObjectsModule,
      SecretsModule,
      OperationsMetricsModule,
      SessionsModule,
      RelaysModule,
    ],
    providers: [
      Authenticator,
      // Order per request: the guard (who, may they), the interceptor (the route's schemas), the handler; the filter answers any error.
      { provide: APP_GUARD, useClass: AuthGuard },
      { provide: APP_INTERCEPTOR, useClass: ValidationInterceptor },
      { provide: APP_FILTER, useClass: ProblemFilter },
    ],
  })
  class AdminApiModule {
    constructor(metrics: MetricsRegistry) {
      metrics.setApp(config.app, config.version);
    }
  }
  return AdminApiModule;
}
