import { ItemWait, PollBackoff, RELAY_MAX_POLL_MS, RELAY_POLL_MS, RelayProgressSignals, WaitOutcome, waitForProgress } from './relay-progress';

describe('PollBackoff', () => {
  it('starts at 100 ms, doubles up to 2 s while nothing changes, and goes back to 100 ms when something arrives', () => {
    const backoff = new PollBackoff();
    const seen: number[] = [];
    for (let i = 0; i < 7; i++) {
      seen.push(backoff.delayMs);
      backoff.grow();
    }
    expect(seen).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect([RELAY_POLL_MS, RELAY_MAX_POLL_MS]).toEqual([100, 2000]);
    backoff.reset();
    expect(backoff.delayMs).toBe(100);
  });

  it('takes its own bounds, never starts above the cap and never sticks at 0', () => {
    const small = new PollBackoff(1, 5);
    small.grow();
    small.grow();
    small.grow();
    expect(small.delayMs).toBe(5);
    expect(new PollBackoff(500, 200).delayMs).toBe(200);
    const zero = new PollBackoff(0, 10);
    zero.grow();
    expect(zero.delayMs).toBe(1);
  });
});

describe('RelayProgressSignals', () => {
  it('wakes the watches of the signalled item only, and each watch once per wake-up', () => {
    const signals = new RelayProgressSignals();
    const woken: string[] = [];
    const a1 = signals.watch('item-a');
    const a2 = signals.watch('item-a');
    const b = signals.watch('item-b');
    a1.onNext(() => woken.push('a1'));
    a2.onNext(() => woken.push('a2'));
    b.onNext(() => woken.push('b'));

    signals.signal('item-a');
    expect(woken).toEqual(['a1', 'a2']);
    signals.signal('item-c');
    expect(woken).toEqual(['a1', 'a2']);
    signals.signalAll();
    expect(woken).toEqual(['a1', 'a2', 'b']);
  });

  it('keeps a wake-up that came while nobody waited for the next wait, once', () => {
    const signals = new RelayProgressSignals();
    const watch = signals.watch('item-a');
    signals.signal('item-a');
    signals.signal('item-a');
    const woken: number[] = [];
    watch.onNext(() => woken.push(1));
    expect(woken).toEqual([1]);
    watch.onNext(() => woken.push(2));
    expect(woken).toEqual([1]);
    signals.signal('item-a');
    expect(woken).toEqual([1, 2]);
  });

  it('does not call a withdrawn or closed watch, and forgets closed watches', () => {
    const signals = new RelayProgressSignals();
    const watch = signals.watch('item-a');
    const other = signals.watch('item-a');
    const woken: string[] = [];
    const withdraw = watch.onNext(() => woken.push('withdrawn'));
    withdraw();
    other.onNext(() => woken.push('closed'));
    other.close();
    expect(signals.size).toBe(1);
    signals.signal('item-a');
    expect(woken).toEqual([]);
    watch.close();
    expect(signals.size).toBe(0);
  });
});

describe('waiting for progress', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** The outcome once settled, or 'pending'. */
  function track(promise: Promise<WaitOutcome>): () => WaitOutcome | 'pending' {
    let outcome: WaitOutcome | 'pending' = 'pending';
    void promise.then((value) => (outcome = value));
    return () => outcome;
  }

  it('ends at the first of a wake-up, the timer or the signal', async () => {
    const signals = new RelayProgressSignals();
    const watch = signals.watch('item-a');
    const stop = new AbortController();

    const woken = track(waitForProgress(watch, 2000, stop.signal));
    await jest.advanceTimersByTimeAsync(1999);
    expect(woken()).toBe('pending');
    signals.signal('item-a');
    await jest.advanceTimersByTimeAsync(0);
    expect(woken()).toBe('progress');

    const timed = track(waitForProgress(watch, 2000, stop.signal));
    await jest.advanceTimersByTimeAsync(1999);
    expect(timed()).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(timed()).toBe('timer');

    const stopped = track(waitForProgress(watch, 2000, stop.signal));
    stop.abort();
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped()).toBe('stopped');
    await expect(waitForProgress(watch, 2000, stop.signal)).resolves.toBe('stopped');
    // Nothing left behind: no timer, and the watch's waiter withdrawn.
    expect(jest.getTimerCount()).toBe(0);
    signals.signal('item-a');
    await expect(waitForProgress(watch, 2000, new AbortController().signal)).resolves.toBe('progress');
  });

  it('without a watch, waits for the timer alone', async () => {
    const timed = track(waitForProgress(undefined, 100, new AbortController().signal));
    await jest.advanceTimersByTimeAsync(99);
    expect(timed()).toBe('pending');
    await jest.advanceTimersByTimeAsync(1);
    expect(timed()).toBe('timer');
  });

  /** Asserts that the pause ends exactly after `ms` of the fake clock, not a millisecond sooner. */
  async function expectPauseOf(wait: ItemWait, ms: number): Promise<void> {
    let done = false;
    const paused = wait.pause().then((goOn) => {
      done = true;
      return goOn;
    });
    await jest.advanceTimersByTimeAsync(ms - 1);
    expect({ ms, done }).toEqual({ ms, done: false });
    await jest.advanceTimersByTimeAsync(1);
    expect({ ms, done }).toEqual({ ms, done: true });
    await expect(paused).resolves.toBe(true);
  }

  it('an item wait doubles its interval while it hears nothing and starts over at a wake-up', async () => {
    const signals = new RelayProgressSignals();
    const wait = new ItemWait('item-a', signals, new PollBackoff(), new AbortController().signal);
    for (const ms of [100, 200, 400, 800, 1600, 2000, 2000]) await expectPauseOf(wait, ms);

    // A wake-up ends the wait at once, however long its interval.
    const woken = wait.pause();
    signals.signal('item-a');
    await expect(woken).resolves.toBe(true);
    await expectPauseOf(wait, 100);
    await expectPauseOf(wait, 200);

    const stop = new AbortController();
    const stopped = new ItemWait('item-a', signals, new PollBackoff(), stop.signal);
    const stopping = stopped.pause();
    stop.abort();
    await expect(stopping).resolves.toBe(false);
    wait.close();
    stopped.close();
    expect(signals.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('an item wait without a source only polls', async () => {
    const wait = new ItemWait('item-a', undefined, new PollBackoff(), new AbortController().signal);
    await expectPauseOf(wait, 100);
    await expectPauseOf(wait, 200);
    wait.close();
  });
});
