import { Injectable } from '@nestjs/common';

export type HealthStatus = 'up' | 'down';

export interface HealthCheckResult {
  status: HealthStatus;
  detail: string;
}

export interface HealthCheck {
  /** Stable name shown in the readiness report (`database`, `schema`, `license`, …). */
  name: string;
  run(): Promise<HealthCheckResult>;
}

export interface HealthReport {
  status: HealthStatus;
  checks: Array<HealthCheckResult & { name: string; durationMs: number }>;
}

/** A check that hangs counts as down after this long, so a probe never hangs with it. */
const CHECK_TIMEOUT_MS = 5_000;

/** Readiness checks registered by the features of an app. */
@Injectable()
export class HealthRegistry {
  private readonly checks: HealthCheck[] = [];

  register(check: HealthCheck): void {
    if (this.checks.some((c) => c.name === check.name)) throw new Error(`health check ${check.name} registered twice`);
    this.checks.push(check);
  }

  async readiness(): Promise<HealthReport> {
    const checks = await Promise.all(this.checks.map((c) => runCheck(c)));
    return { status: checks.every((c) => c.status === 'up') ? 'up' : 'down', checks };
  }
}

async function runCheck(check: HealthCheck): Promise<HealthReport['checks'][number]> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<HealthCheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ status: 'down', detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
    });
    const result = await Promise.race([check.run(), timeout]);
    return { name: check.name, ...result, durationMs: Date.now() - started };
  } catch (error) {
    return { name: check.name, status: 'down', detail: (error as Error).message, durationMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
