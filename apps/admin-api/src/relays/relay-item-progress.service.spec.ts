import { Logger } from '@nestjs/common';
import { ITEM_MAX_POLL_MS, ITEM_POLL_MS, PollBackoff, RelayItemProgress } from './relay-item-progress.service';

describe('PollBackoff (Admin API)', () => {
  it('starts at 100 ms, doubles up to 1 s while nothing changes, and goes back to 100 ms when something arrives', () => {
    const backoff = new PollBackoff();
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      seen.push(backoff.delayMs);
      backoff.grow();
    }
    expect(seen).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([ITEM_POLL_MS, ITEM_MAX_POLL_MS]).toEqual([100, 1000]);
    backoff.reset();
    expect(backoff.delayMs).toBe(100);
  });
});

describe('RelayItemProgress', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Whether the promise settled by now, and with what. */
  function track<T>(promise: Promise<T>): () => T | 'pending' {
    let outcome: T | 'pending' = 'pending';
    void promise.then((value) => (outcome = value));
    return () => outcome;
  }

  it('wakes a waiter on its item at once, and only on its item', async () => {
    const progress = new RelayItemProgress();
    const watch = progress.watch('item-1');
    const waiting = track(watch.next(1000));
    progress.reported('item-2');
    await jest.advanceTimersByTimeAsync(999);
    expect(waiting()).toBe('pending');
    progress.reported('item-1');
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting()).toBe('progress');

    const quiet = track(watch.next(1000));
    await jest.advanceTimersByTimeAsync(1000);
    expect(quiet()).toBe('timeout');
    watch.close();
    expect(progress.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps a report that came between two waits for the next wait, once', async () => {
    const progress = new RelayItemProgress();
    const watch = progress.watch('item-1');
    progress.reported('item-1');
    progress.reported('item-1');
    await expect(watch.next(1000)).resolves.toBe('progress');
    const next = track(watch.next(1000));
    await jest.advanceTimersByTimeAsync(0);
    expect(next()).toBe('pending');
    // Closing ends a pending wait at once, without a timer left behind.
    watch.close();
    await jest.advanceTimersByTimeAsync(0);
    expect(next()).toBe('timeout');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('tells its listeners every report until they stop, and a listener that throws does not stop the others', () => {
    const progress = new RelayItemProgress();
    const heard: string[] = [];
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    progress.subscribe(() => {
      throw new Error('socket gone');
    });
    const stop = progress.subscribe((itemId) => heard.push(itemId));
    expect(() => progress.reported('item-1')).not.toThrow();
    stop();
    progress.reported('item-2');
    expect(heard).toEqual(['item-1']);
    expect(warnings).toHaveBeenCalledTimes(2);
    warnings.mockRestore();
  });
});
