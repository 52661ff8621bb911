import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { IdentityGeneratorError } from './generator.errors';

export interface WriteOptions {
  /** End the stream after the last record, and resolve once it has finished. @default true */
  end?: boolean;
  /** Characters gathered before one `write()`: large enough to keep writes few, small enough to bound memory. @default 65536 */
  chunkSize?: number;
}

export interface WriteResult {
  /** Data records written, the header row not counted. */
  records: number;
  bytes: number;
  /** Characters of the longest record, header included, line ending not: what a reader's record length limit must allow. */
  longestRecord: number;
  /** Calls to `write()`: a streamed file of any size takes many. */
  writes: number;
}

const DEFAULT_CHUNK_SIZE = 64 * 1024;

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    // A stream destroyed without an error never drains; waiting would hang the caller.
    const onClose = (): void => {
      cleanup();
      reject(new IdentityGeneratorError('GENERATOR_OUTPUT_CLOSED', 'the output stream closed before all records were written'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}

/**
 * Writes lines (each one record without its line ending) in chunks, waiting
 * for `drain` whenever the stream's buffer is full: memory holds one chunk and
 * the stream's high-water mark, whatever the file's size.
 */
export async function writeLines(lines: Iterable<string>, lineEnding: string, out: Writable, options: WriteOptions = {}, header?: string): Promise<WriteResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const result: WriteResult = { records: 0, bytes: 0, longestRecord: 0, writes: 0 };
  let chunk = '';
  const flush = async (): Promise<void> => {
    if (chunk === '') return;
    if (out.destroyed || out.writableEnded) throw new IdentityGeneratorError('GENERATOR_OUTPUT_CLOSED', 'the output stream closed before all records were written');
    result.bytes += Buffer.byteLength(chunk);
    result.writes++;
    const more = out.write(chunk);
    chunk = '';
    if (!more) await drained(out);
  };
  if (header !== undefined) {
    chunk += header + lineEnding;
    result.longestRecord = header.length;
  }
  for (const line of lines) {
    chunk += line + lineEnding;
    result.records++;
    if (line.length > result.longestRecord) result.longestRecord = line.length;
    if (chunk.length >= chunkSize) await flush();
  }
  await flush();
  if (options.end ?? true) {
    out.end();
    await finished(out);
  }
  return result;
}
