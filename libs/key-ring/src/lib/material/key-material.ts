import type { KeyRingPurpose } from '@identitymesh/domain';
import type { ProtectedKeyMaterial } from '../key-ring.port';

/**
 * The reference a key's material is protected under. The providers bind the
 * reference into what they seal, so material copied onto another key's row
 * does not open.
 */
export function keyMaterialReference(purpose: KeyRingPurpose, keyId: string): string {
  return `key-ring/${purpose}/${keyId}`;
}

/** Material never changes once created; the version the providers bind is always this one. */
export const KEY_MATERIAL_VERSION = 1;

/** What the `material` column holds: the sealed material and which provider and key sealed it. */
export interface StoredKeyMaterial extends ProtectedKeyMaterial {
  provider: string;
}

/**
 * JSON rather than the bare ciphertext: a provider needs its key id back to
 * open a value (as `IM_Secrets` keeps it in a column), and the provider name
 * lets a process tell "sealed by another provider" from "damaged" without
 * asking the provider. It keeps the table as it is in every dialect.
 */
export function encodeKeyMaterial(provider: string, sealed: ProtectedKeyMaterial): string {
  const stored: StoredKeyMaterial = { provider, keyId: sealed.keyId, ciphertext: sealed.ciphertext };
  return JSON.stringify(stored);
}

export function decodeKeyMaterial(text: string): StoredKeyMaterial | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not ours (edited by hand, or truncated by a column too short): the caller reports the key as unreadable.
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { provider, keyId, ciphertext } = value as Record<string, unknown>;
  if (typeof provider !== 'string' || typeof keyId !== 'string' || typeof ciphertext !== 'string') return undefined;
  return { provider, keyId, ciphertext };
}
