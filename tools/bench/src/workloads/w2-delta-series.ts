import { generateDelta, generatePopulation, type Delta, type DeltaOptions, type Population } from '@identitymesh/identity-generator';
import type { BenchDialect } from '../cli/bench-arguments';
import { directoryBase, directoryConfig, DIRECTORY_SCHEMA, configureHrRules, LDAP_BIND_SECRET, type HrConnectors } from '../feed/hr-configuration';
import { SqlHrSource } from '../feed/sql-source';
import { EngineSession, type MeasuredRun } from '../harness/engine-session';
import { copySpaceToLimit, readChangedRows, upsertMethod, upsertRows } from '../limits/connector-space-upsert';
import type { WorkloadContext } from './workload-context';

/** Rates that give about `changes` person changes in a population of `people`, in the standard churn's proportions (1 % hires : 1 % leavers : 5 % modifies). */
export function churnFor(changes: number, people: number): DeltaOptions {
  const unit = changes / 7 / people;
  return { hireRate: unit, leaverRate: unit, modifyRate: 5 * unit, membershipChangeRate: unit };
}

function sum(runs: MeasuredRun[], pick: (run: MeasuredRun) => number): number {
  return runs.reduce((total, run) => total + pick(run), 0);
}

const changed = (run: MeasuredRun) => run.run.added + run.run.updated + run.run.deleted;

/**
 * W2 (delta import) and W3d (delta sync) as scaling series: for each head
 * count N, a population is imported and synced (untimed), then deltas of a
 * fixed number of changes are written to the HR system and imported and
 * synced; at the largest N, deltas of several sizes; and one member change of
 * a large group. The HR system is a SQL database with native deltas, so
 * what a delta costs is the engine's doing, not the connector's. W2's limit:
 * the rows the delta import changed, upserted in one transaction into a
 * connector space of the same size.
 */
export async function runDeltaSeries(ctx: WorkloadContext, dialect: BenchDialect): Promise<void> {
  const series = ctx.profile.series;
  const largest = Math.max(...series.people);
  const points = [...new Set([...series.people, series.fixedPeople])].sort((a, b) => a - b);
  for (const people of points) {
    const changeSizes = [...new Set([...(series.people.includes(people) ? [series.fixedChanges] : []), ...(people === series.fixedPeople ? series.changes : [])])].sort((a, b) => a - b);
    // Every population has the same shape — All Staff, departments, projects, and a large group of the same share of
    // the people — so the series compares sizes, not structures; the largest one also measures its one-member change.
    const largeGroupMembers = Math.round((people * series.largeGroupMembers) / largest);
    await runPoint(ctx, dialect, people, changeSizes, largeGroupMembers, people === largest);
  }
}

async function runPoint(ctx: WorkloadContext, dialect: BenchDialect, people: number, changeSizes: number[], largeGroupMembers: number, oneMemberChange: boolean): Promise<void> {
  const series = ctx.profile.series;
  const factory = ctx.databases(dialect);
  let population: Population = generatePopulation({ seed: ctx.profile.seed, people, groups: Math.max(10, Math.round(people / 10)), largeGroupMembers: Math.min(largeGroupMembers, people) });
  const sourceDatabase = await factory.create(`hr-${people}`, { migrate: false });
  const source = new SqlHrSource(sourceDatabase);
  await source.load(population);
  const database = await factory.create(`series-${people}`);
  const session = await EngineSession.open(ctx.root, ctx.environment, database);
  try {
    const configs = source.connectorConfigs();
    await session.setSecret(LDAP_BIND_SECRET, ctx.settings.ldap.adminPassword);
    const connectors: HrConnectors = {
      people: await session.connector({ name: 'HR people (sql)', type: 'sql', config: configs.people }),
      groups: await session.connector({ name: 'HR groups (sql)', type: 'sql', config: configs.groups }),
      directory: await session.connector({ name: 'Directory', type: 'ldap', config: directoryConfig(ctx.settings, 'bench-series'), objectTypes: DIRECTORY_SCHEMA }),
    };
    await configureHrRules(session, connectors, { directory: directoryBase(ctx.settings, 'bench-series') });
    const limitConnector = await session.connector({ name: 'limit', type: 'sql', config: configs.people, enabled: false });
    for (const [which, profile] of [
      ['people', 'full-import'],
      ['groups', 'full-import'],
      ['people', 'full-sync'],
      ['groups', 'full-sync'],
    ] as const) {
      const { run, seconds } = await session.run(connectors[which].id, profile, { timeoutMs: 7_200_000 });
      ctx.log(`series N=${people} on ${dialect}: ${profile} of ${which} in ${seconds.toFixed(1)} s: ${run.message}`);
    }
    await copySpaceToLimit(database, [connectors.people.id, connectors.groups.id], limitConnector.id);

    const engine = session.requireEngine();
    const runs = ctx.profile.warmups + series.runs;
    let generation = 0;
    const nextDelta = async (options: DeltaOptions): Promise<Delta> => {
      const delta = generateDelta(population, { ...options, seed: ctx.profile.seed + ++generation });
      population = delta.population;
      await source.apply(delta);
      return delta;
    };
    for (const changes of changeSizes) {
      const parameters = {
        people,
        changes,
        series: [people === series.fixedPeople ? 'changes' : '', changes === series.fixedChanges ? 'people' : ''].filter(Boolean).join('+'),
      };
      for (let run = 0; run < runs; run++) {
        const delta = await nextDelta(churnFor(changes, people));
        engine.resetPeakRss();
        const imports = [await session.run(connectors.people.id, 'delta-import'), await session.run(connectors.groups.id, 'delta-import')];
        const importPeak = engine.peakRssBytes();
        ctx.record(
          { workload: 'W2', case: `delta import N=${people} changes=${changes}`, dialect, role: 'engine', run, parameters, method: 'built engine: delta-import runs of two sql connectors (native deltas)' },
          {
            seconds: sum(imports, (r) => r.seconds),
            objects: sum(imports, changed),
            statements: sum(imports, (r) => r.statements),
            peakRssBytes: importPeak,
            detail: { peopleSeconds: imports[0].seconds, groupsSeconds: imports[1].seconds, delta: delta.changes.summary, messages: imports.map((r) => r.run.message) },
          },
        );
        const rows = [
          ...(await readChangedRows(database, connectors.people.id, 'person', delta.changes.people.map((c) => c.employeeId), limitConnector.id)),
          ...(await readChangedRows(database, connectors.groups.id, 'group', delta.changes.groups.map((c) => c.groupId), limitConnector.id)),
        ];
        ctx.record({ workload: 'W2', case: `delta import N=${people} changes=${changes}`, dialect, role: 'limit', run, parameters, method: upsertMethod(dialect) }, { seconds: await upsertRows(database, rows), objects: rows.length });

        engine.resetPeakRss();
        const syncs = [await session.run(connectors.people.id, 'delta-sync'), await session.run(connectors.groups.id, 'delta-sync')];
        ctx.record(
          { workload: 'W3d', case: `delta sync N=${people} changes=${changes}`, dialect, role: 'engine', run, parameters, method: 'built engine: delta-sync runs of two sql connectors' },
          {
            seconds: sum(syncs, (r) => r.seconds),
            objects: sum(imports, changed),
            statements: sum(syncs, (r) => r.statements),
            peakRssBytes: engine.peakRssBytes(),
            detail: { peopleSeconds: syncs[0].seconds, groupsSeconds: syncs[1].seconds, messages: syncs.map((r) => r.run.message) },
          },
        );
      }
    }

    if (oneMemberChange && largeGroupMembers > 0) {
      // One member joins or leaves the large group, nothing else changes: O(1) statements, not O(members).
      const parameters = { people, largeGroupMembers: Math.min(largeGroupMembers, people), changes: 1 };
      for (let run = 0; run < runs; run++) {
        await nextDelta({ hireRate: 0, leaverRate: 0, modifyRate: 0, membershipChangeRate: 0, largeGroupChanges: 1 });
        engine.resetPeakRss();
        const imported = await session.run(connectors.groups.id, 'delta-import');
        const synced = await session.run(connectors.groups.id, 'delta-sync');
        ctx.record(
          { workload: 'W3d', case: `one member of a ${parameters.largeGroupMembers}-member group`, dialect, role: 'engine', run, parameters, method: 'built engine: delta-import then delta-sync of the groups connector' },
          {
            seconds: imported.seconds + synced.seconds,
            objects: 1,
            statements: imported.statements + synced.statements,
            peakRssBytes: engine.peakRssBytes(),
            detail: { importSeconds: imported.seconds, syncSeconds: synced.seconds, importStatements: imported.statements, syncStatements: synced.statements, messages: [imported.run.message, synced.run.message] },
          },
        );
      }
    }
  } finally {
    await session.close();
    await factory.drop(database);
    await factory.drop(sourceDatabase);
  }
}
