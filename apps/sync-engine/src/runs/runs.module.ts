import { Module } from '@nestjs/common';
import { ImportModule } from '../import/import.module';
import { LeasesModule } from '../leases/leases.module';
import { LicenseModule } from '../license/license.module';
import { RegistryModule } from '../registry/registry.module';
import { RunExecutor } from './run-executor.service';
import { RunQueueService } from './run-queue.service';

@Module({
  imports: [ImportModule, LeasesModule, LicenseModule, RegistryModule],
  providers: [RunExecutor, RunQueueService],
  exports: [RunExecutor, RunQueueService],
})
export class RunsModule {}
