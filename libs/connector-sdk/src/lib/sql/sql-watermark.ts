/**
 * The SQL connector's watermark: per object type, where a delta import
 * resumes. Opaque to the engine; JSON so an operator can read it.
 *
 * Native deltas resume at a watermark value, not after it, because a row
 * committed late can carry the same timestamp as rows already read (MariaDB
 * DATETIME without fractions, SQL Server datetime's 3 ms ticks, one
 * transaction updating many rows with one now()). Rows at that value that were
 * already reported are recognised by anchor and a hash of what was reported,
 * so an unchanged system gives an empty delta, while a row that was added or
 * changed again at the same timestamp is reported.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConnectorError } from '../connector';

/** Where a native delta of one object type resumes. */
export interface SqlDeltaPosition {
  /** The watermark column it was taken from; a position for another column is ignored (the type is read from scratch). */
  column: string;
  /** The watermark value as the server's own text, read back exactly. */
  at: string;
  /** The rows reported at exactly `at`: anchor → hash of what was reported. */
  seen?: Record<string, string>;
  /**
   * Instead of `seen`, when more rows share `at` than a watermark can list: the
   * last anchor reported there, in the server's order. A delta then resumes
   * after (at, after), and can miss a row committed late with the same
   * timestamp and a lower anchor; a full import catches it.
   */
  after?: string;
}

/** What a snapshot delta compares: when neither changed, nothing did (as far as the table can tell). */
export interface SqlSnapshotState {
  column: string;
  max?: string;
  count: number;
}

export type SqlWatermark = { mode: 'native'; types: Record<string, SqlDeltaPosition> } | { mode: 'snapshot'; types: Record<string, SqlSnapshotState> };

const positionSchema = z.strictObject({
  column: z.string(),
  at: z.string(),
  seen: z.record(z.string(), z.string()).optional(),
  after: z.string().optional(),
});
const snapshotSchema = z.strictObject({ column: z.string(), max: z.string().optional(), count: z.number().int().min(0) });
const watermarkSchema = z.discriminatedUnion('mode', [
  z.strictObject({ v: z.literal(1), mode: z.literal('native'), types: z.record(z.string(), positionSchema) }),
  z.strictObject({ v: z.literal(1), mode: z.literal('snapshot'), types: z.record(z.string(), snapshotSchema) }),
]);

/** Total anchor text a position lists before it switches to `after`; the engine stores watermarks as TEXT (64 KiB on MariaDB). */
export const SEEN_LIMIT_CHARACTERS = 16_000;

export function encodeWatermark(watermark: SqlWatermark): string {
  return JSON.stringify({ v: 1, ...watermark });
}

/** Reads a stored watermark. Throws ConnectorError when it was not written by this connector or for another delta mode. */
export function decodeWatermark(text: string, mode: SqlWatermark['mode']): SqlWatermark {
  let parsed: z.infer<typeof watermarkSchema>;
  try {
    parsed = watermarkSchema.parse(JSON.parse(text));
  } catch {
    throw new ConnectorError('CONNECTOR_CONFIG_INVALID', 'the delta watermark was not written by the sql connector; run a full import to start a new one');
  }
  if (parsed.mode !== mode) {
    throw new ConnectorError(
      'CONNECTOR_CONFIG_INVALID',
      `the delta watermark is for ${parsed.mode} deltas and the connector now makes ${mode} deltas (a soft-delete or watermark column was added or removed); run a full import to start a new one`,
    );
  }
  return parsed.mode === 'native' ? { mode: 'native', types: parsed.types } : { mode: 'snapshot', types: parsed.types };
}

/** A short hash of what was reported for a row, to recognise it when it is read again at the same watermark value. */
export function reportHash(reported: unknown): string {
  return createHash('sha256').update(JSON.stringify(reported)).digest('base64url').slice(0, 12);
}

/**
 * Follows the rows of one object type as a delta reads them in (watermark,
 * anchor) order, and gives the position after the last one.
 */
export class DeltaTracker {
  private at: string | undefined;
  private seen: Map<string, string> | undefined = new Map();
  private seenCharacters = 0;
  private after: string | undefined;

  constructor(
    private readonly column: string,
    private readonly start?: SqlDeltaPosition,
  ) {
    if (start) {
      this.at = start.at;
      if (start.after !== undefined) {
        this.seen = undefined;
        this.after = start.after;
      } else {
        for (const [anchor, hash] of Object.entries(start.seen ?? {})) this.remember(anchor, hash);
      }
    }
  }

  /** Whether the resumed-from position already reported this row as it is now. */
  reportedBefore(at: string, anchor: string, hash: string): boolean {
    return this.start !== undefined && at === this.start.at && this.start.seen?.[anchor] === hash;
  }

  /** Records a row read at `at` (rows come in watermark order, so a new value starts a new group). */
  record(at: string, anchor: string, hash: string): void {
    if (at !== this.at) {
      this.at = at;
      this.seen = new Map();
      this.seenCharacters = 0;
      this.after = undefined;
    }
    if (this.seen) this.remember(anchor, hash);
    else this.after = anchor;
  }

  private remember(anchor: string, hash: string): void {
    const seen = this.seen as Map<string, string>;
    if (!seen.has(anchor)) this.seenCharacters += anchor.length + hash.length + 6;
    seen.set(anchor, hash);
    if (this.seenCharacters > SEEN_LIMIT_CHARACTERS) {
      this.seen = undefined;
      this.after = anchor;
    }
  }

  /** The position after every row recorded; undefined before the first. */
  position(): SqlDeltaPosition | undefined {
    if (this.at === undefined) return undefined;
    if (!this.seen) return { column: this.column, at: this.at, after: this.after as string };
    return { column: this.column, at: this.at, seen: Object.fromEntries(this.seen) };
  }
}
