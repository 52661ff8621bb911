/**
 * Exit codes of the license tool. `verify` (and `show`, for a file it can't
 * read) gives each kind of bad license its own small code, so a script can
 * tell "renew it" (2) from "someone edited it" (4) without reading text; the
 * rest follow BSD sysexits.
 */
export const CLI_EXIT = {
  ok: 0,
  /** Anything unexpected; the message says what. */
  failure: 1,
  /** LICENSE_EXPIRED: the license was good and its end date has passed. */
  expired: 2,
  /** LICENSE_NOT_YET_VALID: its start date is still ahead (or this host's clock is wrong). */
  notYetValid: 3,
  /** LICENSE_SIGNATURE_INVALID: the content was changed after signing, or the license is forged. */
  signatureInvalid: 4,
  /** LICENSE_UNTRUSTED_KEY: signed by a key that is not among the given public keys. */
  untrustedKey: 5,
  /** LICENSE_MALFORMED: truncated, damaged, or not a license file at all. */
  malformed: 6,
  usage: 64,
  /** A key file that is not what the command needs (a public key given to issue, a private key given to verify). */
  dataError: 65,
  /** A file to read does not exist (the license, a key). */
  noInput: 66,
  /** A file to write exists already (keygen never overwrites; issue only with --force), or can't be written. */
  cantCreate: 73,
} as const;
