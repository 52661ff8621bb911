import { Module } from '@nestjs/common';
import { SecretStore } from '@identitymesh/secrets';
import { RelayAgentConfig } from '../config/relay-agent.config';
import { createRelaySecretStore } from './relay-secrets';

@Module({
  providers: [{ provide: SecretStore, useFactory: (config: RelayAgentConfig) => createRelaySecretStore(config), inject: [RelayAgentConfig] }],
  exports: [SecretStore],
})
export class RelaySecretsModule {}
