import { assertUnreachable } from '@identitymesh/domain';
import type { LicenseErrorCode } from './license.errors';

/**
 * What the operator does about a license that can't be used, as one
 * sentence: the reason says what is wrong, this says how to fix it. Both apps
 * put it in their logs, so the remedy reads the same wherever it shows up.
 */
export function licenseRemedy(code: LicenseErrorCode, file: string): string {
  switch (code) {
    case 'LICENSE_MISSING':
      return `put the license.key from your IdentityMesh vendor at ${file}, or point IM_LICENSE_FILE at it`;
    case 'LICENSE_MALFORMED':
      return `replace ${file} with an unchanged copy of the license.key your vendor sent (this one is damaged or not a license file)`;
    case 'LICENSE_UNTRUSTED_KEY':
      return "add the vendor's public key that signed it to IM_LICENSE_PUBLIC_KEYS, or install a license signed by a key listed there";
    case 'LICENSE_SIGNATURE_INVALID':
      return `replace ${file} with the license exactly as your vendor issued it; an edited license can't be repaired`;
    case 'LICENSE_EXPIRED':
      return `install a renewed license at ${file}; it is picked up without a restart`;
    case 'LICENSE_NOT_YET_VALID':
      return "check this host's clock, or wait for the license's start date";
    default:
      return assertUnreachable(code);
  }
}
