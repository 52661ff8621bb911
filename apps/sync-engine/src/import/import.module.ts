import { Module } from '@nestjs/common';
import { ConnectorsModule } from '../connectors/connectors.module';
import { ImportRunner } from './import-runner.service';

@Module({ imports: [ConnectorsModule], providers: [ImportRunner], exports: [ImportRunner] })
export class ImportModule {}
