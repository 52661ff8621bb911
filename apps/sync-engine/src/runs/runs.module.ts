import { Module } from '@nestjs/common';
import { ExportModule } from '../export/export.module';
import { ImportModule } from '../import/import.module';
import { LeasesModule } from '../leases/leases.module';
import { LicenseModule } from '../license/license.module';
import { RegistryModule } from '../registry/registry.module';
import { SyncModule } from '../sync/sync.module';
import { RunExecutor } from './run-executor.service';
import { RunQueueService } from './run-queue.service';

@Module({
  imports: [ImportModule, SyncModule, ExportModule, LeasesModule, LicenseModule, RegistryModule],
  providers: [RunExecutor, RunQueueService],
  exports: [RunExecutor, RunQueueService],
})
export class RunsModule {}
