import { Logger } from '@nestjs/common';
import { ManagedKeyRing, RotatingKeyRing } from '@identitymesh/key-ring';
import { KeyRingRepository } from '@identitymesh/persistence';
import { SecretProviders } from '@identitymesh/secrets';
import type { AdminApiConfig, SessionSettings } from '../config/admin-api.config';
import { SessionCookies } from './session-cookies';
import { SessionTokens } from './session-tokens';

/** Everything browser sign-in needs, or null when it is not configured (`IM_OIDC_CLIENT_ID`). */
export interface BrowserSessions {
  settings: SessionSettings;
  tokens: SessionTokens;
  cookies: SessionCookies;
  keyRing: ManagedKeyRing;
}

export const BROWSER_SESSIONS = Symbol('identitymesh.browser-sessions');

/**
 * The key ring over `IM_KeyRingKeys`, its material sealed by the configured
 * secret provider (the engine's `IM_SECRETS_*`, so both apps open the same
 * keys). Built only with browser sign-in on: without it the Admin API
 * touches no key ring.
 */
export function createBrowserSessions(config: AdminApiConfig, keys: KeyRingRepository): BrowserSessions | null {
  if (!config.sessions) return null;
  const logger = new Logger('KeyRing');
  const keyRing = new RotatingKeyRing({
    keys,
    protector: new SecretProviders(config.secrets).current(),
    settings: config.keyRing,
    log: { info: (message) => logger.log(message), warn: (message) => logger.warn(message) },
  });
  return {
    settings: config.sessions,
    tokens: new SessionTokens(keyRing, config.sessions),
    cookies: new SessionCookies(config.sessions.secureCookie),
    keyRing,
  };
}
