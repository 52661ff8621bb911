import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { LeaseService } from './lease.service';

@Module({ imports: [RegistryModule], providers: [LeaseService], exports: [LeaseService] })
export class LeasesModule {}
