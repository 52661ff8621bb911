import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { compileSyncRule, decideScheduleTick, meshAttributeDeclarations, parseSchedule } from '@identitymesh/domain';
import type { AttributeDeclaration, CompiledSyncRule } from '@identitymesh/domain';
import { sqlConnectorFactory } from '@identitymesh/connector-sdk';
import { ConnectorRepository, openDatabase, ScheduleRepository, SyncRuleRepository } from '@identitymesh/persistence';
import type { ConnectorDefinition } from '@identitymesh/persistence';
import { createThrowawayDatabase, ThrowawayDatabase } from '@identitymesh/testing';
import type { DemoConfig } from './config/demo.config';
import { DEMO_CONNECTOR_NAMES } from './configuration/demo-configuration';
import { demoScheduleMarkerKey } from './configuration/demo-configurator';
import { setUpDemo } from './demo';
import { demoPaths } from './demo-paths';
import { isDeltaSwapped, swapInDelta } from './feed/demo-feed';
import { readDirectory } from './targets/directory-database';

/**
 * The demo's set-up against a real (throwaway) SQLite database, as `npm
 * start` runs it: the configuration it writes compiles as a sync run
 * compiles it, is written once, makes the scheduler fire the first cycle at
 * once in the right order; delta-1 is swapped in once.
 */
describe('the demo set-up', () => {
  let db: ThrowawayDatabase;
  let dataSource: DataSource;
  let dataDir: string;
  let config: DemoConfig;

  beforeEach(async () => {
    db = await createThrowawayDatabase('sqlite');
    ({ dataSource } = await openDatabase({ ...db.settings, dialect: 'sqlite' }, { autoMigrate: true }));
    dataDir = await mkdtemp(join(tmpdir(), 'im-demo-'));
    config = {
      dataDir,
      demoDir: join(dataDir, 'demo'),
      database: { ...db.settings, dialect: 'sqlite', autoMigrate: true },
      people: 60,
      seed: 3,
      intervalSeconds: 60,
    };
  });

  afterEach(async () => {
    await dataSource?.destroy();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes four connectors and rules that compile against the stored schemas, as a sync run compiles them', async () => {
    const now = new Date();
    const setup = await setUpDemo(dataSource, config, now);
    expect(setup.feed.kind).toBe('generated');
    expect(setup.configuration.created).toEqual(['people', 'groups', 'directory', 'phoneList']);
    expect(setup.configuration.rulesCreated).toBe(setup.configuration.rulesTotal);

    const connectors = await new ConnectorRepository(dataSource).findByIds(Object.values(setup.configuration.ids));
    expect(connectors.map((c) => c.name).sort()).toEqual(Object.values(DEMO_CONNECTOR_NAMES).sort());
    const { rules } = await new SyncRuleRepository(dataSource).loadEnabled();
    expect(rules).toHaveLength(setup.configuration.rulesTotal);
    expect(() => compileAsTheEngineDoes(rules, connectors)).not.toThrow();

    // The directory file has the tables the Directory connector maps: its connection test reads every mapped column.
    const directory = connectors.find((c) => c.name === 'Directory') as ConnectorDefinition;
    const connector = sqlConnectorFactory.create(sqlConnectorFactory.validate(directory.config), {
      connectorId: directory.id,
      secrets: { resolve: () => Promise.reject(new Error('no secrets')) },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    });
    try {
      const test = await connector.testConnection();
      expect(test).toMatchObject({ ok: true });
      expect(test.detail).toContain('person: table people has 0 rows; group: table groups has 0 rows');
    } finally {
      await connector.close();
    }
  });

  it('makes the scheduler fire HR people at once, HR groups and then the exports later in the cycle', async () => {
    const now = new Date();
    const setup = await setUpDemo(dataSource, config, now);
    const scheduled = await new ScheduleRepository(dataSource).listScheduled();
    const tick = (key: keyof typeof setup.configuration.ids, at: Date) => {
      const connector = scheduled.find((c) => c.connectorId === setup.configuration.ids[key]);
      const schedule = parseSchedule(connector?.schedule);
      // What the engine's scheduler decides at its next tick, from the marker the demo left.
      return decideScheduleTick({ schedule, inEffect: true, key: demoScheduleMarkerKey(schedule), marker: connector?.marker ?? null, now: at });
    };
    const soon = new Date(now.getTime() + 1000);
    expect(tick('people', soon).kind).toBe('fire');
    for (const key of ['groups', 'directory', 'phoneList'] as const) expect(tick(key, soon).kind).toBe('wait');
    const groupsAt = (tick('groups', soon) as { nextFireAt: Date }).nextFireAt.getTime();
    const exportsAt = (tick('directory', soon) as { nextFireAt: Date }).nextFireAt.getTime();
    expect(groupsAt).toBeGreaterThan(now.getTime());
    expect(exportsAt).toBeGreaterThan(groupsAt);
    expect((tick('phoneList', soon) as { nextFireAt: Date }).nextFireAt.getTime()).toBe(exportsAt);
    expect(tick('directory', new Date(exportsAt)).kind).toBe('fire');
  });

  it('writes the configuration once: a second start finds it and writes nothing', async () => {
    const first = await setUpDemo(dataSource, config, new Date());
    const markers = await new ScheduleRepository(dataSource).listScheduled();
    const second = await setUpDemo(dataSource, config, new Date(Date.now() + 5000));
    expect(second.feed.kind).toBe('kept');
    expect(second.configuration).toMatchObject({ ids: first.configuration.ids, created: [], rulesCreated: 0, firstCycleAt: null });
    expect((await new SyncRuleRepository(dataSource).loadEnabled()).rules).toHaveLength(first.configuration.rulesTotal);
    expect(await new ScheduleRepository(dataSource).listScheduled()).toEqual(markers);
  });

  it('swaps delta-1 in once, keeps it across restarts, and starts from the first snapshot again for a new configuration', async () => {
    const setup = await setUpDemo(dataSource, config, new Date());
    const paths = demoPaths(config.demoDir);
    const delta = setup.feed.manifest.snapshots[1];
    expect(isDeltaSwapped(paths)).toBe(false);

    expect(await swapInDelta(paths, new Date())).toBe(true);
    expect(sha256(paths.peopleCsv)).toBe(delta.files['people.csv'].sha256);
    expect(sha256(paths.groupsCsv)).toBe(delta.files['groups.csv'].sha256);
    expect(existsSync(paths.deltaPeopleCsv)).toBe(false);
    expect(await swapInDelta(paths, new Date())).toBe(false);
    expect(sha256(paths.peopleCsv)).toBe(delta.files['people.csv'].sha256);

    // A restart of the same configuration goes on with the swapped feed.
    const restarted = await setUpDemo(dataSource, config, new Date());
    expect(restarted.feed.kind).toBe('kept');
    expect(isDeltaSwapped(paths)).toBe(true);
    expect(sha256(paths.peopleCsv)).toBe(delta.files['people.csv'].sha256);

    // A new database: a new configuration, which starts from the first snapshot and an empty directory.
    const other = await createThrowawayDatabase('sqlite');
    const { dataSource: otherSource } = await openDatabase({ ...other.settings, dialect: 'sqlite' }, { autoMigrate: true });
    try {
      const fresh = await setUpDemo(otherSource, { ...config, database: { ...other.settings, dialect: 'sqlite', autoMigrate: true } }, new Date());
      expect(fresh.feed.kind).toBe('generated');
      expect(isDeltaSwapped(paths)).toBe(false);
      expect(sha256(paths.peopleCsv)).toBe(setup.feed.manifest.snapshots[0].files['people.csv'].sha256);
      expect(readDirectory(paths.directory)).toEqual({ people: [], groups: [] });
    } finally {
      await otherSource.destroy();
      await other.drop();
    }
  });
});

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The engine's order (apps/sync-engine/src/sync/sync-rules.ts): import flows first, then the rules that read the mesh. */
function compileAsTheEngineDoes(rules: Parameters<typeof compileSyncRule>[0][], connectors: ConnectorDefinition[]): CompiledSyncRule[] {
  const declarations = (connectorId: string | null, objectType: string): AttributeDeclaration[] => {
    const types = (connectors.find((c) => c.id === connectorId)?.objectTypes ?? []) as unknown as Array<{ name: string; attributes: Array<{ name: string; type: string; multiValued?: boolean }> }>;
    return (types.find((t) => t.name === objectType)?.attributes ?? []).map((a) => ({ name: a.name, multiValued: a.multiValued === true, reference: a.type === 'reference' }));
  };
  const importFlows = rules.filter((r) => r.kind === 'import-flow').map((r) => compileSyncRule(r, { connectorSpace: declarations(r.connectorId, r.objectType), mesh: [] }));
  const mesh = meshAttributeDeclarations(importFlows);
  for (const rule of rules) {
    const target = rule.kind === 'composer' ? (rule.definition as { target: string }).target : undefined;
    if (target && !mesh.some((d) => d.name === target)) mesh.push({ name: target });
  }
  return [...importFlows, ...rules.filter((r) => r.kind !== 'import-flow').map((r) => compileSyncRule(r, { connectorSpace: declarations(r.connectorId, r.objectType), mesh }))];
}
