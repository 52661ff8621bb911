import { Module } from '@nestjs/common';
import { EngineIdentity } from './engine-identity';
import { EngineRegistryService } from './engine-registry.service';

@Module({
  providers: [EngineRegistryService, { provide: EngineIdentity, useExisting: EngineRegistryService }],
  exports: [EngineRegistryService, EngineIdentity],
})
export class RegistryModule {}
