/**
 * A plain-JSON copy of a value computed by the rules for an answer: CEL
 * whole numbers arrive as bigint (which JSON.stringify refuses), decisions
 * may hold Maps, Sets, Dates or errors. Everything else passes as it is.
 */
export function toJsonSafe(value: unknown, depth = 0): unknown {
  if (depth > 24) return '…';
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return { name: value.name, message: value.message, ...('code' in value ? { code: (value as { code: unknown }).code } : {}) };
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), toJsonSafe(v, depth + 1)]));
  if (value instanceof Set || Array.isArray(value)) return [...value].map((item) => toJsonSafe(item, depth + 1));
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const safe = toJsonSafe(inner, depth + 1);
    if (safe !== undefined) copy[key] = safe;
  }
  return copy;
}
