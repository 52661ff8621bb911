import { Module } from '@nestjs/common';
import { LicenseMonitor } from '@identitymesh/license';
import { AdminApiConfig } from '../config/admin-api.config';
import { LicenseController } from './license.controller';
import { LicenseService } from './license.service';

@Module({
  controllers: [LicenseController],
  providers: [{ provide: LicenseMonitor, useFactory: (config: AdminApiConfig) => new LicenseMonitor(config.license), inject: [AdminApiConfig] }, LicenseService],
  exports: [LicenseService],
})
export class LicenseModule {}
