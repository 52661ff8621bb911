import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from '@identitymesh/platform';
import { DatabaseSettings } from './data-source/database-settings';
import { openDatabase } from './data-source/open-database';
import { ApiKeyRepository } from './api-key/api-key.repository';
import { KeyRingRepository } from './key-ring/key-ring.repository';
import { AuditRepository } from './audit/audit.repository';
import { ConnectorLeaseRepository } from './connector-lease/connector-lease.repository';
import { ConnectorSpaceRepository } from './connector-space/connector-space.repository';
import { ConnectorRepository } from './connector/connector.repository';
import { EngineRegistryRepository } from './engine-registry/engine-registry.repository';
import { ExportQueueRepository } from './export-queue/export-queue.repository';
import { MeshRepository } from './mesh/mesh.repository';
import { RelayWorkQueueRepository } from './relay/relay-work-queue.repository';
import { RelayRepository } from './relay/relay.repository';
import { RunChangeRepository } from './run-change/run-change.repository';
import { RunRepository } from './run/run.repository';
import { ScheduleRepository } from './schedule/schedule.repository';
import { SchemaRepository } from './schema/schema.repository';
import { SecretRepository } from './secrets/secret.repository';
import { SyncRuleRepository } from './sync-rule/sync-rule.repository';
import { TransactionRunner } from './transaction/transaction';
import { UniqueValueRepository } from './unique-value/unique-value.repository';
import { WatermarkRepository } from './watermark/watermark.repository';

/** Everything a feature may inject: repositories and the transaction runner, each over the one DataSource. */
const DATA_ACCESS = [
  SchemaRepository,
  EngineRegistryRepository,
  SecretRepository,
  ConnectorRepository,
  ConnectorLeaseRepository,
  ConnectorSpaceRepository,
  RunRepository,
  ScheduleRepository,
  WatermarkRepository,
  ExportQueueRepository,
  SyncRuleRepository,
  MeshRepository,
  UniqueValueRepository,
  RunChangeRepository,
  AuditRepository,
  ApiKeyRepository,
  KeyRingRepository,
  RelayRepository,
  RelayWorkQueueRepository,
  TransactionRunner,
];

export const DATA_SOURCE = Symbol('IdentityMeshDataSource');

/** The counter of every statement the process sends (BEGIN and COMMIT included), as `identitymesh_db_statements_total`. */
export const DB_STATEMENTS_METRIC = 'db_statements_total';

@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  // Runs after every feature's shutdown hooks, so their last writes still have a connection.
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The Nest face of the persistence lib: one DataSource per process, opened
 * (and, for the embedded default, migrated) before any feature starts, and
 * the repositories features inject. Services never see TypeORM itself.
 */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(settings: DatabaseSettings, options: { autoMigrate: boolean }): DynamicModule {
    const logger = new Logger('Persistence');
    return {
      module: PersistenceModule,
      providers: [
        {
          provide: DATA_SOURCE,
          // Round trips per object, not CPU, decide how fast a sync is; a count of statements
          // shows a regression (one query per object in a loop) that a timing on a noisy host hides.
          useFactory: async (metrics?: MetricsRegistry) => {
            const statements = metrics?.counter(DB_STATEMENTS_METRIC, 'SQL statements sent to the database, BEGIN and COMMIT included');
            const { dataSource } = await openDatabase(settings, {
              autoMigrate: options.autoMigrate,
              log: { info: (m) => logger.log(m), warn: (m) => logger.warn(m) },
              onQuery: statements ? () => statements.inc() : undefined,
            });
            return dataSource;
          },
          inject: [{ token: MetricsRegistry, optional: true }],
        },
        DataSourceCloser,
        ...DATA_ACCESS.map((type) => ({ provide: type, useFactory: (ds: DataSource) => new type(ds), inject: [DATA_SOURCE] })),
      ],
      exports: DATA_ACCESS,
    };
  }
}
