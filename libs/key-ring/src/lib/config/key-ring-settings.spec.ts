import { z } from 'zod';
import { DomainError } from '@identitymesh/domain';
import {
  DEFAULT_KEY_RING_SETTINGS,
  keyRingSettingsFromValues,
  keyRingSettingsProblems,
  keyRingSettingsShape,
  resolveKeyRingSettings,
} from './key-ring-settings';

describe('key ring settings', () => {
  it('turns the IM_KEY_RING_* defaults into the default schedule', () => {
    const values = z.object(keyRingSettingsShape).parse({});
    expect(values).toEqual({
      IM_KEY_RING_KEY_LIFETIME_DAYS: 90,
      IM_KEY_RING_ACTIVATION_LEAD_HOURS: 48,
      IM_KEY_RING_VALIDATION_GRACE_DAYS: 14,
      IM_KEY_RING_RETENTION_DAYS: 30,
      IM_KEY_RING_REFRESH_SECONDS: 30,
    });
    expect(keyRingSettingsFromValues(values)).toEqual(DEFAULT_KEY_RING_SETTINGS);
    expect(keyRingSettingsProblems(DEFAULT_KEY_RING_SETTINGS)).toEqual([]);
  });

  it('reads operator values in their units', () => {
    const values = z.object(keyRingSettingsShape).parse({ IM_KEY_RING_KEY_LIFETIME_DAYS: '30', IM_KEY_RING_ACTIVATION_LEAD_HOURS: '6', IM_KEY_RING_REFRESH_SECONDS: '5' });
    expect(keyRingSettingsFromValues(values)).toMatchObject({ keyLifetimeMs: 30 * 86_400_000, activationLeadMs: 6 * 3_600_000, refreshIntervalMs: 5000 });
    expect(z.object(keyRingSettingsShape).safeParse({ IM_KEY_RING_RETENTION_DAYS: '0' }).success).toBe(false);
    expect(z.object(keyRingSettingsShape).safeParse({ IM_KEY_RING_RETENTION_DAYS: '1.5' }).success).toBe(false);
  });

  it('names the settings of a schedule that cannot work', () => {
    expect(keyRingSettingsProblems({ ...DEFAULT_KEY_RING_SETTINGS, activationLeadMs: 100 * 86_400_000 })).toEqual([
      {
        setting: 'IM_KEY_RING_ACTIVATION_LEAD_HOURS',
        problem: 'must be shorter than IM_KEY_RING_KEY_LIFETIME_DAYS: the next key would be created before the current one took over',
      },
    ]);
    expect(keyRingSettingsProblems({ ...DEFAULT_KEY_RING_SETTINGS, refreshIntervalMs: 3 * 86_400_000 }).map((p) => p.setting)).toEqual([
      'IM_KEY_RING_ACTIVATION_LEAD_HOURS',
    ]);
    expect(keyRingSettingsProblems({ ...DEFAULT_KEY_RING_SETTINGS, retentionMs: -1 })).toEqual([
      { setting: 'IM_KEY_RING_RETENTION_DAYS', problem: 'must be a positive duration (got -1 ms)' },
    ]);
  });

  it('fills in defaults for options not given and fails with CONFIG_INVALID otherwise', () => {
    expect(resolveKeyRingSettings({ retentionMs: 1000, refreshIntervalMs: undefined })).toEqual({ ...DEFAULT_KEY_RING_SETTINGS, retentionMs: 1000 });
    let error: unknown;
    try {
      resolveKeyRingSettings({ keyLifetimeMs: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('CONFIG_INVALID');
    expect((error as DomainError).message).toContain('IM_KEY_RING_KEY_LIFETIME_DAYS');
  });
});
