import { Module } from '@nestjs/common';
import { ConnectorTypes } from './connector-types.service';
import { ConnectorsController } from './connectors.controller';
import { ConnectorsService } from './connectors.service';

@Module({
  controllers: [ConnectorsController],
  providers: [ConnectorTypes, ConnectorsService],
  exports: [ConnectorTypes],
})
export class ConnectorsModule {}
