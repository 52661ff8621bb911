import { Cron } from 'croner';
import { isOneOf, RUN_PROFILES } from '../model/vocabulary';
import type { RunProfile, RunStatus } from '../model/vocabulary';
import { ScheduleInvalidError } from './schedule.errors';
import type { ScheduleProblem } from './schedule.errors';

/**
 * A connector's schedule as it is stored (`IM_Connectors.schedule`, JSON) and
 * written through the Admin API. Exactly one of `cron` and `intervalSeconds`.
 *
 * @example { "cron": "0 2 * * *", "timezone": "Europe/Berlin", "profiles": ["full-import", "full-sync", "export"] }
 * @example { "intervalSeconds": 900, "profiles": ["delta-import", "delta-sync", "export"] }
 */
export interface ScheduleDefinition {
  /** A five-field cron pattern (minute hour day-of-month month day-of-week) or a nickname such as `@daily`. */
  cron?: string;
  /** The IANA time zone the cron pattern is read in (`Europe/Berlin`); only with `cron`. @default "UTC" */
  timezone?: string;
  /** Seconds between fires, at least 60; counted from the moment the engine first saw the schedule. */
  intervalSeconds?: number;
  /** The chain: the run profiles run one after another, each once the one before it succeeded. */
  profiles: RunProfile[];
  /** A disabled schedule fires nothing; the connector can still be run by hand. @default true */
  enabled?: boolean;
}

/** A validated schedule with its defaults applied. */
export type ConnectorSchedule = (
  | { kind: 'cron'; cron: string; timezone: string }
  | { kind: 'interval'; intervalSeconds: number }
) & { profiles: readonly RunProfile[]; enabled: boolean };

/** Below a minute a chain could not even be queued before the next fire; cron cannot go finer either. */
export const MIN_INTERVAL_SECONDS = 60;
/** A year and a day: anything longer is a typo, not a schedule. */
export const MAX_INTERVAL_SECONDS = 366 * 24 * 3600;
export const MAX_CHAIN_LENGTH = 10;
const MAX_CRON_LENGTH = 128;
const FIELDS = ['cron', 'timezone', 'intervalSeconds', 'profiles', 'enabled'] as const;
/** A pattern without any match after this instant never matches: five-field patterns have no year. */
const NEVER_FIRES_PROBE = new Date(Date.UTC(2000, 0, 1));

/** Every problem of a would-be schedule; empty when it is valid. */
export function scheduleProblems(value: unknown): ScheduleProblem[] {
  return check(value).problems;
}

/** Validates a stored or submitted schedule and applies its defaults; throws {@link ScheduleInvalidError} (`SCHEDULE_INVALID`). */
export function parseSchedule(value: unknown): ConnectorSchedule {
  const { problems, schedule } = check(value);
  if (!schedule) throw new ScheduleInvalidError(problems);
  return schedule;
}

function check(value: unknown): { problems: ScheduleProblem[]; schedule?: ConnectorSchedule } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [{ field: '', problem: 'must be an object with either cron or intervalSeconds, and profiles' }] };
  }
  const input = value as Record<string, unknown>;
  const problems: ScheduleProblem[] = [];
  for (const key of Object.keys(input)) {
    if (!isOneOf(FIELDS, key)) problems.push({ field: key, problem: `is not a schedule field (allowed: ${FIELDS.join(', ')})` });
  }

  const hasCron = input['cron'] !== undefined;
  const hasInterval = input['intervalSeconds'] !== undefined;
  if (hasCron && hasInterval) problems.push({ field: 'cron', problem: 'and intervalSeconds exclude each other: give exactly one of them' });
  if (!hasCron && !hasInterval) problems.push({ field: 'cron', problem: 'or intervalSeconds is required' });

  let timezone = 'UTC';
  if (input['timezone'] !== undefined) {
    const zone = canonicalTimeZone(input['timezone']);
    if (!hasCron) problems.push({ field: 'timezone', problem: 'applies to a cron schedule only' });
    else if (zone === null) problems.push({ field: 'timezone', problem: `must be an IANA time zone such as "Europe/Berlin" or "UTC" (got ${JSON.stringify(input['timezone'])})` });
    else timezone = zone;
  }

  let cron: string | undefined;
  if (hasCron) {
    const pattern = input['cron'];
    const problem = cronProblem(pattern, timezone);
    if (problem) problems.push({ field: 'cron', problem });
    else cron = (pattern as string).trim();
  }

  const interval = input['intervalSeconds'];
  if (hasInterval && (typeof interval !== 'number' || !Number.isInteger(interval) || interval < MIN_INTERVAL_SECONDS || interval > MAX_INTERVAL_SECONDS)) {
    problems.push({ field: 'intervalSeconds', problem: `must be a whole number of seconds from ${MIN_INTERVAL_SECONDS} to ${MAX_INTERVAL_SECONDS} (got ${JSON.stringify(interval)})` });
  }

  const profiles = input['profiles'];
  if (!Array.isArray(profiles) || profiles.length === 0) {
    problems.push({ field: 'profiles', problem: `must list the run profiles to run in order, for example ["delta-import", "delta-sync", "export"] (got ${JSON.stringify(profiles)})` });
  } else {
    if (profiles.length > MAX_CHAIN_LENGTH) problems.push({ field: 'profiles', problem: `may name at most ${MAX_CHAIN_LENGTH} profiles (got ${profiles.length})` });
    profiles.forEach((profile, i) => {
      if (!isOneOf(RUN_PROFILES, profile)) problems.push({ field: `profiles[${i}]`, problem: `must be one of ${RUN_PROFILES.join(', ')} (got ${JSON.stringify(profile)})` });
    });
  }

  const enabled = input['enabled'];
  if (enabled !== undefined && typeof enabled !== 'boolean') problems.push({ field: 'enabled', problem: `must be true or false (got ${JSON.stringify(enabled)})` });

  if (problems.length > 0) return { problems };
  const common = { profiles: [...(profiles as RunProfile[])], enabled: enabled !== false };
  const schedule: ConnectorSchedule = cron !== undefined ? { kind: 'cron', cron, timezone, ...common } : { kind: 'interval', intervalSeconds: interval as number, ...common };
  return { problems, schedule };
}

function cronProblem(pattern: unknown, timezone: string): string | undefined {
  if (typeof pattern !== 'string' || pattern.trim() === '') return `must be a cron pattern such as "0 2 * * *" (got ${JSON.stringify(pattern)})`;
  if (pattern.length > MAX_CRON_LENGTH) return `may be at most ${MAX_CRON_LENGTH} characters long`;
  try {
    const next = cronOf(pattern.trim(), timezone).nextRun(NEVER_FIRES_PROBE);
    return next ? undefined : `"${pattern}" never fires`;
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern:\s*/, '');
    return `"${pattern}" is not a five-field cron pattern (minute hour day-of-month month day-of-week): ${reason}`;
  }
}

/** The zone's canonical IANA name, or null when the runtime does not know it. */
function canonicalTimeZone(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value.trim() }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Five fields only: a seconds field would invite schedules finer than the engine's tick can honour. */
function cronOf(pattern: string, timezone: string): Cron {
  return new Cron(pattern, { timezone, mode: '5-part' });
}

/** `cron "0 2 * * *" (Europe/Berlin)` or `every 900 s`, for logs and messages. */
export function describeSchedule(schedule: ConnectorSchedule): string {
  return schedule.kind === 'cron' ? `cron "${schedule.cron}" (${schedule.timezone})` : `every ${schedule.intervalSeconds} s`;
}

/** `delta-import → delta-sync → export`. */
export function describeChain(profiles: readonly RunProfile[]): string {
  return profiles.join(' → ');
}

/**
 * The schedule in one stable text (fixed key order, defaults applied), so a
 * stored marker can tell whether the schedule it was set under is still the
 * one in force.
 */
export function canonicalSchedule(schedule: ConnectorSchedule): string {
  const when = schedule.kind === 'cron' ? { cron: schedule.cron, timezone: schedule.timezone } : { intervalSeconds: schedule.intervalSeconds };
  return JSON.stringify({ ...when, profiles: schedule.profiles, enabled: schedule.enabled });
}

/**
 * The schedule's first fire strictly after `after`. For an interval the
 * fires form a grid anchored at `after` (the marker: the last fire or the
 * moment the schedule was first seen). Null: the cron pattern has no later match.
 */
export function nextFireAfter(schedule: ConnectorSchedule, after: Date): Date | null {
  if (schedule.kind === 'interval') return new Date(after.getTime() + schedule.intervalSeconds * 1000);
  return cronOf(schedule.cron, schedule.timezone).nextRun(after);
}

/** How many missed fires are counted for the log before counting stops. */
export const MISSED_FIRES_COUNTED = 1000;

/** A fire that is due: the latest slot at or before now, and the ones before it that will not run. */
export interface DueFire {
  /** The latest due slot; the marker moves here. */
  slot: Date;
  /** The first slot after the marker; equals `slot` unless fires were missed. */
  firstDueAt: Date;
  /** Due slots before `slot` that are folded into this one fire, counted up to {@link MISSED_FIRES_COUNTED}. */
  missed: number;
}

/**
 * Whether the schedule is due at `now`, given the slot its marker stands at.
 * All slots that came due since the marker fold into one fire at the latest
 * of them: an engine that was down for a day runs an hourly chain once when
 * it is back, not 24 times.
 */
export function dueFire(schedule: ConnectorSchedule, markAt: Date, now: Date): DueFire | null {
  const first = nextFireAfter(schedule, markAt);
  if (!first || first.getTime() > now.getTime()) return null;
  if (schedule.kind === 'interval') {
    const stepMs = schedule.intervalSeconds * 1000;
    const steps = Math.floor((now.getTime() - markAt.getTime()) / stepMs);
    return { slot: new Date(markAt.getTime() + steps * stepMs), firstDueAt: first, missed: Math.min(steps - 1, MISSED_FIRES_COUNTED) };
  }
  const cron = cronOf(schedule.cron, schedule.timezone);
  let slot = first;
  let missed = 0;
  for (let next = cron.nextRun(slot); next && next.getTime() <= now.getTime(); next = cron.nextRun(slot)) {
    slot = next;
    if (++missed >= MISSED_FIRES_COUNTED) {
      // Counting stops here; the latest slot is found backwards from now instead.
      const latest = cron.previousRuns(1, new Date(now.getTime() + 1))[0];
      if (latest && latest.getTime() > slot.getTime()) slot = latest;
      break;
    }
  }
  return { slot, firstDueAt: first, missed };
}

/** Where a connector's schedule marker stands: the schedule it was set under (`key`) and its slot. */
export interface ScheduleMarker {
  key: string;
  markAt: Date;
}

/** What one scheduler tick does for one connector. */
export type ScheduleTickDecision =
  /** No marker, or one set under another schedule (edited, switched on or off): start counting from now, fire nothing. */
  | { kind: 'baseline'; markAt: Date; nextFireAt: Date | null }
  /** The schedule is disabled, invalid, or its connector is not run by the engine. */
  | { kind: 'idle' }
  | { kind: 'wait'; nextFireAt: Date | null }
  | ({ kind: 'fire'; nextFireAt: Date | null } & DueFire);

/**
 * Decides one tick for one connector. `key` identifies the schedule in force
 * together with whether it is in effect; a marker with another key was set
 * under a different schedule, so a change is never retroactive: an edited
 * or re-enabled schedule first fires at its next slot after the change.
 */
export function decideScheduleTick(input: { schedule: ConnectorSchedule | null; inEffect: boolean; key: string; marker: ScheduleMarker | null; now: Date }): ScheduleTickDecision {
  const { marker, now } = input;
  const schedule = input.schedule?.enabled && input.inEffect ? input.schedule : null;
  if (!marker || marker.key !== input.key) {
    // Whole seconds: MySQL/MariaDB keep no fraction, and a marker must read back exactly as written.
    const markAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
    return { kind: 'baseline', markAt, nextFireAt: schedule ? nextFireAfter(schedule, markAt) : null };
  }
  if (!schedule) return { kind: 'idle' };
  const due = dueFire(schedule, marker.markAt, now);
  if (!due) return { kind: 'wait', nextFireAt: nextFireAfter(schedule, marker.markAt) };
  return { kind: 'fire', ...due, nextFireAt: nextFireAfter(schedule, due.slot) };
}

/**
 * Where a scheduled chain stands at one of its runs: `open` until the
 * scheduler acted on the run's end, then `continued` (the next step is
 * queued), `completed` (it was the last step) or `stopped`.
 */
export const RUN_CHAIN_STATES = ['open', 'continued', 'completed', 'stopped'] as const;
export type RunChainState = (typeof RUN_CHAIN_STATES)[number];

/** What a schedule marker last recorded: a new or changed schedule, a chain queued, or a fire skipped. */
export const SCHEDULE_MARKER_OUTCOMES = ['baseline', 'queued', 'skipped'] as const;
export type ScheduleMarkerOutcome = (typeof SCHEDULE_MARKER_OUTCOMES)[number];

/** Statuses after which a chain goes on with its next profile; every other end stops it. */
export const CHAIN_CONTINUING_STATUSES: readonly RunStatus[] = ['succeeded', 'completed-with-errors'];

/** What follows a chain's run. */
export type ChainStepDecision =
  | { kind: 'pending' }
  | { kind: 'continue'; step: number; profile: RunProfile }
  | { kind: 'complete' }
  | { kind: 'stop' };

/**
 * The chain's next move after its run at `step` (0-based) reached `status`:
 * a run that succeeded (with or without per-object errors) is followed by the
 * next profile; one that failed, was stopped at its error threshold, holds
 * deletes for approval or was cancelled stops the chain, since what follows
 * would work from incomplete data.
 */
export function decideChainStep(status: RunStatus, step: number, profiles: readonly RunProfile[]): ChainStepDecision {
  if (status === 'queued' || status === 'running') return { kind: 'pending' };
  if (!CHAIN_CONTINUING_STATUSES.includes(status)) return { kind: 'stop' };
  const next = step + 1;
  return next < profiles.length ? { kind: 'continue', step: next, profile: profiles[next] } : { kind: 'complete' };
}
