import type { Writable } from 'node:stream';
import { writeLines, type WriteOptions, type WriteResult } from './record-writer';

function* jsonLines(records: Iterable<unknown>): Generator<string> {
  for (const record of records) yield JSON.stringify(record);
}

/**
 * One JSON object per line (`\n`), streamed like the CSV writers. The
 * generator's objects have a fixed property order, so the bytes are as
 * deterministic as the CSV's.
 */
export function writeJsonLines(records: Iterable<unknown>, out: Writable, options: WriteOptions = {}): Promise<WriteResult> {
  return writeLines(jsonLines(records), '\n', out, options);
}
