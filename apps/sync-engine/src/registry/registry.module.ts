import { Module } from '@nestjs/common';
import { EngineRegistryService } from './engine-registry.service';

@Module({ providers: [EngineRegistryService], exports: [EngineRegistryService] })
export class RegistryModule {}
