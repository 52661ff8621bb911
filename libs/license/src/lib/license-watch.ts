import type { LicenseErrorCode } from './license.errors';
import type { LicenseMonitor, LicenseState, LicenseStatus } from './license-monitor';
import { licenseRemedy } from './license-remedy';

/**
 * Between readiness probes and scheduled runs nobody may ask for the license;
 * looking this often logs an expiry or a replaced file within a minute of it
 * happening.
 */
const RECHECK_INTERVAL_MS = 60_000;

/** One structured log line about the license: the fields monitoring filters on, and the message. */
export interface LicenseLogRecord {
  status: LicenseStatus;
  code: LicenseErrorCode | undefined;
  file: string;
  licenseId: string | undefined;
  customer: string | undefined;
  expiresAt: string | undefined;
  evaluation: boolean | undefined;
  msg: string;
}

/** Where license changes are logged; Nest's `Logger` fits as it is. */
export interface LicenseLogger {
  log(record: LicenseLogRecord): void;
  warn(record: LicenseLogRecord): void;
  error(record: LicenseLogRecord): void;
}

export interface LicenseWatchOptions {
  logger: LicenseLogger;
  /** What the app does with a valid license, as a sentence added to its log line (`Scheduled runs are allowed`). @default nothing is added */
  whenValid?: string;
  /** What the app does while the license is not valid, as one sentence without its final period. */
  whenNotValid: (state: LicenseState) => string;
  /** @default 60000 */
  recheckIntervalMs?: number;
}

/**
 * Logs an app's license at start and whenever it changes state: `license
 * valid: …` (log), `EVALUATION license in use: …` (warn), or `license
 * expired|missing|invalid: <reason>. <what the app does>. Remedy: …` (error).
 * {@link start} looks at the license now and then periodically, so an expiry
 * or a renewed file is logged even while nothing else asks.
 */
export class LicenseWatch {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly unsubscribe: () => void;

  /** Subscribes at once, so a change seen by anyone asking the monitor before {@link start} is logged too. */
  constructor(
    private readonly monitor: LicenseMonitor,
    private readonly options: LicenseWatchOptions,
  ) {
    this.unsubscribe = monitor.subscribe((state) => this.logChange(state));
  }

  start(): void {
    this.monitor.current();
    this.timer = setInterval(() => this.monitor.current(), this.options.recheckIntervalMs ?? RECHECK_INTERVAL_MS);
    // The periodic look must not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe();
  }

  private logChange(state: LicenseState): void {
    const { logger, whenValid, whenNotValid } = this.options;
    const fields = {
      status: state.status,
      code: state.code,
      file: state.file,
      licenseId: state.license?.licenseId,
      customer: state.license?.customer,
      expiresAt: state.license?.expiresAt,
      evaluation: state.license?.evaluation,
    };
    const validNote = whenValid ? `. ${whenValid}` : '';
    if (state.status === 'valid') {
      if (state.license?.evaluation) logger.warn({ ...fields, msg: `EVALUATION license in use: ${state.reason}; not for production use${validNote}` });
      else logger.log({ ...fields, msg: `license valid: ${state.reason}${validNote}` });
      return;
    }
    const remedy = state.code ? ` Remedy: ${licenseRemedy(state.code, state.file)}.` : '';
    logger.error({ ...fields, msg: `license ${state.status}: ${state.reason}. ${whenNotValid(state)}.${remedy}` });
  }
}
