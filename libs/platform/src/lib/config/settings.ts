import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, SettingProblem } from './config-error';

/** The raw settings an app reads: environment variables, optionally merged over a file. */
export type RawSettings = Record<string, string | undefined>;

/** A zod shape whose keys are the `IM_*` setting names. */
export type SettingsShape = Record<string, z.ZodType>;

/**
 * Optional config file named by `IM_CONFIG_FILE`: a JSON object of `IM_*`
 * names. Environment variables win over the file, so a service wrapper can
 * keep defaults in a file and override one value per host.
 */
export function mergeConfigFile(env: RawSettings): RawSettings {
  const file = env['IM_CONFIG_FILE'];
  if (!file) return env;
  if (!existsSync(file)) throw new ConfigError([{ setting: 'IM_CONFIG_FILE', problem: `file not found: ${file}` }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([{ setting: 'IM_CONFIG_FILE', problem: `not valid JSON (${(error as Error).message})` }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([{ setting: 'IM_CONFIG_FILE', problem: 'must hold a JSON object of IM_* settings' }]);
  }
  const fromFile: RawSettings = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!key.startsWith('IM_')) {
      throw new ConfigError([{ setting: 'IM_CONFIG_FILE', problem: `unknown key ${key} (only IM_* settings belong there)` }]);
    }
    fromFile[key] = value === null || value === undefined ? undefined : String(value);
  }
  return { ...fromFile, ...env };
}

/**
 * Validates the settings named in `shape` and returns them typed. Empty
 * strings count as unset, so `IM_X=` in a service file falls back to the
 * default instead of failing on an empty value.
 */
export function parseSettings<S extends SettingsShape>(shape: S, env: RawSettings): z.infer<z.ZodObject<S>> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    input[key] = value === undefined || value.trim() === '' ? undefined : value.trim();
  }
  const result = z.object(shape).safeParse(input);
  if (result.success) return result.data as z.infer<z.ZodObject<S>>;
  const problems: SettingProblem[] = result.error.issues.map((issue) => ({
    setting: String(issue.path[0] ?? '(settings)'),
    problem: describeIssue(issue, input[String(issue.path[0])]),
  }));
  throw new ConfigError(problems);
}

function describeIssue(issue: z.core.$ZodIssue, value: string | undefined): string {
  if (value === undefined && issue.code === 'invalid_type') return 'is required';
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `must be one of ${(issue.values as unknown[]).join(', ')} (got "${value}")`;
  }
  return `${issue.message} (got "${value}")`;
}

/** Reusable setting types. */
export const setting = {
  port: (fallback: number) =>
    z.coerce
      .number({ message: 'must be a TCP port number' })
      .int('must be a whole number')
      .min(1, 'must be between 1 and 65535')
      .max(65535, 'must be between 1 and 65535')
      .default(fallback),
  positiveInt: (fallback: number) =>
    z.coerce.number({ message: 'must be a number' }).int('must be a whole number').positive('must be greater than 0').default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .default(fallback),
  optionalBoolean: () =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .optional(),
  text: () => z.string().min(1),
  url: (protocols: string[]) =>
    z.string().refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      { message: `must be a URL with scheme ${protocols.join(' or ')}` },
    ),
};
