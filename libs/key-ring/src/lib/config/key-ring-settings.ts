import { z } from 'zod';
import { DomainError } from '@identitymesh/domain';

const SECOND = 1000;
const HOUR = 60 * 60 * SECOND;
const DAY = 24 * HOUR;

/** The rotation schedule. Every duration is in milliseconds. */
export interface KeyRingSettings {
  /**
   * How long a key is the one that protects new tokens, from its activation
   * until the next key takes over.
   * @default 90 days
   */
  keyLifetimeMs: number;
  /**
   * How long before it takes over the next key is created. Every process
   * reads the ring at least once per `refreshIntervalMs`, so with a lead
   * longer than that no process meets a token protected under a key it has
   * not loaded yet.
   * @default 2 days
   */
  activationLeadMs: number;
  /**
   * How long a key keeps validating after the next key took over. It bounds
   * the lifetime of a token: `protect` refuses an `expiresAt` further away
   * than this, so a token never outlives the key it was protected under.
   * @default 14 days
   */
  validationGraceMs: number;
  /**
   * How long an expired key stays in the table (answering "expired" rather
   * than "unknown") before it is removed.
   * @default 30 days
   */
  retentionMs: number;
  /**
   * The longest a process uses its in-memory copy of the ring before reading
   * it again: new keys, revocations and removals made by another process
   * (the Admin API and the Sync Engine share one database) reach this one
   * within this interval.
   * @default 30 seconds
   */
  refreshIntervalMs: number;
  /**
   * A token naming a key this process has not loaded makes it read the ring
   * again at once, but not more often than this, so tokens with made-up key
   * ids cannot each cost a query.
   * @default 1 second
   */
  unknownKeyReloadIntervalMs: number;
}

export const DEFAULT_KEY_RING_SETTINGS: Readonly<KeyRingSettings> = Object.freeze({
  keyLifetimeMs: 90 * DAY,
  activationLeadMs: 2 * DAY,
  validationGraceMs: 14 * DAY,
  retentionMs: 30 * DAY,
  refreshIntervalMs: 30 * SECOND,
  unknownKeyReloadIntervalMs: SECOND,
});

const wholeNumber = (fallback: number) =>
  z.coerce.number({ message: 'must be a number' }).int('must be a whole number').positive('must be greater than 0').default(fallback);

/**
 * The `IM_KEY_RING_*` settings as a zod shape for the platform's
 * `parseSettings`, in the units an operator thinks in.
 */
export const keyRingSettingsShape = {
  IM_KEY_RING_KEY_LIFETIME_DAYS: wholeNumber(DEFAULT_KEY_RING_SETTINGS.keyLifetimeMs / DAY),
  IM_KEY_RING_ACTIVATION_LEAD_HOURS: wholeNumber(DEFAULT_KEY_RING_SETTINGS.activationLeadMs / HOUR),
  IM_KEY_RING_VALIDATION_GRACE_DAYS: wholeNumber(DEFAULT_KEY_RING_SETTINGS.validationGraceMs / DAY),
  IM_KEY_RING_RETENTION_DAYS: wholeNumber(DEFAULT_KEY_RING_SETTINGS.retentionMs / DAY),
  IM_KEY_RING_REFRESH_SECONDS: wholeNumber(DEFAULT_KEY_RING_SETTINGS.refreshIntervalMs / SECOND),
};

/** `keyRingSettingsShape` after `parseSettings`. */
export interface KeyRingSettingsValues {
  IM_KEY_RING_KEY_LIFETIME_DAYS: number;
  IM_KEY_RING_ACTIVATION_LEAD_HOURS: number;
  IM_KEY_RING_VALIDATION_GRACE_DAYS: number;
  IM_KEY_RING_RETENTION_DAYS: number;
  IM_KEY_RING_REFRESH_SECONDS: number;
}

/** The setting an operator changes to fix a problem with each option. */
const SETTING_NAMES: Record<keyof KeyRingSettings, string> = {
  keyLifetimeMs: 'IM_KEY_RING_KEY_LIFETIME_DAYS',
  activationLeadMs: 'IM_KEY_RING_ACTIVATION_LEAD_HOURS',
  validationGraceMs: 'IM_KEY_RING_VALIDATION_GRACE_DAYS',
  retentionMs: 'IM_KEY_RING_RETENTION_DAYS',
  refreshIntervalMs: 'IM_KEY_RING_REFRESH_SECONDS',
  unknownKeyReloadIntervalMs: 'unknownKeyReloadIntervalMs',
};

/** Converts parsed `IM_KEY_RING_*` values; check the result with `keyRingSettingsProblems`. */
export function keyRingSettingsFromValues(values: KeyRingSettingsValues): KeyRingSettings {
  return {
    ...DEFAULT_KEY_RING_SETTINGS,
    keyLifetimeMs: values.IM_KEY_RING_KEY_LIFETIME_DAYS * DAY,
    activationLeadMs: values.IM_KEY_RING_ACTIVATION_LEAD_HOURS * HOUR,
    validationGraceMs: values.IM_KEY_RING_VALIDATION_GRACE_DAYS * DAY,
    retentionMs: values.IM_KEY_RING_RETENTION_DAYS * DAY,
    refreshIntervalMs: values.IM_KEY_RING_REFRESH_SECONDS * SECOND,
  };
}

/**
 * What makes a schedule unusable, as `{ setting, problem }` (the platform's
 * SettingProblem), so an app's config class can stop start-up naming them.
 */
export function keyRingSettingsProblems(settings: KeyRingSettings): Array<{ setting: string; problem: string }> {
  const problems: Array<{ setting: string; problem: string }> = [];
  for (const [name, value] of Object.entries(settings) as Array<[keyof KeyRingSettings, number]>) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      problems.push({ setting: SETTING_NAMES[name], problem: `must be a positive duration (got ${value} ms)` });
    }
  }
  if (problems.length > 0) return problems;
  if (settings.activationLeadMs >= settings.keyLifetimeMs) {
    problems.push({
      setting: SETTING_NAMES.activationLeadMs,
      problem: `must be shorter than ${SETTING_NAMES.keyLifetimeMs}: the next key would be created before the current one took over`,
    });
  }
  if (settings.activationLeadMs <= settings.refreshIntervalMs) {
    problems.push({
      setting: SETTING_NAMES.activationLeadMs,
      problem: `must be longer than ${SETTING_NAMES.refreshIntervalMs}: every process must load a new key before any process protects with it`,
    });
  }
  return problems;
}

/** Fills in the defaults; a schedule with problems fails with CONFIG_INVALID naming each one. */
export function resolveKeyRingSettings(overrides: Partial<KeyRingSettings> = {}): KeyRingSettings {
  const settings: KeyRingSettings = { ...DEFAULT_KEY_RING_SETTINGS };
  for (const [name, value] of Object.entries(overrides) as Array<[keyof KeyRingSettings, number | undefined]>) {
    if (value !== undefined) settings[name] = value;
  }
  const problems = keyRingSettingsProblems(settings);
  if (problems.length > 0) {
    throw new DomainError('CONFIG_INVALID', `invalid key ring settings: ${problems.map((p) => `${p.setting}: ${p.problem}`).join('; ')}`, {
      problems,
    });
  }
  return settings;
}
