import { Module } from '@nestjs/common';
import { LicenseMonitor } from '@identitymesh/license';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { LicenseGateService } from './license-gate.service';

@Module({
  providers: [{ provide: LicenseMonitor, useFactory: (config: SyncEngineConfig) => new LicenseMonitor(config.license), inject: [SyncEngineConfig] }, LicenseGateService],
  exports: [LicenseGateService],
})
export class LicenseModule {}
