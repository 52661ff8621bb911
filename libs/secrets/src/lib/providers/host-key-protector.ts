import { SecretProviderUnavailableError } from '../secret.errors';

/**
 * How the host key is kept at rest in its file. On Linux and macOS the file
 * holds the raw key and the file's permissions are the protection; on Windows
 * the bytes are DPAPI-protected for the machine, so a copy of the file is
 * useless on another host.
 */
export interface HostKeyProtector {
  /** Shown in errors: `file permissions`, `Windows DPAPI (LocalMachine)`. */
  readonly description: string;
  /** Whether the file's POSIX mode must be owner-only (meaningless on Windows, where ACLs apply). */
  readonly requiresOwnerOnlyMode: boolean;
  protect(key: Buffer): Promise<Buffer>;
  unprotect(stored: Buffer): Promise<Buffer>;
}

export const plainFileProtector: HostKeyProtector = {
  description: 'file permissions',
  requiresOwnerOnlyMode: true,
  protect: async (key) => Buffer.from(key),
  unprotect: async (stored) => Buffer.from(stored),
};

/** The two calls of a DPAPI binding the host provider uses (the shape of `@primno/dpapi`'s `Dpapi`). */
export interface DpapiBinding {
  protectData(data: Uint8Array, optionalEntropy: Uint8Array | null, scope: 'CurrentUser' | 'LocalMachine'): Uint8Array;
  unprotectData(data: Uint8Array, optionalEntropy: Uint8Array | null, scope: 'CurrentUser' | 'LocalMachine'): Uint8Array;
}

// Entropy ties the protected bytes to this use, so another DPAPI consumer on the machine can't be tricked into unprotecting them.
const DPAPI_ENTROPY = Buffer.from('IdentityMesh host secret key v1', 'utf8');

/**
 * DPAPI with LocalMachine scope: every service account of the machine can
 * unprotect (the engine and the Admin API may run as different accounts), no
 * other machine can. The file's ACL limits who reads it at all.
 */
export function dpapiProtector(binding: DpapiBinding): HostKeyProtector {
  return {
    description: 'Windows DPAPI (LocalMachine)',
    requiresOwnerOnlyMode: false,
    protect: async (key) => Buffer.from(binding.protectData(key, DPAPI_ENTROPY, 'LocalMachine')),
    unprotect: async (stored) => {
      try {
        return Buffer.from(binding.unprotectData(stored, DPAPI_ENTROPY, 'LocalMachine'));
      } catch {
        throw new SecretProviderUnavailableError(
          'host',
          'Windows DPAPI cannot unprotect the host key file: it was made on another machine (a copied data directory) or altered. ' +
            'Move the file aside to let this host make its own key, then re-provision or rewrap the secrets',
        );
      }
    },
  };
}

/**
 * Loads `@primno/dpapi` (an optional dependency with prebuilt Windows
 * binaries) only when asked, so Linux and macOS installs never need it.
 */
export async function loadDpapiProtector(): Promise<HostKeyProtector> {
  let binding: DpapiBinding;
  try {
    // An optional dependency, which the boundary rule does not count as declared.
    // eslint-disable-next-line @nx/enforce-module-boundaries
    const dpapi = await import('@primno/dpapi');
    if (!dpapi.isPlatformSupported) throw new Error('not supported on this platform');
    binding = dpapi.Dpapi;
  } catch (error) {
    throw new SecretProviderUnavailableError(
      'host',
      `the Windows DPAPI module @primno/dpapi could not be loaded (${(error as Error).message}); reinstall with "npm install" (it is an optional dependency), or use IM_SECRETS_PROVIDER=shared-key`,
    );
  }
  return dpapiProtector(binding);
}
