/** Process exit codes, documented in the README for service wrappers and CI. */
export const EXIT_CODES = {
  ok: 0,
  /** Start-up or shutdown failed for a reason other than configuration. */
  failure: 1,
  /** Shutdown did not finish within IM_SHUTDOWN_TIMEOUT_MS. */
  shutdownTimeout: 3,
  /** A setting is missing or invalid (sysexits EX_CONFIG). */
  config: 78,
} as const;
