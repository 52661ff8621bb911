import { Logger } from '@nestjs/common';
import { KeyRing, RotatingKeyRing } from '@identitymesh/key-ring';
import { KeyRingRepository } from '@identitymesh/persistence';
import { SecretProviders } from '@identitymesh/secrets';
import type { AdminApiConfig } from '../config/admin-api.config';
import type { BrowserSessions } from '../sessions/browser-sessions';

export const RELAY_KEY_RING = Symbol('identitymesh.relay-key-ring');

/**
 * The key ring the hub checks engine tokens with (purpose `relay-token`):
 * the sessions' ring when browser sign-in is on, so the process holds one
 * ring over `IM_KeyRingKeys`; otherwise the same ring built for the hub
 * alone. Its material is sealed by the configured secret provider, which is
 * how the engine and the Admin API open the same keys.
 */
export function createRelayKeyRing(sessions: BrowserSessions | null, config: AdminApiConfig, keys: KeyRingRepository): KeyRing {
  if (sessions) return sessions.keyRing;
  // Built at the first engine handshake: a secret provider that cannot be used on this host then fails that handshake, not the Admin API's start.
  let ring: KeyRing | null = null;
  const open = (): KeyRing => {
    if (!ring) {
      const logger = new Logger('KeyRing');
      ring = new RotatingKeyRing({
        keys,
        protector: new SecretProviders(config.secrets).current(),
        settings: config.keyRing,
        log: { info: (message) => logger.log(message), warn: (message) => logger.warn(message) },
      });
    }
    return ring;
  };
  return {
    protect: (purpose, payload, options) => open().protect(purpose, payload, options),
    unprotect: (purpose, token) => open().unprotect(purpose, token),
  };
}
