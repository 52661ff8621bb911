import { HealthCheck, HealthCheckResult, HealthRegistry } from './health.registry';

function check(name: string, run: () => Promise<HealthCheckResult>): HealthCheck {
  return { name, run };
}

const up = (detail = 'ok') => async (): Promise<HealthCheckResult> => ({ status: 'up', detail });

describe('HealthRegistry', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('reports up when every check is up', async () => {
    const registry = new HealthRegistry();
    registry.register(check('database', up('postgres 15')));
    registry.register(check('schema', up('current')));

    const report = await registry.readiness();
    expect(report.status).toBe('up');
    expect(report.checks).toEqual([
      { name: 'database', status: 'up', detail: 'postgres 15', durationMs: expect.any(Number) },
      { name: 'schema', status: 'up', detail: 'current', durationMs: expect.any(Number) },
    ]);
  });

  it('reports up with no checks registered', async () => {
    expect(await new HealthRegistry().readiness()).toEqual({ status: 'up', checks: [] });
  });

  it('reports down with the detail when one check is down', async () => {
    const registry = new HealthRegistry();
    registry.register(check('database', up()));
    registry.register(check('schema', async () => ({ status: 'down', detail: 'schema behind: 2 migrations pending' })));

    const report = await registry.readiness();
    expect(report.status).toBe('down');
    expect(report.checks.map(({ name, status, detail }) => ({ name, status, detail }))).toEqual([
      { name: 'database', status: 'up', detail: 'ok' },
      { name: 'schema', status: 'down', detail: 'schema behind: 2 migrations pending' },
    ]);
  });

  it('turns a check that throws into down with the error message', async () => {
    const registry = new HealthRegistry();
    registry.register(check('database', up()));
    registry.register(
      check('license', async () => {
        throw new Error('license file unreadable');
      }),
    );

    const report = await registry.readiness();
    expect(report.status).toBe('down');
    expect(report.checks[1]).toMatchObject({ name: 'license', status: 'down', detail: 'license file unreadable' });
  });

  it('turns a check that never answers into down after 5 s, without holding up the others', async () => {
    jest.useFakeTimers();
    const registry = new HealthRegistry();
    registry.register(check('database', () => new Promise<HealthCheckResult>(() => undefined)));
    registry.register(check('schema', up()));

    let settled = false;
    const pending = registry.readiness().then((report) => {
      settled = true;
      return report;
    });

    await jest.advanceTimersByTimeAsync(4_999);
    expect(settled).toBe(false);

    await jest.advanceTimersByTimeAsync(1);
    const report = await pending;
    expect(report.status).toBe('down');
    expect(report.checks).toEqual([
      { name: 'database', status: 'down', detail: 'no answer within 5000 ms', durationMs: 5_000 },
      { name: 'schema', status: 'up', detail: 'ok', durationMs: 0 },
    ]);
    // The timer of every check is cleared once it answers.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects a second check with the same name', () => {
    const registry = new HealthRegistry();
    registry.register(check('database', up()));
    expect(() => registry.register(check('database', up()))).toThrow('health check database registered twice');
  });
});
