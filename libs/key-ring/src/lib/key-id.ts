import { randomBytes } from 'node:crypto';

const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A UUID of version 7: the first 48 bits are a time in ms, the rest random.
 * The time is the creation time, or just after the newest of `existing` when
 * that is later (two keys in one ms, a clock behind another host's), so a new
 * key's id sorts after every key it was created next to. Keys are created
 * under the store's lock after a fresh read, which makes the order hold
 * across processes too; it settles which of two keys activated in the same
 * second is current, the same way everywhere.
 */
export function newKeyId(nowMs: number, existing: Iterable<string> = []): string {
  let ms = Math.max(0, Math.floor(nowMs));
  for (const id of existing) {
    const match = UUID_V7.exec(id);
    if (match) ms = Math.max(ms, parseInt(match[1] + match[2], 16) + 1);
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms % 2 ** 48, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
