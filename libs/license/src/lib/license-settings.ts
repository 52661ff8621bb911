import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, resolve, win32 } from 'node:path';
import { parseTrustedKeys, TrustedKey, TrustedKeyError } from './trusted-keys';

export const LICENSE_FILE_NAME = 'license.key';
/** Where Linux hosts keep per-host configuration that package upgrades leave alone. */
export const LINUX_LICENSE_FILE = '/etc/identitymesh/license.key';

/** How to look at the host, injected so each OS's default can be tested on any OS. */
export interface HostFacts {
  platform: NodeJS.Platform;
  /** The environment (for `ProgramData` on Windows). */
  env: Record<string, string | undefined>;
  exists: (path: string) => boolean;
  /** Whether the path is a directory; without it, a directory given as the license file is not caught at start. */
  isDirectory?: (path: string) => boolean;
}

/** The host this process runs on; `env` is the app's merged settings (for `ProgramData`). */
export function currentHost(env: Record<string, string | undefined>): HostFacts {
  return { platform: process.platform, env, exists: existsSync, isDirectory };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch (error) {
    // A path this process may not even stat is reported by the license check, with the OS's reason.
    if ((error as NodeJS.ErrnoException).code === 'EACCES' || (error as NodeJS.ErrnoException).code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Where the license file is when `IM_LICENSE_FILE` is not set: on Windows
 * `%ProgramData%\IdentityMesh\license.key`; on Linux
 * `/etc/identitymesh/license.key` when that file exists; otherwise
 * `license.key` in the data directory.
 */
export function defaultLicenseFile(dataDir: string, host: HostFacts): string {
  if (host.platform === 'win32') return win32.join(host.env['ProgramData'] ?? 'C:\\ProgramData', 'IdentityMesh', LICENSE_FILE_NAME);
  if (host.platform === 'linux' && host.exists(LINUX_LICENSE_FILE)) return posix.normalize(LINUX_LICENSE_FILE);
  return join(dataDir, LICENSE_FILE_NAME);
}

/** The license settings of an app after validation. */
export interface LicenseSettings {
  /** `IM_LICENSE_FILE` @default see {@link defaultLicenseFile} */
  file: string;
  /** `IM_LICENSE_PUBLIC_KEYS` @default none: no license is trusted until the vendor's key is configured */
  trustedKeys: TrustedKey[];
}

/** A license setting that can't be used, by its environment variable name. */
export class LicenseSettingsError extends Error {
  constructor(
    readonly setting: 'IM_LICENSE_FILE' | 'IM_LICENSE_PUBLIC_KEYS',
    readonly problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'LicenseSettingsError';
  }
}

export interface LicenseSettingsInput {
  /** `IM_LICENSE_FILE` as configured. */
  file?: string;
  /** `IM_LICENSE_PUBLIC_KEYS` as configured. */
  publicKeys?: string;
}

/**
 * Turns the two settings into a file path and the trusted keys. Relative
 * paths (the license file, PEM files) resolve against the data directory, as
 * `IM_DB_SQLITE_FILE` does. Throws {@link LicenseSettingsError}.
 */
export function loadLicenseSettings(
  input: LicenseSettingsInput,
  dataDir: string,
  host: HostFacts = currentHost({}),
  readFile: (path: string) => string | undefined = readTextIfPresent,
): LicenseSettings {
  const file = input.file ? (isAbsolute(input.file) ? input.file : resolve(dataDir, input.file)) : defaultLicenseFile(dataDir, host);
  // A missing file is a state the apps report and recover from; a directory is a setting that can never work.
  if (host.isDirectory?.(file)) {
    throw new LicenseSettingsError('IM_LICENSE_FILE', `${file} is a directory; name the license file itself (${join(file, LICENSE_FILE_NAME)})`);
  }
  try {
    return { file, trustedKeys: parseTrustedKeys(input.publicKeys, { baseDir: dataDir, readFile }) };
  } catch (error) {
    if (error instanceof TrustedKeyError) throw new LicenseSettingsError('IM_LICENSE_PUBLIC_KEYS', error.message);
    throw error;
  }
}

/** The file's text, or undefined when there is no such file. */
export function readTextIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    throw error;
  }
}
