import { createHash, randomUUID } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConnectorError } from '../connector';

/** A CSV watermark: the content hash of the bytes an import read. */
export function contentWatermark(digestHex: string): string {
  return `sha256:${digestHex}`;
}

/** The watermark of a file, read in chunks; `undefined` when it does not exist. */
export async function hashFile(path: string): Promise<string | undefined> {
  const handle = await openForReading(path);
  if (!handle) return undefined;
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return contentWatermark(hash.digest('hex'));
  } finally {
    await handle.close();
  }
}

/** Opens the file, or returns `undefined` when it does not exist; other failures become ConnectorErrors. */
export async function openForReading(path: string) {
  try {
    return await open(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileError(error, path, 'read');
  }
}

/**
 * Replaces the file's content in one step: the bytes go to a temporary file
 * in the same directory (a rename is atomic only within one file system),
 * which is flushed to disk and then renamed over the file. A reader sees the
 * old content or the new one, never a mix, and a crash leaves the old file.
 */
export async function writeFileAtomically(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomUUID()}.tmp`);
  let mode: number | undefined;
  try {
    mode = (await stat(path)).mode & 0o7777;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw fileError(error, path, 'write');
  }
  try {
    const handle = await open(temporary, 'wx');
    try {
      if (mode !== undefined) await handle.chmod(mode);
      for (const chunk of chunks) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw fileError(error, path, 'write');
  }
  await syncDirectory(directory);
}

/** Makes the rename itself durable; Windows has no directory handles to flush. */
async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The errno code of a Node.js system error. Not `instanceof Error`: errors from Node's own modules may come from another realm (a jest sandbox). */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
}

/** A file system failure as the connector error an operator can act on. */
export function fileError(error: unknown, path: string, action: 'read' | 'write'): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const code = errorCode(error);
  const reason = messageOf(error);
  switch (code) {
    case 'ENOENT':
      return new ConnectorError('CONNECTOR_UNREACHABLE', `Cannot ${action} ${path}: it (or its directory) does not exist`, true);
    case 'EACCES':
    case 'EPERM':
      return new ConnectorError('CONNECTOR_AUTH_FAILED', `Cannot ${action} ${path}: permission denied`);
    case 'EISDIR':
    case 'ENOTDIR':
      return new ConnectorError('CONNECTOR_CONFIG_INVALID', `Cannot ${action} ${path}: not a file path (${code})`);
    case 'ENOSPC':
    case 'EBUSY':
    case 'EAGAIN':
    case 'EMFILE':
      return new ConnectorError('SYSTEM_BUSY', `Cannot ${action} ${path}: ${reason}`, true);
    default:
      return new ConnectorError('SYSTEM_ERROR', `Cannot ${action} ${path}: ${reason}`, true);
  }
}
