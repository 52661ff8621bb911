import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretProviderName } from '@identitymesh/domain';
import { SecretUnavailableError } from '../secret.errors';

/** The first segment of every sealed blob; a new layout gets a new prefix, and old blobs still open. */
export const ENVELOPE_FORMAT = 'im1';
export const ENVELOPE_ALGORITHM = 'A256GCM';
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A key-encryption key and the id recorded with every blob sealed under it. */
export interface EnvelopeKey {
  id: string;
  key: Buffer;
  /** The provider the key belongs to; it decides which remedy a failure names. */
  provider: SecretProviderName;
}

/** What a blob is bound to: copied to another reference or version, it no longer opens. */
export interface SecretBinding {
  reference: string;
  version: number;
}

/**
 * The blob's first part. `wk` is the data key sealed under the key-encryption
 * key (ciphertext and tag), `wiv` its IV, `iv` the value's IV.
 */
interface EnvelopeHeader {
  alg: typeof ENVELOPE_ALGORITHM;
  kid: string;
  wiv: string;
  wk: string;
  iv: string;
}

/** `<provider>:<first 16 hex of sha256(key)>`: names a key in `list` and in errors without revealing anything usable. */
export function keyFingerprint(prefix: string, key: Buffer): string {
  return `${prefix}:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * Seals `value` as `im1.<header>.<ciphertext>.<tag>` (base64url parts): a
 * fresh data key encrypts the value (AES-256-GCM, the reference, version and
 * header as associated data), and the key-encryption key wraps the data key
 * (AES-256-GCM, the key id as associated data). Because the header is part of
 * the value's associated data, no header field can be swapped or edited
 * without the value failing to open.
 */
export function sealEnvelope(value: string, kek: EnvelopeKey, binding: SecretBinding): string {
  assertKey(kek);
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const wiv = randomBytes(IV_BYTES);
    const wrap = createCipheriv('aes-256-gcm', kek.key, wiv);
    wrap.setAAD(wrapAad(kek.id));
    const wrapped = Buffer.concat([wrap.update(dataKey), wrap.final(), wrap.getAuthTag()]);
    const iv = randomBytes(IV_BYTES);
    const header: EnvelopeHeader = { alg: ENVELOPE_ALGORITHM, kid: kek.id, wiv: b64(wiv), wk: b64(wrapped), iv: b64(iv) };
    const headerPart = b64(Buffer.from(JSON.stringify(header), 'utf8'));
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    cipher.setAAD(valueAad(binding, headerPart));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return [ENVELOPE_FORMAT, headerPart, b64(ciphertext), b64(cipher.getAuthTag())].join('.');
  } finally {
    dataKey.fill(0);
  }
}

/** The key id a blob names, or undefined when it is not a readable envelope (for `list` and rewrap planning). */
export function envelopeKeyId(blob: string): string | undefined {
  const parsed = parseEnvelope(blob);
  return parsed.ok ? parsed.header.kid : undefined;
}

/**
 * Opens what `sealEnvelope` made. Every failure — another key, an edited or
 * truncated blob, another reference or version, anything that is not a
 * blob — is a SecretUnavailableError naming the reference and what to do; the
 * crypto library's own errors never leave this function.
 */
export function openEnvelope(blob: string, kek: EnvelopeKey, binding: SecretBinding): string {
  assertKey(kek);
  const parsed = parseEnvelope(blob);
  if (!parsed.ok) throw damaged(binding.reference, 'the stored value is not a sealed IdentityMesh secret (it was truncated or altered)');
  const { header, headerPart, ciphertext, tag } = parsed;
  if (header.kid !== kek.id) throw foreignKey(binding.reference, header.kid, kek);

  let dataKey: Buffer;
  try {
    const wrapped = fromB64(header.wk);
    const unwrap = createDecipheriv('aes-256-gcm', kek.key, fromB64(header.wiv));
    unwrap.setAAD(wrapAad(kek.id));
    unwrap.setAuthTag(wrapped.subarray(KEY_BYTES));
    dataKey = Buffer.concat([unwrap.update(wrapped.subarray(0, KEY_BYTES)), unwrap.final()]);
  } catch {
    // The key id matched, so the key is right and the wrapped data key was altered.
    throw damaged(binding.reference, `its data key does not open under key ${kek.id} (the stored value was altered)`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, fromB64(header.iv));
    decipher.setAAD(valueAad(binding, headerPart));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw damaged(
      binding.reference,
      `it does not verify as version ${binding.version} of ${binding.reference} (it was altered, or copied from another reference or version)`,
    );
  } finally {
    dataKey.fill(0);
  }
}

type ParsedEnvelope =
  | { ok: true; header: EnvelopeHeader; headerPart: string; ciphertext: Buffer; tag: Buffer }
  | { ok: false };

const B64URL = /^[A-Za-z0-9_-]*$/;

function parseEnvelope(blob: string): ParsedEnvelope {
  const parts = typeof blob === 'string' ? blob.split('.') : [];
  if (parts.length !== 4 || parts[0] !== ENVELOPE_FORMAT || !parts.slice(1).every((p) => B64URL.test(p))) return { ok: false };
  const [, headerPart, ciphertextPart, tagPart] = parts;
  let header: unknown;
  try {
    header = JSON.parse(fromB64(headerPart).toString('utf8'));
  } catch {
    return { ok: false };
  }
  if (!isHeader(header)) return { ok: false };
  const tag = fromB64(tagPart);
  if (tag.length !== TAG_BYTES) return { ok: false };
  return { ok: true, header, headerPart, ciphertext: fromB64(ciphertextPart), tag };
}

function isHeader(value: unknown): value is EnvelopeHeader {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  const isB64 = (v: unknown, bytes: number) => typeof v === 'string' && B64URL.test(v) && fromB64(v).length === bytes;
  return (
    h['alg'] === ENVELOPE_ALGORITHM &&
    typeof h['kid'] === 'string' &&
    h['kid'].length > 0 &&
    isB64(h['wiv'], IV_BYTES) &&
    isB64(h['wk'], KEY_BYTES + TAG_BYTES) &&
    isB64(h['iv'], IV_BYTES)
  );
}

function assertKey(kek: EnvelopeKey): void {
  // A programming error, not a stored-secret problem: the providers always hand over 32 bytes.
  if (kek.key.length !== KEY_BYTES) throw new Error(`a key-encryption key must be ${KEY_BYTES} bytes`);
}

function wrapAad(kid: string): Buffer {
  return Buffer.from(`${ENVELOPE_FORMAT}:wrap:${kid}`, 'utf8');
}

function valueAad(binding: SecretBinding, headerPart: string): Buffer {
  return Buffer.from(JSON.stringify([ENVELOPE_FORMAT, binding.reference, binding.version, headerPart]), 'utf8');
}

const b64 = (bytes: Buffer) => bytes.toString('base64url');
const fromB64 = (text: string) => Buffer.from(text, 'base64url');

function damaged(reference: string, reason: string): SecretUnavailableError {
  return new SecretUnavailableError(reference, reason, `Set it again with "secretscli set ${reference}" (or restore IM_Secrets from a backup).`);
}

function foreignKey(reference: string, sealedUnder: string, kek: EnvelopeKey): SecretUnavailableError {
  const reason = `it was sealed under key ${sealedUnder}, and the ${kek.provider} key here is ${kek.id}`;
  if (kek.provider === 'host') {
    return new SecretUnavailableError(
      reference,
      reason,
      `Host keys do not travel with the database: re-provision it on this host ("secretscli set ${reference}"), ` +
        `or copy the key file of the host that holds key ${sealedUnder} here and run "secretscli rewrap --to host --from-host-key-file <copy>", ` +
        `or on that host run "secretscli rewrap --to shared-key" and give this host the same shared key.`,
    );
  }
  return new SecretUnavailableError(
    reference,
    reason,
    `Give this host the shared key whose id is ${sealedUnder} (IM_SECRETS_SHARED_KEY_FILE or IM_SECRETS_SHARED_KEY), ` +
      `or re-provision it ("secretscli set ${reference}"); after a key change, run "secretscli rewrap --to shared-key --from-shared-key-file <old key file>".`,
  );
}
