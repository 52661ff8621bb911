import { Module } from '@nestjs/common';
import { LicenseMonitor } from '@identitymesh/license';
import { AdminApiConfig } from '../config/admin-api.config';
import { RateLimitGuard } from '../http/rate-limit.guard';
import { LicenseController } from './license.controller';
import { LicenseUploadService } from './license-upload.service';
import { LicenseService } from './license.service';

@Module({
  controllers: [LicenseController],
  providers: [{ provide: LicenseMonitor, useFactory: (config: AdminApiConfig) => new LicenseMonitor(config.license), inject: [AdminApiConfig] }, LicenseService, LicenseUploadService, RateLimitGuard],
  exports: [LicenseService],
})
export class LicenseModule {}
