import { Module } from '@nestjs/common';
import { RelaysModule } from '../relays/relays.module';
import { ConnectorTypes } from './connector-types.service';
import { ConnectorsController } from './connectors.controller';
import { ConnectorsService } from './connectors.service';

@Module({
  imports: [RelaysModule],
  controllers: [ConnectorsController],
  providers: [ConnectorTypes, ConnectorsService],
  exports: [ConnectorTypes],
})
export class ConnectorsModule {}
