import { z } from 'zod';

/** A resource id in a path: ids are UUIDs, so anything else is refused before it reaches a query. */
export const idParams = z.strictObject({ id: z.guid('must be an id (a UUID)') });

/** A name shown to operators: trimmed, no control characters. */
export function displayName(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
}

/** A JSON object stored in a text column: bounded so it fits every dialect (MariaDB TEXT holds 64 KiB). */
export function jsonObject(maxBytes: number) {
  return z.record(z.string().max(256), z.json()).superRefine((value, context) => {
    if (Buffer.byteLength(JSON.stringify(value), 'utf8') > maxBytes) context.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes of JSON` });
  });
}

/** An ISO 8601 time with an offset, as every time in the API is written. */
export const isoTime = z.iso.datetime({ offset: true });

/** A time as the API writes it. */
export function iso(date: Date): string;
export function iso(date: Date | null): string | null;
export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
