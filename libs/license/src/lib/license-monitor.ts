import { readFileSync, statSync } from 'node:fs';
import { checkLicenseDates, describeLicense, LicensePayload, verifyLicenseSignature } from './license-format';
import { LicenseError, LicenseErrorCode } from './license.errors';
import type { LicenseSettings } from './license-settings';

export type LicenseStatus = 'valid' | 'expired' | 'missing' | 'invalid';

/** What the product knows about its license at one moment. */
export interface LicenseState {
  status: LicenseStatus;
  /** Why the license is not valid; absent when it is. */
  code?: LicenseErrorCode;
  /** One sentence for logs and health details. */
  reason: string;
  /** The signed payload, when the signature was good (valid, expired, not yet valid). */
  license?: LicensePayload;
  file: string;
  checkedAt: Date;
}

/** The file operations the monitor needs, injected by tests. */
export interface LicenseFileAccess {
  /** A fingerprint that changes when the file is replaced or rewritten; undefined when there is no file. */
  stamp(path: string): string | undefined;
  read(path: string): string;
}

export const nodeLicenseFileAccess: LicenseFileAccess = {
  stamp(path) {
    try {
      const s = statSync(path);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
  read: (path) => readFileSync(path, 'utf8'),
};

export interface LicenseMonitorOptions {
  /** @default the real clock */
  now?: () => Date;
  /** @default the node:fs file system */
  files?: LicenseFileAccess;
  /** Called from {@link LicenseMonitor.current} when the state differs from the previous one (first call included). */
  onChange?: LicenseChangeListener;
}

export type LicenseChangeListener = (state: LicenseState, previous: LicenseState | undefined) => void;

type Outcome = { payload: LicensePayload } | { error: LicenseError };

/**
 * The license of a running app. Each query costs one `stat`: the file is read
 * and its signature checked again only when it changed, so a renewed license
 * is picked up without a restart, while the dates are checked on every query
 * so a license expires on time.
 */
export class LicenseMonitor {
  private cached: { stamp: string | undefined; outcome: Outcome } | undefined;
  private last: LicenseState | undefined;
  private readonly now: () => Date;
  private readonly files: LicenseFileAccess;
  private readonly listeners: LicenseChangeListener[] = [];

  constructor(
    readonly settings: LicenseSettings,
    options: LicenseMonitorOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.files = options.files ?? nodeLicenseFileAccess;
    if (options.onChange) this.listeners.push(options.onChange);
  }

  /**
   * Adds a listener called like {@link LicenseMonitorOptions.onChange}, for
   * code that gets the monitor from elsewhere (a Nest provider). Returns the
   * function that removes it.
   */
  subscribe(listener: LicenseChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  current(): LicenseState {
    const checkedAt = this.now();
    const state = { ...this.evaluate(this.outcome(), checkedAt), file: this.settings.file, checkedAt };
    const previous = this.last;
    this.last = state;
    if (!previous || stateKey(previous) !== stateKey(state)) for (const listener of [...this.listeners]) listener(state, previous);
    return state;
  }

  private outcome(): Outcome {
    const file = this.settings.file;
    let stamp: string | undefined;
    try {
      stamp = this.files.stamp(file);
    } catch (error) {
      return { error: new LicenseError('LICENSE_MISSING', `the license file ${file} cannot be read (${(error as Error).message})`) };
    }
    if (this.cached && stamp !== undefined && this.cached.stamp === stamp) return this.cached.outcome;
    const outcome = this.load(file, stamp);
    this.cached = { stamp, outcome };
    return outcome;
  }

  private load(file: string, stamp: string | undefined): Outcome {
    if (stamp === undefined) return { error: new LicenseError('LICENSE_MISSING', `there is no license file at ${file}`) };
    let text: string;
    try {
      text = this.files.read(file);
    } catch (error) {
      return { error: new LicenseError('LICENSE_MISSING', `the license file ${file} cannot be read (${(error as Error).message})`) };
    }
    try {
      return { payload: verifyLicenseSignature(text, this.settings.trustedKeys) };
    } catch (error) {
      if (error instanceof LicenseError) return { error };
      throw error;
    }
  }

  private evaluate(outcome: Outcome, now: Date): Pick<LicenseState, 'status' | 'code' | 'reason' | 'license'> {
    if ('error' in outcome) return fromError(outcome.error);
    try {
      checkLicenseDates(outcome.payload, now);
    } catch (error) {
      if (error instanceof LicenseError) return fromError(error);
      throw error;
    }
    const license = outcome.payload;
    return { status: 'valid', reason: `${describeLicense(license)}, valid until ${license.expiresAt}`, license };
  }
}

/**
 * The state in one line, as readiness checks show it: `valid: …` or
 * `expired (LICENSE_EXPIRED): …`, the code being what monitoring matches on.
 */
export function summarizeLicenseState(state: LicenseState): string {
  if (state.status === 'valid') return `valid: ${state.reason}${state.license?.evaluation ? ' (EVALUATION license, not for production use)' : ''}`;
  return `${state.status} (${state.code}): ${state.reason}`;
}

function fromError(error: LicenseError): Pick<LicenseState, 'status' | 'code' | 'reason' | 'license'> {
  const status: LicenseStatus = error.code === 'LICENSE_EXPIRED' ? 'expired' : error.code === 'LICENSE_MISSING' ? 'missing' : 'invalid';
  return { status, code: error.code, reason: error.message, license: error.license };
}

/** What makes two states "the same" for onChange: not the reason's clock reading, which differs on every query. */
function stateKey(state: LicenseState): string {
  return [state.status, state.code, state.license ? `${state.license.licenseId}@${state.license.expiresAt}` : state.reason].join('|');
}
