import { z } from 'zod';
import { ApiError } from './api-error';

/** `limit` and `cursor` of every list route. */
export const pageQueryShape = {
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Items per page, 1 to 200' }),
  cursor: z
    .string()
    .max(512)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor this API returned as nextCursor')
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page; absent for the first page' }),
};

/** One page of a list and where the next one starts (null on the last page). */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Keyset cursors: the sort key of the last item of a page, opaque to the
 * caller. A list never skips or repeats an item when rows are added between
 * pages, which offsets would.
 */
export function encodeCursor(values: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(cursor: string | undefined, shape: S): z.output<S> | null {
  if (cursor === undefined) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    raw = undefined;
  }
  const parsed = shape.safeParse(raw);
  if (!parsed.success) throw new ApiError('REQUEST_INVALID', 'cursor is not one this list returned', { errors: [{ in: 'query', pointer: '/cursor', problem: 'is not a cursor of this list' }] });
  return parsed.data;
}

/** A page from `limit + 1` rows: the extra row only says that there is a next page. */
export function toPage<R, T>(rows: readonly R[], limit: number, map: (row: R) => T, key: (row: R) => ReadonlyArray<string | number>): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(map), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null };
}

/** A cursor of a time-ordered list: ISO time and id. */
export const timeCursor = z.tuple([z.iso.datetime(), z.guid()]);
