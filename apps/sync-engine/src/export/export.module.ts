import { Module } from '@nestjs/common';
import { ConnectorsModule } from '../connectors/connectors.module';
import { ImportModule } from '../import/import.module';
import { ConfirmingImportRunner } from './confirming-import-runner.service';
import { ExportRunner } from './export-runner.service';

@Module({ imports: [ConnectorsModule, ImportModule], providers: [ExportRunner, ConfirmingImportRunner], exports: [ExportRunner, ConfirmingImportRunner] })
export class ExportModule {}
