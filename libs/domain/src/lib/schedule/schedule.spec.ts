import { DomainError } from '../errors/domain-error';
import {
  canonicalSchedule,
  ConnectorSchedule,
  decideChainStep,
  decideScheduleTick,
  describeSchedule,
  dueFire,
  MISSED_FIRES_COUNTED,
  nextFireAfter,
  parseSchedule,
  scheduleProblems,
} from './schedule';
import { ScheduleInvalidError } from './schedule.errors';

const CHAIN = ['delta-import', 'delta-sync', 'export'] as const;
const at = (iso: string) => new Date(iso);

function invalid(value: unknown): ScheduleInvalidError {
  try {
    parseSchedule(value);
  } catch (error) {
    if (error instanceof ScheduleInvalidError) return error;
    throw error;
  }
  throw new Error('the schedule was accepted');
}

describe('parseSchedule', () => {
  it('accepts a cron schedule with a time zone and an interval schedule, applying the defaults', () => {
    expect(parseSchedule({ cron: ' 0 2 * * * ', timezone: 'Europe/Berlin', profiles: ['full-import', 'full-sync', 'export'] })).toEqual({
      kind: 'cron',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      profiles: ['full-import', 'full-sync', 'export'],
      enabled: true,
    });
    expect(parseSchedule({ intervalSeconds: 900, profiles: [...CHAIN], enabled: false })).toEqual({ kind: 'interval', intervalSeconds: 900, profiles: [...CHAIN], enabled: false });
    expect(parseSchedule({ cron: '@hourly', profiles: ['delta-import'] })).toMatchObject({ cron: '@hourly', timezone: 'UTC' });
  });

  it('names the time zone canonically, so a differently spelled zone is the same schedule', () => {
    expect(parseSchedule({ cron: '0 2 * * *', timezone: 'europe/berlin', profiles: ['export'] })).toMatchObject({ timezone: 'Europe/Berlin' });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['not an object', ['0 2 * * *'], '', /must be an object/],
    ['neither cron nor interval', { profiles: ['export'] }, 'cron', /or intervalSeconds is required/],
    ['both cron and interval', { cron: '0 2 * * *', intervalSeconds: 60, profiles: ['export'] }, 'cron', /exclude each other/],
    ['a six-field pattern', { cron: '0 0 2 * * *', profiles: ['export'] }, 'cron', /not a five-field cron pattern.*5 parts/],
    ['a value out of range', { cron: '61 * * * *', profiles: ['export'] }, 'cron', /Invalid value for minute: 61/],
    ['a pattern that never fires', { cron: '0 0 30 2 *', profiles: ['export'] }, 'cron', /never fires/],
    ['an empty pattern', { cron: '  ', profiles: ['export'] }, 'cron', /must be a cron pattern/],
    ['an unknown time zone', { cron: '0 2 * * *', timezone: 'Mars/Olympus', profiles: ['export'] }, 'timezone', /IANA time zone/],
    ['a time zone on an interval', { intervalSeconds: 600, timezone: 'UTC', profiles: ['export'] }, 'timezone', /cron schedule only/],
    ['an interval below a minute', { intervalSeconds: 59, profiles: ['export'] }, 'intervalSeconds', /from 60 to/],
    ['a fractional interval', { intervalSeconds: 90.5, profiles: ['export'] }, 'intervalSeconds', /whole number/],
    ['an interval as text', { intervalSeconds: '900', profiles: ['export'] }, 'intervalSeconds', /whole number/],
    ['no profiles', { intervalSeconds: 600, profiles: [] }, 'profiles', /must list the run profiles/],
    ['an unknown profile', { intervalSeconds: 600, profiles: ['delta-import', 'sync'] }, 'profiles[1]', /must be one of full-import, .*\(got "sync"\)/],
    ['too long a chain', { intervalSeconds: 600, profiles: Array(11).fill('export') }, 'profiles', /at most 10/],
    ['enabled as text', { intervalSeconds: 600, profiles: ['export'], enabled: 'yes' }, 'enabled', /true or false/],
    ['an unknown field', { intervalSeconds: 600, profiles: ['export'], every: '10m' }, 'every', /not a schedule field/],
  ])('refuses %s with SCHEDULE_INVALID naming the field', (_name, value, field, problem) => {
    const error = invalid(value);
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('SCHEDULE_INVALID');
    expect(error.field).toBe(field);
    expect(error.problems[0].problem).toMatch(problem);
    expect(error.message).toContain(field ? `schedule: ${field} ` : 'schedule: ');
  });

  it('lists every problem at once', () => {
    expect(scheduleProblems({ cron: 'nope', profiles: ['x'], enabled: 1 }).map((p) => p.field)).toEqual(['cron', 'profiles[0]', 'enabled']);
    expect(scheduleProblems({ intervalSeconds: 600, profiles: ['export'] })).toEqual([]);
  });
});

describe('next fires', () => {
  const cron = (pattern: string, timezone = 'UTC'): ConnectorSchedule => parseSchedule({ cron: pattern, timezone, profiles: ['delta-import'] });
  const interval = (seconds: number): ConnectorSchedule => parseSchedule({ intervalSeconds: seconds, profiles: ['delta-import'] });

  it('reads a cron pattern in its time zone (UTC by default), strictly after the reference', () => {
    expect(nextFireAfter(cron('0 2 * * *'), at('2026-01-10T12:00:00Z'))).toEqual(at('2026-01-11T02:00:00Z'));
    expect(nextFireAfter(cron('0 2 * * *', 'Europe/Berlin'), at('2026-01-10T12:00:00Z'))).toEqual(at('2026-01-11T01:00:00Z'));
    expect(nextFireAfter(cron('0 2 * * *', 'Europe/Berlin'), at('2026-07-10T12:00:00Z'))).toEqual(at('2026-07-11T00:00:00Z'));
    expect(nextFireAfter(cron('0 2 * * *', 'America/New_York'), at('2026-01-10T12:00:00Z'))).toEqual(at('2026-01-11T07:00:00Z'));
    expect(nextFireAfter(cron('0 * * * *'), at('2026-01-10T12:00:00Z'))).toEqual(at('2026-01-10T13:00:00Z'));
  });

  it('fires a daily time that falls into the spring-forward gap once, right after the gap', () => {
    // Berlin skips 02:00–03:00 local on 29 March 2026.
    const schedule = cron('30 2 * * *', 'Europe/Berlin');
    expect(nextFireAfter(schedule, at('2026-03-28T12:00:00Z'))).toEqual(at('2026-03-29T01:00:00Z'));
    expect(nextFireAfter(schedule, at('2026-03-29T01:00:00Z'))).toEqual(at('2026-03-30T00:30:00Z'));
  });

  it('fires a daily time that occurs twice at fall-back once, at its first occurrence', () => {
    // Berlin has 02:00–03:00 local twice on 25 October 2026.
    const schedule = cron('30 2 * * *', 'Europe/Berlin');
    const first = nextFireAfter(schedule, at('2026-10-24T12:00:00Z'));
    expect(first).toEqual(at('2026-10-25T00:30:00Z'));
    expect(nextFireAfter(schedule, first as Date)).toEqual(at('2026-10-26T01:30:00Z'));
  });

  it('keeps an every-30-minutes pattern on real time across the fall-back hour', () => {
    const schedule = cron('*/30 * * * *', 'Europe/Berlin');
    const fires: Date[] = [];
    for (let t = at('2026-10-25T00:10:00Z'); fires.length < 5; ) fires.push((t = nextFireAfter(schedule, t) as Date));
    expect(fires.map((d) => d.toISOString())).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T02:30:00.000Z']);
  });

  it('counts an interval from its marker', () => {
    expect(nextFireAfter(interval(900), at('2026-01-10T12:00:00Z'))).toEqual(at('2026-01-10T12:15:00Z'));
  });

  it('is due at the slot itself, not before', () => {
    expect(dueFire(interval(900), at('2026-01-10T12:00:00Z'), at('2026-01-10T12:14:59.999Z'))).toBeNull();
    expect(dueFire(interval(900), at('2026-01-10T12:00:00Z'), at('2026-01-10T12:15:00Z'))).toEqual({ slot: at('2026-01-10T12:15:00Z'), firstDueAt: at('2026-01-10T12:15:00Z'), missed: 0 });
    expect(dueFire(cron('0 * * * *'), at('2026-01-10T12:00:00Z'), at('2026-01-10T12:59:59Z'))).toBeNull();
    expect(dueFire(cron('0 * * * *'), at('2026-01-10T12:00:00Z'), at('2026-01-10T13:00:04Z'))).toEqual({ slot: at('2026-01-10T13:00:00Z'), firstDueAt: at('2026-01-10T13:00:00Z'), missed: 0 });
  });

  it('folds the fires missed while no engine ran into one fire at the latest slot', () => {
    expect(dueFire(interval(3600), at('2026-01-10T00:00:00Z'), at('2026-01-11T00:30:00Z'))).toEqual({ slot: at('2026-01-11T00:00:00Z'), firstDueAt: at('2026-01-10T01:00:00Z'), missed: 23 });
    expect(dueFire(cron('0 2 * * *', 'Europe/Berlin'), at('2026-03-27T01:00:00Z'), at('2026-03-30T12:00:00Z'))).toEqual({
      slot: at('2026-03-30T00:00:00Z'),
      firstDueAt: at('2026-03-28T01:00:00Z'),
      missed: 2,
    });
  });

  it('stops counting missed fires at a bound but still finds the latest slot', () => {
    const due = dueFire(cron('* * * * *'), at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:30Z'));
    expect(due).toEqual({ slot: at('2026-02-01T00:00:00Z'), firstDueAt: at('2026-01-01T00:01:00Z'), missed: MISSED_FIRES_COUNTED });
  });

  it('describes schedules for logs and keys them stably', () => {
    expect(describeSchedule(cron('0 2 * * *', 'Europe/Berlin'))).toBe('cron "0 2 * * *" (Europe/Berlin)');
    expect(describeSchedule(interval(900))).toBe('every 900 s');
    expect(canonicalSchedule(parseSchedule({ profiles: ['export'], intervalSeconds: 900 }))).toBe(canonicalSchedule(parseSchedule({ intervalSeconds: 900, profiles: ['export'], enabled: true })));
    expect(canonicalSchedule(interval(900))).not.toBe(canonicalSchedule(interval(901)));
  });
});

describe('decideScheduleTick', () => {
  const schedule = parseSchedule({ intervalSeconds: 600, profiles: [...CHAIN] });
  const now = at('2026-01-10T12:00:00.750Z');

  it('starts a new schedule counting from now, in whole seconds, without firing', () => {
    expect(decideScheduleTick({ schedule, inEffect: true, key: 'k1', marker: null, now })).toEqual({
      kind: 'baseline',
      markAt: at('2026-01-10T12:00:00Z'),
      nextFireAt: at('2026-01-10T12:10:00Z'),
    });
  });

  it('starts afresh when the schedule was changed, instead of firing what the old one missed', () => {
    const marker = { key: 'k1', markAt: at('2026-01-01T00:00:00Z') };
    expect(decideScheduleTick({ schedule, inEffect: true, key: 'k2', marker, now })).toMatchObject({ kind: 'baseline', markAt: at('2026-01-10T12:00:00Z') });
  });

  it('waits before the slot and fires at it', () => {
    const marker = { key: 'k1', markAt: at('2026-01-10T11:55:00Z') };
    expect(decideScheduleTick({ schedule, inEffect: true, key: 'k1', marker, now })).toEqual({ kind: 'wait', nextFireAt: at('2026-01-10T12:05:00Z') });
    expect(decideScheduleTick({ schedule, inEffect: true, key: 'k1', marker, now: at('2026-01-10T12:05:01Z') })).toEqual({
      kind: 'fire',
      slot: at('2026-01-10T12:05:00Z'),
      firstDueAt: at('2026-01-10T12:05:00Z'),
      missed: 0,
      nextFireAt: at('2026-01-10T12:15:00Z'),
    });
  });

  it('does nothing for a disabled schedule or a connector the engine does not run, once their marker is set', () => {
    const marker = { key: 'k1', markAt: at('2026-01-01T00:00:00Z') };
    expect(decideScheduleTick({ schedule: { ...schedule, enabled: false }, inEffect: true, key: 'k1', marker, now })).toEqual({ kind: 'idle' });
    expect(decideScheduleTick({ schedule, inEffect: false, key: 'k1', marker, now })).toEqual({ kind: 'idle' });
    expect(decideScheduleTick({ schedule: null, inEffect: true, key: 'k1', marker, now })).toEqual({ kind: 'idle' });
    expect(decideScheduleTick({ schedule: null, inEffect: true, key: 'k1', marker: null, now })).toMatchObject({ kind: 'baseline', nextFireAt: null });
  });
});

describe('decideChainStep', () => {
  it('goes on after a run that succeeded, with or without per-object errors', () => {
    expect(decideChainStep('succeeded', 0, CHAIN)).toEqual({ kind: 'continue', step: 1, profile: 'delta-sync' });
    expect(decideChainStep('completed-with-errors', 1, CHAIN)).toEqual({ kind: 'continue', step: 2, profile: 'export' });
    expect(decideChainStep('succeeded', 2, CHAIN)).toEqual({ kind: 'complete' });
  });

  it('stops after a run that failed, stopped at its error threshold, holds deletes or was cancelled', () => {
    for (const status of ['failed', 'stopped-error-threshold', 'held-for-approval', 'cancelled'] as const) expect(decideChainStep(status, 0, CHAIN)).toEqual({ kind: 'stop' });
  });

  it('waits while the run is queued or running', () => {
    expect(decideChainStep('queued', 0, CHAIN)).toEqual({ kind: 'pending' });
    expect(decideChainStep('running', 0, CHAIN)).toEqual({ kind: 'pending' });
  });
});
