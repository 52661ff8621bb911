import { backoffDelay, withTransientRetry } from './retry-policy';
import { isTransientDatabaseError } from './transient-errors';

const transient = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
const permanent = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });

describe('withTransientRetry', () => {
  it('retries transient faults and returns the eventual result', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withTransientRetry(
      'test',
      async () => {
        calls++;
        if (calls < 3) throw transient;
        return 'done';
      },
      { sleep: async (ms) => void delays.push(ms) },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('gives up after five attempts with the last error', async () => {
    let calls = 0;
    await expect(
      withTransientRetry(
        'test',
        async () => {
          calls++;
          throw transient;
        },
        { sleep: async () => undefined },
      ),
    ).rejects.toBe(transient);
    expect(calls).toBe(5);
  });

  it('never retries a permanent error', async () => {
    let calls = 0;
    await expect(
      withTransientRetry(
        'test',
        async () => {
          calls++;
          throw permanent;
        },
        { sleep: async () => undefined },
      ),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
  });

  it('grows the delay exponentially and caps it at 30 s', () => {
    const max = () => 1;
    expect(backoffDelay(1, 500, 30_000, max)).toBe(500);
    expect(backoffDelay(2, 500, 30_000, max)).toBe(1_000);
    expect(backoffDelay(4, 500, 30_000, max)).toBe(4_000);
    expect(backoffDelay(12, 500, 30_000, max)).toBe(30_000);
    expect(backoffDelay(12, 500, 30_000, () => 0)).toBe(15_000);
  });
});

describe('isTransientDatabaseError', () => {
  it.each([
    ['pg admin shutdown', { code: '57P01' }],
    ['pg deadlock', { code: '40P01' }],
    ['pg connection failure class', { code: '08006' }],
    ['mysql deadlock', { errno: 1213, code: 'ER_LOCK_DEADLOCK' }],
    ['mysql lost connection', { code: 'PROTOCOL_CONNECTION_LOST' }],
    ['mssql deadlock victim', { number: 1205 }],
    ['sqlite busy', { code: 'SQLITE_BUSY' }],
    ['refused socket', { code: 'ECONNREFUSED' }],
    ['wrapped by TypeORM', { message: 'query failed', driverError: { code: '40001' } }],
    ['pg socket died', { message: 'Connection terminated unexpectedly' }],
  ])('treats %s as transient', (_name, error) => {
    expect(isTransientDatabaseError(error)).toBe(true);
  });

  it.each([
    ['unique violation', { code: '23505' }],
    ['syntax error', { code: '42601' }],
    ['mysql duplicate', { errno: 1062, code: 'ER_DUP_ENTRY' }],
    ['plain error', new Error('boom')],
    ['undefined', undefined],
  ])('treats %s as permanent', (_name, error) => {
    expect(isTransientDatabaseError(error)).toBe(false);
  });
});
