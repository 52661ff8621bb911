import { Module } from '@nestjs/common';
import { ConnectorObjectsController } from './connector-objects.controller';
import { ConnectorObjectsService } from './connector-objects.service';

@Module({ controllers: [ConnectorObjectsController], providers: [ConnectorObjectsService] })
export class ConnectorObjectsModule {}
