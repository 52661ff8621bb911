import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `im_<prefix>_<secret>`: `prefix` (12 hex characters)
 * finds the key's row and is safe to show and log; `secret` (32 random
 * bytes, base64url) is shown once, at creation, and stored only as a scrypt
 * hash. The `im_` start lets secret scanners and the Admin API tell a key
 * from a JWT.
 */
const KEY_PATTERN = /^im_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** scrypt cost: about 50 ms and 16 MiB per verification; a verified key is remembered, so that is paid once per key and process. */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 } as const;

export interface ApiKeyParts {
  prefix: string;
  secret: string;
}

export function newApiKey(): ApiKeyParts & { token: string } {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, token: `im_${prefix}_${secret}` };
}

/** The parts of a presented key, or null when it is not shaped like one. */
export function parseApiKey(token: string): ApiKeyParts | null {
  const match = KEY_PATTERN.exec(token);
  return match ? { prefix: match[1] as string, secret: match[2] as string } : null;
}

function derive(secret: string, salt: Buffer, params: { N: number; r: number; p: number }, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, keyLength, { N: params.N, r: params.r, p: params.p, maxmem: 64 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$N$r$p$<salt>$<hash>`: the parameters travel with the hash, so they can be raised later without breaking existing keys. */
export async function hashApiKeySecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt, SCRYPT, SCRYPT.keyLength);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyApiKeySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) }, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A fingerprint of a presented secret for the in-memory cache of verified keys; the secret itself is never kept. */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}
