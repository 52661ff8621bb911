import { join } from 'node:path';
import { z } from 'zod';
import { MIN_INTERVAL_SECONDS } from '@identitymesh/domain';
import { DatabaseConfig, loadCommonConfig, loadDatabaseConfig, mergeConfigFile, parseSettings, PRODUCT_VERSION, RawSettings } from '@identitymesh/platform';

/** The demo's own settings; everything else (data directory, database) is read as the services read it. */
export const demoSettingsShape = {
  IM_DEMO_PEOPLE: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(10, 'must be at least 10').max(100_000, 'must be at most 100000').default(3000),
  IM_DEMO_SEED: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0, 'must be at least 0').max(2 ** 32 - 1, 'must be below 2^32').default(1),
  // The engine refuses interval schedules below a minute, so the demo cannot go faster either.
  IM_DEMO_INTERVAL_SECONDS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(MIN_INTERVAL_SECONDS, `must be at least ${MIN_INTERVAL_SECONDS} (the shortest interval a schedule may have)`)
    .max(86_400, 'must be at most 86400')
    .default(60),
};

export interface DemoConfig {
  dataDir: string;
  /** `<data>/demo`: the feed, the directory file, the phone list and the demo's own markers. */
  demoDir: string;
  database: DatabaseConfig;
  /** Head count of the generated HR feed. @default 3000 */
  people: number;
  /** Seed of the generated HR feed. @default 1 */
  seed: number;
  /** Seconds between two sync cycles (the connectors' interval schedules). @default 60 */
  intervalSeconds: number;
}

/** Throws ConfigError naming each unusable setting. */
export function loadDemoConfig(env: RawSettings, cwd: string): DemoConfig {
  const merged = mergeConfigFile(env);
  const common = loadCommonConfig('demo', PRODUCT_VERSION, merged, cwd);
  const database = loadDatabaseConfig('demo', common.dataDir, merged);
  const demo = parseSettings(demoSettingsShape, merged);
  return {
    dataDir: common.dataDir,
    demoDir: join(common.dataDir, 'demo'),
    database,
    people: demo.IM_DEMO_PEOPLE,
    seed: demo.IM_DEMO_SEED,
    intervalSeconds: demo.IM_DEMO_INTERVAL_SECONDS,
  };
}
