import { Module } from '@nestjs/common';
import { KeyRingRepository } from '@identitymesh/persistence';
import { AdminApiConfig } from '../config/admin-api.config';
import { BROWSER_SESSIONS } from '../sessions/browser-sessions';
import { SessionsModule } from '../sessions/sessions.module';
import { ConnectedRelays } from './connected-relays';
import { EnrollRateLimitGuard } from './enroll-rate-limit.guard';
import { RelayCommandsService } from './relay-commands.service';
import { RelayConnectionTests } from './relay-connection-tests.service';
import { RelayHubAuthenticator } from './relay-hub-auth';
import { RelayHubGateway } from './relay-hub.gateway';
import { RelayItemProgress } from './relay-item-progress.service';
import { createRelayKeyRing, RELAY_KEY_RING } from './relay-key-ring';
import { RelayMetrics } from './relay-metrics.service';
import { RelayWorkService } from './relay-work.service';
import { RelaysController } from './relays.controller';
import { RelaysService } from './relays.service';

/**
 * Relays: the `/api/relays` routes and the hub (socket.io namespace `/hub`
 * on the Admin API's HTTP server) where relay agents and engines connect.
 */
@Module({
  imports: [SessionsModule],
  controllers: [RelaysController],
  providers: [
    { provide: RELAY_KEY_RING, useFactory: createRelayKeyRing, inject: [BROWSER_SESSIONS, AdminApiConfig, KeyRingRepository] },
    { provide: ConnectedRelays, useFactory: () => new ConnectedRelays() },
    RelayHubAuthenticator,
    RelayItemProgress,
    RelayWorkService,
    RelayHubGateway,
    RelaysService,
    RelayCommandsService,
    RelayConnectionTests,
    RelayMetrics,
    EnrollRateLimitGuard,
  ],
  exports: [RelayHubGateway, RELAY_KEY_RING, RelayConnectionTests],
})
export class RelaysModule {}
