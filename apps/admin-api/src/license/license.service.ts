import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HealthRegistry } from '@identitymesh/platform';
import { licenseRemedy, LicenseMonitor, LicenseWatch, summarizeLicenseState } from '@identitymesh/license';
import { LicenseResponseDto } from './dto/license-response.dto';

/**
 * The Admin API's license: the `license` readiness check (down, with the
 * reason, unless the license is valid), `GET /api/license`, and a log line at
 * start and whenever the license changes state. A renewed file is picked up
 * without a restart.
 */
@Injectable()
export class LicenseService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly watch: LicenseWatch;

  constructor(
    private readonly monitor: LicenseMonitor,
    private readonly health: HealthRegistry,
  ) {
    this.watch = new LicenseWatch(monitor, {
      logger: new Logger('License'),
      whenNotValid: (state) =>
        state.status === 'expired'
          ? 'The data stays readable; scheduled runs stop and /health/ready reports down until a renewed license is installed'
          : '/health/ready reports down and scheduled runs are refused until a valid license is installed',
    });
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
    this.watch.start();
  }

  onApplicationShutdown(): void {
    this.watch.stop();
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
}
