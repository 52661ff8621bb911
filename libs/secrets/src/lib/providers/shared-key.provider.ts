import { readFile } from 'node:fs/promises';
import type { ProtectedSecret, SecretProvider } from '../secret-provider';
import { SecretProviderUnavailableError } from '../secret.errors';
import { EnvelopeKey, KEY_BYTES, keyFingerprint, openEnvelope, sealEnvelope } from '../envelope/envelope';

export interface SharedKeyProviderOptions {
  /** A file holding the key as base64 text (`openssl rand -base64 32`). */
  keyFile?: string;
  /** The key as base64 text, for deployments that inject it through the environment. */
  keyBase64?: string;
}

/**
 * The same envelope as the host provider, under a key the operator gives to
 * every host: a database moved or shared between hosts opens on each of them
 * without re-entering any secret.
 */
export class SharedKeyProvider implements SecretProvider {
  readonly name = 'shared-key' as const;
  private loading?: Promise<EnvelopeKey>;

  constructor(private readonly options: SharedKeyProviderOptions) {}

  async currentKeyId(): Promise<string> {
    return (await this.key()).id;
  }

  async protect(reference: string, version: number, value: string): Promise<ProtectedSecret> {
    const key = await this.key();
    return { ciphertext: sealEnvelope(value, key, { reference, version }), keyId: key.id };
  }

  async unprotect(reference: string, version: number, stored: ProtectedSecret): Promise<string> {
    return openEnvelope(stored.ciphertext, await this.key(), { reference, version });
  }

  private key(): Promise<EnvelopeKey> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<EnvelopeKey> {
    const { keyFile, keyBase64 } = this.options;
    if (keyFile && keyBase64 !== undefined) {
      throw unavailable('both IM_SECRETS_SHARED_KEY_FILE and IM_SECRETS_SHARED_KEY are set; set only one');
    }
    let text: string;
    let source: string;
    if (keyFile) {
      source = `IM_SECRETS_SHARED_KEY_FILE (${keyFile})`;
      try {
        text = await readFile(keyFile, 'utf8');
      } catch (error) {
        throw unavailable(`${source} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
      }
    } else if (keyBase64 !== undefined) {
      source = 'IM_SECRETS_SHARED_KEY';
      text = keyBase64;
    } else {
      throw unavailable('no shared key is configured: set IM_SECRETS_SHARED_KEY_FILE (a file holding the base64 key) or IM_SECRETS_SHARED_KEY');
    }
    const key = decodeSharedKey(text, source);
    return { id: keyFingerprint('shared', key), key, provider: 'shared-key' };
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a shared key given as base64 text. The messages describe the value
 * (its length, that it is not base64) and never repeat it.
 */
export function decodeSharedKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (trimmed === '') throw unavailable(`${source} is empty; make a key with "openssl rand -base64 32"`);
  if (!BASE64.test(trimmed)) throw unavailable(`${source} is not base64 text; make a key with "openssl rand -base64 32"`);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw unavailable(`${source} decodes to ${key.length} bytes; a shared key is exactly ${KEY_BYTES} bytes ("openssl rand -base64 32")`);
  }
  return key;
}

function unavailable(problem: string): SecretProviderUnavailableError {
  return new SecretProviderUnavailableError('shared-key', problem);
}
