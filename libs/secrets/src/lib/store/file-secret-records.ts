import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { DomainError, SECRET_PROVIDERS } from '@identitymesh/domain';
import type { SecretRecord, SecretRecords } from '../secret-provider';

/** Where a process without a database keeps its secret records unless told otherwise. */
export function defaultSecretRecordsFile(dataDir: string): string {
  return join(dataDir, 'secrets.json');
}

export interface FileSecretRecordsOptions {
  /** The records file; it and its folder are created on the first write. */
  file: string;
  /** How long a write waits for another process (`main.js secret set` beside the running agent) to finish its own. @default 5000 */
  lockTimeoutMs?: number;
  /** A lock file older than this was left by a process that died mid-write and is taken over. @default 30000 */
  staleLockMs?: number;
}

/** The records file cannot be read or written; the message names the file and what to do. */
export class SecretRecordsFileError extends DomainError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super('SECRET_PROVIDER_UNAVAILABLE', `the secret records file ${file} is not usable: ${reason}`, { file });
  }
}

const recordSchema = z.object({
  reference: z.string().min(1),
  provider: z.enum(SECRET_PROVIDERS),
  ciphertext: z.string().min(1),
  keyId: z.string().min(1),
  version: z.number().int().min(1),
  createdAt: z.iso.datetime(),
  rotatedAt: z.iso.datetime().nullable(),
});
const fileSchema = z.object({ secrets: z.array(recordSchema) });
type StoredRecord = z.infer<typeof recordSchema>;

const LOCK_RETRY_MS = 25;

/**
 * Secret records in one JSON file, for a process that has no database (a
 * relay agent). The file holds only what the provider made of each value
 * (ciphertext and key id), exactly like the `IM_Secrets` table, so the same
 * SecretStore and providers work over it.
 *
 * Every read goes to the file, so a value set by `main.js secret set` is seen
 * by the running agent without a restart. Every write replaces the whole file
 * through a temp file and a rename, so a crash leaves the old or the new
 * content, never half of one; a lock file keeps two processes from losing
 * each other's writes.
 */
export class FileSecretRecords implements SecretRecords {
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  /** Writes of this process, one after the other (the lock file serialises them with other processes). */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FileSecretRecordsOptions) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
    this.staleLockMs = options.staleLockMs ?? 30_000;
  }

  get file(): string {
    return this.options.file;
  }

  async find(reference: string): Promise<SecretRecord | null> {
    return (await this.read()).get(reference) ?? null;
  }

  async list(): Promise<SecretRecord[]> {
    return sorted(await this.read());
  }

  async save(record: SecretRecord): Promise<void> {
    await this.change((rows) => {
      rows.set(record.reference, { ...record });
    });
  }

  async saveAll(records: SecretRecord[]): Promise<void> {
    // One file replacement: all records or none.
    await this.change((rows) => {
      for (const record of records) rows.set(record.reference, { ...record });
    });
  }

  async delete(reference: string): Promise<boolean> {
    return this.change((rows) => rows.delete(reference));
  }

  private async read(): Promise<Map<string, SecretRecord>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return new Map();
      throw new SecretRecordsFileError(this.file, `it cannot be read (${errorCode(error) ?? 'unknown error'})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SecretRecordsFileError(this.file, 'it is not valid JSON (restore it from a backup, or delete it and set the secrets again)');
    }
    const checked = fileSchema.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new SecretRecordsFileError(this.file, `it does not hold secret records (${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'})`);
    }
    return new Map(checked.data.secrets.map((stored) => [stored.reference, fromStored(stored)]));
  }

  private change<T>(apply: (rows: Map<string, SecretRecord>) => T): Promise<T> {
    const next = this.writing.then(() => this.changeLocked(apply));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async changeLocked<T>(apply: (rows: Map<string, SecretRecord>) => T): Promise<T> {
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new SecretRecordsFileError(this.file, `its folder cannot be created (${errorCode(error) ?? 'unknown error'})`);
    }
    const release = await this.lock();
    try {
      // Read under the lock: another process may have written since this one last looked.
      const rows = await this.read();
      const result = apply(rows);
      await this.write(rows);
      return result;
    } finally {
      await release();
    }
  }

  private async write(rows: Map<string, SecretRecord>): Promise<void> {
    const content = `${JSON.stringify({ secrets: sorted(rows).map(toStored) }, null, 2)}\n`;
    const temp = `${this.file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(content, 'utf8');
        // On disk before it takes the file's name, so a crash never leaves a short file behind.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new SecretRecordsFileError(this.file, `it cannot be written (${errorCode(error) ?? 'unknown error'})`);
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockFile = `${this.file}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        const handle = await open(lockFile, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return async () => {
          await unlink(lockFile).catch((error: unknown) => {
            if (errorCode(error) !== 'ENOENT') throw new SecretRecordsFileError(this.file, `its lock file ${lockFile} cannot be removed`);
          });
        };
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw new SecretRecordsFileError(this.file, `its lock file ${lockFile} cannot be created (${errorCode(error) ?? 'unknown error'})`);
      }
      if (await this.isStale(lockFile)) {
        await unlink(lockFile).catch(() => undefined);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new SecretRecordsFileError(this.file, `another process holds its lock file ${lockFile}; if no other process is writing secrets, delete that file`);
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }

  private async isStale(lockFile: string): Promise<boolean> {
    try {
      return Date.now() - (await stat(lockFile)).mtimeMs > this.staleLockMs;
    } catch (error) {
      // Released meanwhile: try again at once.
      if (errorCode(error) === 'ENOENT') return true;
      throw new SecretRecordsFileError(this.file, `its lock file ${lockFile} cannot be read (${errorCode(error) ?? 'unknown error'})`);
    }
  }
}

function sorted(rows: Map<string, SecretRecord>): SecretRecord[] {
  return [...rows.values()].sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
}

function toStored(record: SecretRecord): StoredRecord {
  return {
    reference: record.reference,
    provider: record.provider,
    ciphertext: record.ciphertext,
    keyId: record.keyId,
    version: record.version,
    createdAt: record.createdAt.toISOString(),
    rotatedAt: record.rotatedAt ? record.rotatedAt.toISOString() : null,
  };
}

function fromStored(stored: StoredRecord): SecretRecord {
  return { ...stored, createdAt: new Date(stored.createdAt), rotatedAt: stored.rotatedAt === null ? null : new Date(stored.rotatedAt) };
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
