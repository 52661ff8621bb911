import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyRingPurpose } from '@identitymesh/domain';

/**
 * The first part of every token. A new layout gets a new prefix; this build
 * refuses other prefixes as `unsupported-version` rather than misreading them.
 */
export const TOKEN_VERSION = 'v1';
/** What the `algorithm` column records for keys that v1 tokens use. */
export const KEY_RING_ALGORITHM = 'A256GCM+HKDF-SHA256';
export const KEY_MATERIAL_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const EXPIRY_BYTES = 8;

/** Key ids are generated as UUIDs; anything dot-free and short enough is read, so a later id scheme stays compatible. */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const VERSION = /^v[0-9]+$/;

export type ParsedToken =
  | { ok: true; keyId: string; iv: Buffer; ciphertext: Buffer; tag: Buffer }
  | { ok: false; problem: 'malformed' | 'unsupported-version' };

/**
 * The AES-256-GCM key for one purpose of one key. The material is a key of
 * its own purpose already; deriving per purpose anyway means that even a row
 * whose purpose column was edited can't make one purpose's tokens open as
 * another's.
 */
export function deriveTokenKey(material: Buffer, keyId: string, purpose: KeyRingPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', material, Buffer.from(keyId, 'utf8'), Buffer.from(`identitymesh key-ring ${TOKEN_VERSION} ${purpose}`, 'utf8'), 32));
}

/**
 * `v1.<kid>.<iv>.<ciphertext>.<tag>`, base64url parts. The plaintext is the
 * expiry (8 bytes, ms since the epoch, 0 for none) followed by the payload;
 * the version, purpose and kid are the associated data, so none of them can
 * be changed without the tag failing.
 */
export function sealToken(keyId: string, tokenKey: Buffer, purpose: KeyRingPurpose, payload: Buffer, expiresAt: Date | undefined): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', tokenKey, iv);
  cipher.setAAD(associatedData(purpose, keyId));
  const expiry = Buffer.alloc(EXPIRY_BYTES);
  expiry.writeBigUInt64BE(BigInt(expiresAt ? expiresAt.getTime() : 0));
  const ciphertext = Buffer.concat([cipher.update(expiry), cipher.update(payload), cipher.final()]);
  return [TOKEN_VERSION, keyId, b64(iv), b64(ciphertext), b64(cipher.getAuthTag())].join('.');
}

/** Splits a token without any key. Only canonical base64url is accepted, so no two spellings of one token exist. */
export function parseToken(token: unknown): ParsedToken {
  if (typeof token !== 'string') return { ok: false, problem: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 5) return { ok: false, problem: 'malformed' };
  const [version, keyId, ivPart, ciphertextPart, tagPart] = parts;
  if (version !== TOKEN_VERSION) return { ok: false, problem: VERSION.test(version) ? 'unsupported-version' : 'malformed' };
  if (!KEY_ID.test(keyId)) return { ok: false, problem: 'malformed' };
  const iv = fromCanonicalB64(ivPart);
  const ciphertext = fromCanonicalB64(ciphertextPart);
  const tag = fromCanonicalB64(tagPart);
  if (!iv || !ciphertext || !tag || iv.length !== IV_BYTES || tag.length !== TAG_BYTES || ciphertext.length < EXPIRY_BYTES) {
    return { ok: false, problem: 'malformed' };
  }
  return { ok: true, keyId, iv, ciphertext, tag };
}

/** The payload and expiry, or undefined when the token does not verify under this key for this purpose. */
export function openToken(
  token: Extract<ParsedToken, { ok: true }>,
  tokenKey: Buffer,
  purpose: KeyRingPurpose,
): { payload: Buffer; expiresAt: Date | null } | undefined {
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', tokenKey, token.iv);
    decipher.setAAD(associatedData(purpose, token.keyId));
    decipher.setAuthTag(token.tag);
    plaintext = Buffer.concat([decipher.update(token.ciphertext), decipher.final()]);
  } catch {
    // GCM reports every mismatch (key, purpose, any altered byte) the same way; the caller names it.
    return undefined;
  }
  const expiryMs = Number(plaintext.readBigUInt64BE(0));
  return { payload: plaintext.subarray(EXPIRY_BYTES), expiresAt: expiryMs === 0 ? null : new Date(expiryMs) };
}

/** 32 random bytes: the material of a new key. */
export function newKeyMaterial(): Buffer {
  return randomBytes(KEY_MATERIAL_BYTES);
}

function associatedData(purpose: KeyRingPurpose, keyId: string): Buffer {
  return Buffer.from(`${TOKEN_VERSION}.${purpose}.${keyId}`, 'utf8');
}

function fromCanonicalB64(part: string): Buffer | undefined {
  if (!B64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

const b64 = (bytes: Buffer) => bytes.toString('base64url');
