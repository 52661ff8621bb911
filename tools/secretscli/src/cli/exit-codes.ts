/**
 * secretscli exit codes follow BSD sysexits, so scripts can tell a typo from
 * a secret that this host cannot open.
 */
export const CLI_EXIT = {
  ok: 0,
  failure: 1,
  usage: 64,
  /** Bad input: an invalid reference, an empty or oversized value. */
  dataError: 65,
  /** No secret under that reference. */
  notFound: 66,
  /** The secret or its provider can't be used here (another host's key, a vault out of reach). */
  unavailable: 69,
  /** A setting is wrong or the database schema is not the expected one. */
  config: 78,
  /** The operator interrupted a prompt. */
  interrupted: 130,
} as const;
