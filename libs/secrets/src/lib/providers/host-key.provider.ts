import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProtectedSecret, SecretProvider } from '../secret-provider';
import { SecretProviderUnavailableError } from '../secret.errors';
import { EnvelopeKey, KEY_BYTES, keyFingerprint, openEnvelope, sealEnvelope } from '../envelope/envelope';
import { HostKeyProtector, loadDpapiProtector, plainFileProtector } from './host-key-protector';

/** Where the host key lives unless IM_SECRETS_HOST_KEY_FILE says otherwise. */
export function defaultHostKeyFile(dataDir: string): string {
  return join(dataDir, 'keys', 'secrets-host.key');
}

export interface HostKeyProviderOptions {
  /** The key file; created on first use. */
  keyFile: string;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** How the key is kept in the file. @default DPAPI on win32, file permissions elsewhere */
  protector?: HostKeyProtector;
}

/**
 * Envelope encryption under a key bound to this host. Blobs travel with the
 * database; the key file does not, so a blob read on another host fails with
 * a SecretUnavailableError that says to re-provision or rewrap.
 */
export class HostKeyProvider implements SecretProvider {
  readonly name = 'host' as const;
  private loading?: Promise<EnvelopeKey>;

  constructor(private readonly options: HostKeyProviderOptions) {}

  get keyFile(): string {
    return this.options.keyFile;
  }

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
    // Loaded once per process; a failed load is retried on the next call (the operator may fix the file meanwhile).
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<EnvelopeKey> {
    const platform = this.options.platform ?? process.platform;
    const protector = this.options.protector ?? (platform === 'win32' ? await loadDpapiProtector() : plainFileProtector);
    const key = await readOrCreateHostKey(this.options.keyFile, protector);
    return { id: keyFingerprint('host', key), key, provider: 'host' };
  }
}

/**
 * Reads the host key, creating it when the file does not exist yet. Two
 * processes starting together both end up with the one key that reached the
 * final name first: each writes a complete temp file and hard-links it into
 * place, and linking fails (instead of replacing, as rename would) when the
 * name is taken.
 */
export async function readOrCreateHostKey(keyFile: string, protector: HostKeyProtector): Promise<Buffer> {
  const existing = await readKeyFile(keyFile, protector);
  if (existing) return existing;
  await createKeyFile(keyFile, protector);
  const created = await readKeyFile(keyFile, protector);
  if (!created) throw unavailable(keyFile, 'it vanished right after it was created');
  return created;
}

async function readKeyFile(keyFile: string, protector: HostKeyProtector): Promise<Buffer | undefined> {
  let info;
  try {
    info = await stat(keyFile);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw unavailable(keyFile, `it cannot be read (${errorCode(error) ?? 'unknown error'})`);
  }
  if (!info.isFile()) throw unavailable(keyFile, 'it is not a regular file');
  if (protector.requiresOwnerOnlyMode && (info.mode & 0o077) !== 0) {
    throw unavailable(
      keyFile,
      `its permissions ${(info.mode & 0o777).toString(8).padStart(4, '0')} let other users read or change it; ` +
        `make it owner-only with "chmod 600 ${keyFile}" (and check who could have copied it)`,
    );
  }
  let stored: Buffer;
  try {
    stored = await readFile(keyFile);
  } catch (error) {
    throw unavailable(keyFile, `it cannot be read (${errorCode(error) ?? 'unknown error'})`);
  }
  const key = await protector.unprotect(stored);
  if (key.length !== KEY_BYTES) {
    throw unavailable(keyFile, `it holds ${key.length} bytes where a host key has ${KEY_BYTES} (it was truncated or replaced)`);
  }
  return key;
}

async function createKeyFile(keyFile: string, protector: HostKeyProtector): Promise<void> {
  try {
    await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unavailable(keyFile, `its directory cannot be created (${errorCode(error) ?? 'unknown error'})`);
  }
  const key = randomBytes(KEY_BYTES);
  const stored = await protector.protect(key);
  key.fill(0);
  const temp = `${keyFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(stored);
      // On disk before it gets its final name, so a crash never leaves a short key file behind.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, keyFile);
  } catch (error) {
    // EEXIST: another process created the key first; the caller reads that one.
    if (errorCode(error) !== 'EEXIST') throw unavailable(keyFile, `it cannot be created (${errorCode(error) ?? 'unknown error'})`);
  } finally {
    await unlink(temp).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw unavailable(keyFile, `the temporary file ${temp} cannot be removed`);
    });
  }
}

function unavailable(keyFile: string, problem: string): SecretProviderUnavailableError {
  return new SecretProviderUnavailableError('host', `host key file ${keyFile}: ${problem}`);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
