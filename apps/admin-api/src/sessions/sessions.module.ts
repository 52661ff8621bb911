import { Module } from '@nestjs/common';
import { KeyRingRepository } from '@identitymesh/persistence';
import { OIDC_TOKEN_VERIFIER, OidcTokenVerifier } from '../auth/oidc-token-verifier';
import { AdminApiConfig } from '../config/admin-api.config';
import { BROWSER_SESSIONS, createBrowserSessions } from './browser-sessions';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

/**
 * Browser sign-in and its session cookies. Exports the OIDC verifier and the
 * sessions so the authenticator checks bearer tokens and session cookies
 * with the same discovery document, key cache and key ring.
 */
@Module({
  controllers: [SessionsController],
  providers: [
    { provide: OIDC_TOKEN_VERIFIER, useFactory: (config: AdminApiConfig) => (config.oidc ? new OidcTokenVerifier(config.oidc) : null), inject: [AdminApiConfig] },
    { provide: BROWSER_SESSIONS, useFactory: createBrowserSessions, inject: [AdminApiConfig, KeyRingRepository] },
    SessionsService,
  ],
  exports: [OIDC_TOKEN_VERIFIER, BROWSER_SESSIONS],
})
export class SessionsModule {}
