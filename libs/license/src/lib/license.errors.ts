import { DomainError, DomainErrorCode } from '@identitymesh/domain';
import type { LicensePayload } from './license-format';

/** The codes a license check can fail with, each with its own reason and CLI exit code. */
export type LicenseErrorCode = Extract<DomainErrorCode, `LICENSE_${string}`>;

export const LICENSE_ERROR_CODES: readonly LicenseErrorCode[] = [
  'LICENSE_MISSING',
  'LICENSE_MALFORMED',
  'LICENSE_UNTRUSTED_KEY',
  'LICENSE_SIGNATURE_INVALID',
  'LICENSE_EXPIRED',
  'LICENSE_NOT_YET_VALID',
];

/**
 * A license that can't be used. `license` is set when the signature was good
 * and only the dates are wrong (expired, not yet valid), so callers can still
 * say whose license it is.
 */
export class LicenseError extends DomainError {
  constructor(
    override readonly code: LicenseErrorCode,
    message: string,
    readonly license?: LicensePayload,
  ) {
    super(code, message, license ? { licenseId: license.licenseId, customer: license.customer, expiresAt: license.expiresAt } : {});
  }
}
