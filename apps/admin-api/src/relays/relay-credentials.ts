import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ENROLLMENT_TOKEN_PREFIX, RELAY_CREDENTIAL_PREFIX } from '@identitymesh/connector-sdk';

/**
 * The two secrets of a relay's life, both `<prefix><id>_<secret>`:
 *
 * - the enrollment token `ime_<enrollment id>_<secret>`, one-time and
 *   short-lived; stored as a plain sha256 of the whole token (32 random bytes
 *   cannot be guessed, so a slow hash would only cost the hub time);
 * - the relay credential `imr_<relay id>_<secret>`, long-lived; its secret is
 *   stored as the salted scrypt hash API keys use, found by the relay id.
 *
 * Ids are the lower-case UUIDs the database holds, so a token whose id is
 * spelled otherwise is refused before any lookup.
 */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const SECRET = '[A-Za-z0-9_-]{43}';
const ENROLLMENT_TOKEN = new RegExp(`^${ENROLLMENT_TOKEN_PREFIX}(${UUID})_(${SECRET})$`);
const RELAY_CREDENTIAL = new RegExp(`^${RELAY_CREDENTIAL_PREFIX}(${UUID})_(${SECRET})$`);

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A new enrollment: its id, the token shown once to the operator, and the hash that is stored. */
export function newEnrollmentToken(): { id: string; token: string; tokenHash: string } {
  const id = randomUUID();
  const token = `${ENROLLMENT_TOKEN_PREFIX}${id}_${newSecret()}`;
  return { id, token, tokenHash: enrollmentTokenHash(token) };
}

/** The enrollment a presented token names, or null when it is not shaped like a token. */
export function parseEnrollmentToken(token: string): { enrollmentId: string } | null {
  const match = ENROLLMENT_TOKEN.exec(token);
  return match ? { enrollmentId: match[1] as string } : null;
}

export function enrollmentTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new relay's credential; only `secret` is hashed and stored (the id finds the row). */
export function newRelayCredential(relayId: string): { secret: string; credential: string } {
  const secret = newSecret();
  return { secret, credential: `${RELAY_CREDENTIAL_PREFIX}${relayId}_${secret}` };
}

/** The parts of a presented relay credential, or null when it is not shaped like one. */
export function parseRelayCredential(credential: string): { relayId: string; secret: string } | null {
  const match = RELAY_CREDENTIAL.exec(credential);
  return match ? { relayId: match[1] as string, secret: match[2] as string } : null;
}
