import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { LicenseErrorCode, LicenseMonitor, LicensePayload, licenseRemedy, LicenseState, LicenseStatus, summarizeLicenseState } from '@identitymesh/license';

/** Looking this often logs an expiry or a replaced file within a minute, even while no run is due. */
const RECHECK_INTERVAL_MS = 60_000;

/** The gate's answer for one scheduled run. */
export type ScheduledRunDecision =
  | { allowed: true; license: LicensePayload }
  | { allowed: false; status: Exclude<LicenseStatus, 'valid'>; code: LicenseErrorCode; reason: string; remedy: string; message: string };

/**
 * The engine's license gate. The scheduler asks {@link checkScheduledRun}
 * before each scheduled run and starts it only when the license is valid; with
 * an expired, missing or invalid license the run is refused with a log line
 * that names the reason and the remedy, and the engine keeps serving, so the
 * data stays readable. Readiness is deliberately not tied to the license (see
 * docs/license.md): the `license` check is always up and carries the state in
 * its detail. A renewed file is picked up without a restart.
 */
@Injectable()
export class LicenseGateService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LicenseGate');
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly monitor: LicenseMonitor,
    private readonly health: HealthRegistry,
  ) {
    this.unsubscribe = monitor.subscribe((state) => this.logChange(state));
  }

  onApplicationBootstrap(): void {
    this.health.register({
      name: 'license',
      run: async () => {
        const state = this.monitor.current();
        const detail = summarizeLicenseState(state);
        return { status: 'up', detail: state.status === 'valid' ? detail : `${detail}; scheduled runs are refused, the engine keeps serving` };
      },
    });
    this.monitor.current();
    this.timer = setInterval(() => this.monitor.current(), RECHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe();
  }

  /**
   * Whether a scheduled run may start now. `run` names it for the log
   * (`connector "HR" full import`). A refusal is logged here, so a scheduler
   * only has to skip the run.
   */
  checkScheduledRun(run: string): ScheduledRunDecision {
    const state = this.monitor.current();
    if (state.status === 'valid' && state.license) return { allowed: true, license: state.license };
    // Only a valid state lacks a code; the fallback keeps the type honest, not a case that occurs.
    const code = state.code ?? 'LICENSE_MISSING';
    const remedy = licenseRemedy(code, state.file);
    const message = `scheduled run of ${run} refused: the license is ${state.status} (${state.reason}). Remedy: ${remedy}. The data stays readable; scheduled runs resume by themselves once a valid license is in place.`;
    this.logger.warn({ run, status: state.status, code, file: state.file, msg: message });
    return { allowed: false, status: state.status as Exclude<LicenseStatus, 'valid'>, code, reason: state.reason, remedy, message };
  }

  private logChange(state: LicenseState): void {
    const fields = { status: state.status, code: state.code, file: state.file, licenseId: state.license?.licenseId, expiresAt: state.license?.expiresAt, evaluation: state.license?.evaluation };
    if (state.status === 'valid') {
      if (state.license?.evaluation) this.logger.warn({ ...fields, msg: `EVALUATION license in use: ${state.reason}; not for production use. Scheduled runs are allowed` });
      else this.logger.log({ ...fields, msg: `license valid: ${state.reason}. Scheduled runs are allowed` });
      return;
    }
    const remedy = state.code ? ` Remedy: ${licenseRemedy(state.code, state.file)}.` : '';
    this.logger.error({
      ...fields,
      msg: `license ${state.status}: ${state.reason}. Scheduled runs are refused until a valid license is installed; the engine keeps serving and the data stays readable.${remedy}`,
    });
  }
}
