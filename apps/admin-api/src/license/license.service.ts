import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { licenseRemedy, LicenseMonitor, LicenseState, summarizeLicenseState } from '@identitymesh/license';
import { LicenseResponseDto } from './dto/license-response.dto';

/**
 * Between readiness probes nobody may ask for the license; looking this often
 * logs an expiry or a replaced file within a minute of it happening.
 */
const RECHECK_INTERVAL_MS = 60_000;

/**
 * The Admin API's license: the `license` readiness check (down, with the
 * reason, unless the license is valid), `GET /api/license`, and a log line at
 * start and whenever the license changes state. A renewed file is picked up
 * without a restart.
 */
@Injectable()
export class LicenseService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('License');
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly monitor: LicenseMonitor,
    private readonly health: HealthRegistry,
  ) {
    this.unsubscribe = monitor.subscribe((state) => this.logChange(state));
  }

  onApplicationBootstrap(): void {
    // Registered at bootstrap, after every module's onModuleInit, so the report lists database and schema first.
    this.health.register({
      name: 'license',
      run: async () => {
        const state = this.monitor.current();
        return { status: state.status === 'valid' ? 'up' : 'down', detail: summarizeLicenseState(state) };
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

  describe(): LicenseResponseDto {
    const state = this.monitor.current();
    const license = state.license;
    return {
      status: state.status,
      code: state.code ?? null,
      reason: state.reason,
      remedy: state.code ? licenseRemedy(state.code, state.file) : null,
      evaluation: license?.evaluation ?? false,
      customer: license?.customer ?? null,
      licenseId: license?.licenseId ?? null,
      issuedAt: license?.issuedAt ?? null,
      expiresAt: license?.expiresAt ?? null,
      limits: license ? { ...license.limits } : null,
      keyId: license?.keyId ?? null,
      trustedKeyIds: this.monitor.settings.trustedKeys.map((k) => k.keyId),
      file: state.file,
      checkedAt: state.checkedAt.toISOString(),
    };
  }

  private logChange(state: LicenseState): void {
    const fields = {
      status: state.status,
      code: state.code,
      file: state.file,
      licenseId: state.license?.licenseId,
      customer: state.license?.customer,
      expiresAt: state.license?.expiresAt,
      evaluation: state.license?.evaluation,
    };
    if (state.status === 'valid') {
      if (state.license?.evaluation) this.logger.warn({ ...fields, msg: `EVALUATION license in use: ${state.reason}; not for production use` });
      else this.logger.log({ ...fields, msg: `license valid: ${state.reason}` });
      return;
    }
    const consequence =
      state.status === 'expired'
        ? 'The data stays readable; scheduled runs stop and /health/ready reports down until a renewed license is installed'
        : '/health/ready reports down and scheduled runs are refused until a valid license is installed';
    const remedy = state.code ? ` Remedy: ${licenseRemedy(state.code, state.file)}.` : '';
    this.logger.error({ ...fields, msg: `license ${state.status}: ${state.reason}. ${consequence}.${remedy}` });
  }
}
