import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { LicenseErrorCode, LicenseMonitor, LicensePayload, licenseRemedy, LicenseStatus, LicenseWatch, summarizeLicenseState } from '@identitymesh/license';

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
  private readonly watch: LicenseWatch;

  constructor(
    private readonly monitor: LicenseMonitor,
    private readonly health: HealthRegistry,
  ) {
    this.watch = new LicenseWatch(monitor, {
      logger: this.logger,
      whenValid: 'Scheduled runs are allowed',
      whenNotValid: () => 'Scheduled runs are refused until a valid license is installed; the engine keeps serving and the data stays readable',
    });
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
    this.watch.start();
  }

  onApplicationShutdown(): void {
    this.watch.stop();
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
}
