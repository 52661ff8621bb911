import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';

/** A public key the product accepts license signatures from. */
export interface TrustedKey {
  /** {@link keyIdOf} the key; licenses name the key that signed them by this id. */
  keyId: string;
  publicKey: KeyObject;
  /** Where the key came from (a file path, or "inline"), for messages. */
  source: string;
}

/** A trust entry that can't be used; `entry` is the text as configured. */
export class TrustedKeyError extends Error {
  constructor(
    readonly entry: string,
    readonly problem: string,
  ) {
    super(`${entry}: ${problem}`);
    this.name = 'TrustedKeyError';
  }
}

/**
 * The key id: the first 16 hex digits of the SHA-256 of the key's SPKI DER
 * encoding. It names a key in messages and lets a verifier pick the right key
 * out of several; it proves nothing by itself (the signature does).
 */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** The base64 SPKI DER form of a public key: one line, fit for an environment variable. */
export function publicKeyToBase64(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

export interface TrustedKeyReadOptions {
  /** Relative file entries resolve against this folder. */
  baseDir: string;
  /** Reads a file, or returns undefined when there is none (injected by tests). */
  readFile: (path: string) => string | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * Reads a comma-separated list of trust entries (the syntax of
 * `IM_LICENSE_PUBLIC_KEYS` and of the license tool's `--public-key`). Each entry
 * is either the path of a PEM file holding one or more public keys, or one
 * public key as base64 SPKI DER. Only Ed25519 public keys are accepted; a
 * private key is refused, because the product must never hold one.
 */
export function parseTrustedKeys(list: string | undefined, options: TrustedKeyReadOptions): TrustedKey[] {
  const entries = (list ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const keys = entries.flatMap((entry) => readTrustEntry(entry, options));
  // The same key listed twice (a file and its base64) is one key.
  return keys.filter((key, index) => keys.findIndex((k) => k.keyId === key.keyId) === index);
}

function readTrustEntry(entry: string, options: TrustedKeyReadOptions): TrustedKey[] {
  const path = isAbsolute(entry) ? entry : resolve(options.baseDir, entry);
  let text: string | undefined;
  try {
    text = options.readFile(path);
  } catch (error) {
    throw new TrustedKeyError(entry, `cannot be read (${(error as Error).message})`);
  }
  if (text !== undefined) return keysFromPem(entry, path, text);
  if (BASE64.test(entry) && entry.length >= 40) {
    return [{ keyId: '', publicKey: ed25519PublicKey(entry, () => createPublicKey({ key: Buffer.from(entry, 'base64'), format: 'der', type: 'spki' })), source: 'inline' }].map(withKeyId);
  }
  throw new TrustedKeyError(entry, `is neither a readable PEM file (nothing at ${path}) nor a base64 Ed25519 public key (SPKI DER)`);
}

function keysFromPem(entry: string, path: string, text: string): TrustedKey[] {
  if (/PRIVATE KEY-----/.test(text)) {
    throw new TrustedKeyError(entry, 'holds a private key; the product trusts public keys only (give it the vendor-public.pem that keygen wrote)');
  }
  const blocks = text.match(PEM_PUBLIC_KEY) ?? [];
  if (blocks.length === 0) throw new TrustedKeyError(entry, `${path} holds no "-----BEGIN PUBLIC KEY-----" block`);
  return blocks.map((pem) => withKeyId({ keyId: '', publicKey: ed25519PublicKey(entry, () => createPublicKey(pem)), source: path }));
}

function ed25519PublicKey(entry: string, parse: () => KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = parse();
  } catch (error) {
    throw new TrustedKeyError(entry, `is not a public key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TrustedKeyError(entry, `is a ${key.asymmetricKeyType ?? 'unknown'} key; licenses are signed with Ed25519`);
  }
  return key;
}

function withKeyId(key: TrustedKey): TrustedKey {
  return { ...key, keyId: keyIdOf(key.publicKey) };
}
