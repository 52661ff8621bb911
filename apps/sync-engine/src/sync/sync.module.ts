import { Module } from '@nestjs/common';
import {
  AuditRepository,
  ConnectorSpaceRepository,
  ExportQueueRepository,
  MeshRepository,
  RunChangeRepository,
  UniqueValueRepository,
} from '@identitymesh/persistence';
import { ConnectorsModule } from '../connectors/connectors.module';
import type { SyncBatchRepositories } from './sync-batch';
import { SYNC_BATCH_REPOSITORIES, SyncRunner } from './sync-runner.service';

@Module({
  imports: [ConnectorsModule],
  providers: [
    {
      provide: SYNC_BATCH_REPOSITORIES,
      useFactory: (
        space: ConnectorSpaceRepository,
        mesh: MeshRepository,
        uniqueValues: UniqueValueRepository,
        exportQueue: ExportQueueRepository,
        audit: AuditRepository,
        runChanges: RunChangeRepository,
      ): SyncBatchRepositories => ({ space, mesh, uniqueValues, exportQueue, audit, runChanges }),
      inject: [ConnectorSpaceRepository, MeshRepository, UniqueValueRepository, ExportQueueRepository, AuditRepository, RunChangeRepository],
    },
    SyncRunner,
  ],
  exports: [SyncRunner],
})
export class SyncModule {}
