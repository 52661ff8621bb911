import type { RelayWorkItemView, RelayWorkQueueRepository } from '@identitymesh/persistence';
import { RelayConnectionTests } from './relay-connection-tests.service';
import type { RelayHubGateway } from './relay-hub.gateway';
import { RelayItemProgress } from './relay-item-progress.service';

/** The one test-connection item of a test, in memory; `reads` has the fake-clock time of every look at it. */
function fakeQueue() {
  let item: RelayWorkItemView | null = null;
  const reads: number[] = [];
  const queue = {
    enqueue: async (input: Omit<RelayWorkItemView, 'id' | 'status' | 'relayId' | 'attempts' | 'result' | 'resultAppliedAt' | 'createdAt' | 'updatedAt'>, now: Date) => {
      item = { id: 'item-1', ...input, status: 'queued', relayId: null, attempts: 0, result: null, resultAppliedAt: null, createdAt: now, updatedAt: now };
      return { ...item };
    },
    get: async () => {
      reads.push(Date.now());
      return item ? { ...item } : null;
    },
  };
  const finish = (result: RelayWorkItemView['result']) => {
    if (item) item = { ...item, status: 'done', result };
  };
  return { queue: queue as unknown as RelayWorkQueueRepository, reads, finish };
}

describe('RelayConnectionTests', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const connector = { id: 'c-1', relayGroup: 'branch' };
  const intervals = (times: number[]) => times.slice(1).map((time, i) => time - times[i]);

  function tests() {
    const fake = fakeQueue();
    const notified: string[] = [];
    const hub = { notifyGroup: (group: string) => notified.push(group) } as unknown as RelayHubGateway;
    const progress = new RelayItemProgress();
    return { ...fake, notified, progress, service: new RelayConnectionTests(fake.queue, hub, progress) };
  }

  it('is woken as soon as this process completes the item, between two polls', async () => {
    const { service, progress, reads, finish, notified } = tests();
    let answer: unknown = null;
    void service.test(connector).then((result) => (answer = result));
    await jest.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1000 + 500);
    expect(notified).toEqual(['branch']);
    // Polled while nothing happened: from 100 ms, doubling up to 1 s.
    expect(intervals(reads)).toEqual([200, 400, 800, 1000]);
    expect(reads).toHaveLength(5);

    finish({ testConnection: { ok: true, detail: 'read 1 row' } });
    progress.reported('item-1');
    // No time passes: the wake-up, not the poll 500 ms later, ends the wait.
    await jest.advanceTimersByTimeAsync(0);
    expect(answer).toEqual({ ok: true, code: null, detail: 'on a relay of group "branch": read 1 row' });
    expect(progress.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('finds a result another instance took at its poll, and says when no relay answered in time', async () => {
    const { service, reads, finish } = tests();
    let answer: unknown = null;
    void service.test(connector).then((result) => (answer = result));
    await jest.advanceTimersByTimeAsync(100 + 200 + 400);
    finish({ testConnection: { ok: false, detail: 'refused' } });
    await jest.advanceTimersByTimeAsync(799);
    expect(answer).toBeNull();
    await jest.advanceTimersByTimeAsync(1);
    expect(answer).toEqual({ ok: false, code: null, detail: 'on a relay of group "branch": refused' });
    expect(reads).toHaveLength(4);

    const silent = tests();
    let unanswered: unknown = null;
    void silent.service.test(connector, 3_000).then((result) => (unanswered = result));
    await jest.advanceTimersByTimeAsync(3_000);
    expect(unanswered).toEqual({ ok: false, code: 'CONNECTOR_UNREACHABLE', detail: expect.stringContaining('no relay of group "branch" answered within 3 s') });
    expect(silent.progress.size).toBe(0);
  });
});
