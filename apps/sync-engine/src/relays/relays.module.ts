import { Logger, Module } from '@nestjs/common';
import { KeyRing, RotatingKeyRing } from '@identitymesh/key-ring';
import { KeyRingRepository } from '@identitymesh/persistence';
import { SecretProviders } from '@identitymesh/secrets';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { RegistryModule } from '../registry/registry.module';
import { RELAY_KEY_RING, RelayHubLink } from './relay-hub-link.service';
import { RELAYED_CONNECTORS, RelayedConnectors } from './relayed-connectors.service';

/**
 * The key ring over `IM_KeyRingKeys`, its material sealed by the engine's
 * secret provider (the Admin API opens the same keys with the same
 * `IM_SECRETS_*`). Built only with IM_HUB_URL: without a hub to dial the
 * engine touches no key ring.
 */
function createRelayKeyRing(config: SyncEngineConfig, keys: KeyRingRepository): KeyRing | null {
  if (!config.relays.hubUrl) return null;
  const logger = new Logger('KeyRing');
  return new RotatingKeyRing({
    keys,
    protector: new SecretProviders(config.secrets).current(),
    settings: config.keyRing,
    log: { info: (message) => logger.log(message), warn: (message) => logger.warn(message) },
  });
}

/** Connectors that run on relays: their work queue items, and the engine's link to the hub. */
@Module({
  imports: [RegistryModule],
  providers: [
    { provide: RELAY_KEY_RING, useFactory: createRelayKeyRing, inject: [SyncEngineConfig, KeyRingRepository] },
    RelayHubLink,
    RelayedConnectors,
    { provide: RELAYED_CONNECTORS, useExisting: RelayedConnectors },
  ],
  exports: [RELAYED_CONNECTORS, RelayHubLink],
})
export class RelaysModule {}
