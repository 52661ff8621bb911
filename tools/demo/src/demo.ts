import type { DataSource } from 'typeorm';
import { openDatabase, ScheduleRepository } from '@identitymesh/persistence';
import type { JsonObject } from '@identitymesh/persistence';
import type { DemoConfig } from './config/demo.config';
import { DEMO_CONNECTOR_NAMES, demoConnectors } from './configuration/demo-configuration';
import type { DemoConnectorSpec } from './configuration/demo-configuration';
import { DemoConfigurationResult, DemoConfigurator } from './configuration/demo-configurator';
import { demoPaths, DemoPaths } from './demo-paths';
import { FeedState, isDeltaSwapped, prepareFeed, readConnectorConfig, readDeltaChanges, swapInDelta } from './feed/demo-feed';
import { DemoMonitor } from './progress/demo-monitor';
import { ensureDirectoryDatabase } from './targets/directory-database';
import { removePhoneList } from './targets/phone-list';

export interface DemoIo {
  out(line: string): void;
  err(line: string): void;
}

export interface DemoSetup {
  paths: DemoPaths;
  feed: FeedState;
  specs: DemoConnectorSpec[];
  configuration: DemoConfigurationResult;
}

/**
 * Everything the demo prepares before it watches: the HR feed, the
 * directory file, and the configuration in the engine's database. Safe to
 * run again: what is there already is kept.
 */
export async function setUpDemo(dataSource: DataSource, config: DemoConfig, now: Date): Promise<DemoSetup> {
  const paths = demoPaths(config.demoDir);
  const configurator = new DemoConfigurator(dataSource);
  const existing = await configurator.existing();
  const feed = await prepareFeed(paths, { seed: config.seed, people: config.people, inUse: existing.people !== undefined || existing.groups !== undefined });
  // A target connector that is new has an empty connector space: its system starts empty too.
  ensureDirectoryDatabase(paths.directory, { fresh: existing.directory === undefined });
  if (existing.phoneList === undefined) removePhoneList(paths.phoneList);
  const specs = demoConnectors({
    paths,
    peopleConfig: (await readConnectorConfig(paths.peopleConnector)) as JsonObject,
    groupsConfig: (await readConnectorConfig(paths.groupsConnector)) as JsonObject,
    intervalSeconds: config.intervalSeconds,
  });
  const configuration = await configurator.apply(specs, now);
  return { paths, feed, specs, configuration };
}

/** Runs the demo until `signal` aborts: sets it up, then follows its cycles and swaps delta-1 in after the first. */
export async function runDemo(config: DemoConfig, io: DemoIo, signal: AbortSignal, options: { pollMs?: number; now?: () => Date } = {}): Promise<void> {
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 1000;
  const { dataSource } = await openDatabase(config.database, { autoMigrate: config.database.autoMigrate });
  try {
    const since = now();
    const setup = await setUpDemo(dataSource, config, since);
    for (const line of describeSetup(config, setup)) io.out(line);
    const { ids } = setup.configuration;
    const connector = (key: keyof typeof ids) => ({ id: ids[key], name: DEMO_CONNECTOR_NAMES[key] });
    const monitor = new DemoMonitor(
      dataSource,
      setup.paths,
      { lead: connector('people'), all: [connector('people'), connector('groups'), connector('directory'), connector('phoneList')], targets: [connector('directory'), connector('phoneList')] },
      since,
      (line) => io.out(line),
    );
    let swapped = isDeltaSwapped(setup.paths);
    let lastProblem = '';
    while (!signal.aborted) {
      try {
        const finished = await monitor.poll();
        const complete = finished.filter((cycle) => cycle.missing.length === 0);
        if (!swapped && complete.length > 0) {
          swapped = await swapInDelta(setup.paths, now());
          monitor.reportDelta(await readDeltaChanges(setup.paths), complete[complete.length - 1].number);
          io.out(await swapLine(dataSource, setup, config.intervalSeconds));
        }
        lastProblem = '';
      } catch (error) {
        // The engine may hold the SQLite write lock for a while: say so once, and keep watching.
        const problem = (error as Error)?.message ?? String(error);
        if (problem !== lastProblem) io.err(`reading the engine's progress failed: ${problem}; trying again`);
        lastProblem = problem;
      }
      await sleep(pollMs, signal);
    }
    io.out('demo stopped; its configuration stays in the database, and the next start goes on from there');
  } finally {
    await dataSource.destroy();
  }
}

function describeSetup(config: DemoConfig, setup: DemoSetup): string[] {
  const { feed, configuration, paths } = setup;
  const first = feed.manifest.snapshots[0];
  const feedState =
    feed.kind === 'generated'
      ? `generated: ${first.people} people, ${first.groups} groups (seed ${feed.manifest.parameters.seed}); delta-1 waits in ${paths.feed}/delta-1`
      : feed.kind === 'kept'
        ? `kept from an earlier start: ${first.people} people, ${first.groups} groups (seed ${feed.manifest.parameters.seed})`
        : `kept: the configuration reads a feed of ${feed.manifest.parameters.people} people (seed ${feed.manifest.parameters.seed}), not the ${config.people} (seed ${config.seed}) asked for; delete ${paths.root} and the database to start over`;
  const written =
    configuration.created.length === 0 && configuration.rulesCreated === 0
      ? `already there (${configuration.rulesTotal} rules): nothing written`
      : `written now: ${configuration.created.length} connector(s), ${configuration.rulesCreated} of ${configuration.rulesTotal} rules`;
  const phase = (key: string) => Math.round((setup.specs.find((s) => s.key === key)?.phase ?? 0) * config.intervalSeconds);
  return [
    `IdentityMesh demo: an HR feed synced into the mesh, a SQLite directory and a CSV phone list, a cycle every ${config.intervalSeconds} s`,
    `  HR feed     ${paths.feed} (${feedState})`,
    `  connectors  ${setup.specs.map((s) => `"${s.name}"`).join(', ')}: ${written}`,
    `  schedules   HR people delta-import → delta-sync; HR groups ${phase('groups')} s later, delta-import → full-sync; Directory and Phone list ${phase('directory')} s later, export`,
    `  Directory   ${paths.directory} (tables people, groups)`,
    `  Phone list  ${paths.phoneList}`,
    configuration.firstCycleAt ? `  the first cycle starts now; delta-1 is swapped in after it` : isDeltaSwapped(paths) ? '  delta-1 was swapped in at an earlier start' : '  delta-1 is swapped in after the first cycle',
    '  IM_DEMO=off starts the services without the demo; docs/demo.md says more',
  ];
}

async function swapLine(dataSource: DataSource, setup: DemoSetup, intervalSeconds: number): Promise<string> {
  const changes = setup.feed.manifest.snapshots[1]?.changes;
  const what = changes
    ? `${changes.hires} hires, ${changes.rehires} rehires, ${changes.leavers} leavers, ${changes.modified} people modified, ${changes.membershipsAdded} memberships added and ${changes.membershipsRemoved} removed`
    : 'the next snapshot';
  const lead = (await new ScheduleRepository(dataSource).listScheduled()).find((c) => c.connectorId === setup.configuration.ids.people)?.marker;
  const next = lead ? ` at ${new Date(lead.markAt.getTime() + intervalSeconds * 1000).toISOString().slice(11, 19)} UTC` : '';
  return `HR feed: delta-1 swapped in (${what}); the next cycle${next} imports it as a delta`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
