import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { mergeConfigFile, parseSettings, setting } from './settings';

/** Runs `work`, which must throw a ConfigError, and returns that error. */
function configErrorOf(work: () => unknown): ConfigError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

const shape = {
  IM_MODE: z.enum(['fast', 'safe']).default('safe'),
  IM_PORT: setting.port(8080),
  IM_FEATURE: setting.boolean(false),
};

describe('parseSettings', () => {
  it('applies the defaults when nothing is set', () => {
    expect(parseSettings(shape, {})).toEqual({ IM_MODE: 'safe', IM_PORT: 8080, IM_FEATURE: false });
  });

  it('reads and coerces set values, trimming whitespace', () => {
    expect(parseSettings(shape, { IM_MODE: ' fast ', IM_PORT: '9090', IM_FEATURE: 'yes' })).toEqual({
      IM_MODE: 'fast',
      IM_PORT: 9090,
      IM_FEATURE: true,
    });
  });

  it('treats an empty or blank value as unset, so the default applies', () => {
    expect(parseSettings(shape, { IM_MODE: '', IM_PORT: '   ', IM_FEATURE: '' })).toEqual({
      IM_MODE: 'safe',
      IM_PORT: 8080,
      IM_FEATURE: false,
    });
  });

  it('names the setting and the allowed values when an enum value is wrong', () => {
    const error = configErrorOf(() => parseSettings(shape, { IM_MODE: 'turbo' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems).toEqual([{ setting: 'IM_MODE', problem: 'must be one of fast, safe (got "turbo")' }]);
    expect(error.message).toContain('IM_MODE');
  });

  it('names the setting when a port is not a number', () => {
    const error = configErrorOf(() => parseSettings(shape, { IM_PORT: 'http' }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].setting).toBe('IM_PORT');
    expect(error.problems[0].problem).toContain('must be a TCP port number');
    expect(error.message).toContain('IM_PORT');
  });

  it('names the setting when a port is out of range', () => {
    const error = configErrorOf(() => parseSettings(shape, { IM_PORT: '70000' }));
    expect(error.problems).toEqual([{ setting: 'IM_PORT', problem: 'must be between 1 and 65535 (got "70000")' }]);
  });

  it('reports a required setting that is missing, or only empty', () => {
    const required = { IM_NAME: setting.text() };
    for (const env of [{}, { IM_NAME: '' }]) {
      const error = configErrorOf(() => parseSettings(required, env));
      expect(error.problems).toEqual([{ setting: 'IM_NAME', problem: 'is required' }]);
    }
  });

  it('reports every bad setting at once', () => {
    const error = configErrorOf(() => parseSettings(shape, { IM_MODE: 'turbo', IM_PORT: '0' }));
    expect(error.problems.map((p) => p.setting).sort()).toEqual(['IM_MODE', 'IM_PORT']);
  });

  it('ignores variables outside the shape', () => {
    expect(parseSettings(shape, { PATH: '/usr/bin', IM_OTHER: 'x' })).toEqual({ IM_MODE: 'safe', IM_PORT: 8080, IM_FEATURE: false });
  });
});

describe('mergeConfigFile', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-settings-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function configFile(content: string): string {
    const path = join(dir, 'identitymesh.json');
    writeFileSync(path, content);
    return path;
  }

  it('returns the environment unchanged without IM_CONFIG_FILE', () => {
    const env = { IM_LOG_LEVEL: 'debug' };
    expect(mergeConfigFile(env)).toBe(env);
  });

  it('adds the file values and lets the environment win over them', () => {
    const file = configFile(JSON.stringify({ IM_LOG_LEVEL: 'warn', IM_HTTP_PORT: 8443, IM_DB_TYPE: 'postgres', IM_DB_PASSWORD: null }));
    const merged = mergeConfigFile({ IM_CONFIG_FILE: file, IM_LOG_LEVEL: 'debug' });
    expect(merged).toEqual({
      IM_CONFIG_FILE: file,
      IM_LOG_LEVEL: 'debug',
      IM_HTTP_PORT: '8443',
      IM_DB_TYPE: 'postgres',
      IM_DB_PASSWORD: undefined,
    });
  });

  it('rejects a file that is not JSON, naming IM_CONFIG_FILE', () => {
    const file = configFile('IM_LOG_LEVEL=debug\n');
    const error = configErrorOf(() => mergeConfigFile({ IM_CONFIG_FILE: file }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].setting).toBe('IM_CONFIG_FILE');
    expect(error.problems[0].problem).toMatch(/^not valid JSON/);
  });

  it('rejects JSON that is not an object', () => {
    const file = configFile('["IM_LOG_LEVEL"]');
    const error = configErrorOf(() => mergeConfigFile({ IM_CONFIG_FILE: file }));
    expect(error.problems).toEqual([{ setting: 'IM_CONFIG_FILE', problem: 'must hold a JSON object of IM_* settings' }]);
  });

  it('rejects a key that is not an IM_ setting', () => {
    const file = configFile(JSON.stringify({ IM_LOG_LEVEL: 'warn', NODE_OPTIONS: '--inspect' }));
    const error = configErrorOf(() => mergeConfigFile({ IM_CONFIG_FILE: file }));
    expect(error.problems).toEqual([
      { setting: 'IM_CONFIG_FILE', problem: 'unknown key NODE_OPTIONS (only IM_* settings belong there)' },
    ]);
  });

  it('reports a missing file', () => {
    const file = join(dir, 'missing.json');
    const error = configErrorOf(() => mergeConfigFile({ IM_CONFIG_FILE: file }));
    expect(error.problems).toEqual([{ setting: 'IM_CONFIG_FILE', problem: `file not found: ${file}` }]);
  });
});
