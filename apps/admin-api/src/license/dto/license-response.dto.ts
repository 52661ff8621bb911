import type { LicenseErrorCode, LicenseLimits, LicenseStatus } from '@identitymesh/license';

/**
 * `GET /api/license`: what the Admin API knows about its license. The
 * license's own fields are null when there is no readable, correctly signed
 * license (missing, malformed, forged, untrusted key). Never carries the
 * signature: the file is the proof, this is a description.
 */
export class LicenseResponseDto {
  /** `valid`, `expired`, `missing` or `invalid`. */
  status!: LicenseStatus;
  /** Why the license is not valid (`LICENSE_EXPIRED`, …); null when it is. */
  code!: LicenseErrorCode | null;
  /** One sentence: the license and its expiry, or what is wrong with it. */
  reason!: string;
  /** What to do about it; null when the license is valid. */
  remedy!: string | null;
  evaluation!: boolean;
  customer!: string | null;
  licenseId!: string | null;
  issuedAt!: string | null;
  expiresAt!: string | null;
  limits!: LicenseLimits | null;
  /** The key that signed the license. */
  keyId!: string | null;
  /** The keys this Admin API trusts (`IM_LICENSE_PUBLIC_KEYS`), by id. */
  trustedKeyIds!: string[];
  /** The license file it reads (`IM_LICENSE_FILE` or the per-host default). */
  file!: string;
  checkedAt!: string;
}
