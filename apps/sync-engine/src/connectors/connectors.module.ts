import { Module } from '@nestjs/common';
import { SecretRepository } from '@identitymesh/persistence';
import { SecretProviders, SecretStore } from '@identitymesh/secrets';
import type { SecretResolver } from '@identitymesh/connector-sdk';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { RelaysModule } from '../relays/relays.module';
import { BUILT_IN_CONNECTOR_FACTORIES, CONNECTOR_FACTORIES, ConnectorHost, SECRET_RESOLVER } from './connector-host.service';

@Module({
  imports: [RelaysModule],
  providers: [
    { provide: CONNECTOR_FACTORIES, useValue: BUILT_IN_CONNECTOR_FACTORIES },
    {
      provide: SECRET_RESOLVER,
      useFactory: (config: SyncEngineConfig, records: SecretRepository): SecretResolver => {
        const store = new SecretStore(records, new SecretProviders(config.secrets));
        return { resolve: (reference) => store.get(reference) };
      },
      inject: [SyncEngineConfig, SecretRepository],
    },
    ConnectorHost,
  ],
  exports: [ConnectorHost],
})
export class ConnectorsModule {}
