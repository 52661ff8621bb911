import type { BenchDialect } from '../cli/bench-arguments';
import { alternate } from '../harness/alternate';
import { EngineSession } from '../harness/engine-session';
import { runSetBasedSync, setBasedSyncMethod, setBasedSyncStatements } from '../limits/set-based-sync';
import { buildHrTemplate } from './hr-template';
import type { WorkloadContext } from './workload-context';

/**
 * W3: the first full sync of the imported HR feed (people, then groups)
 * through the rules of a typical deployment, provisioning every person and
 * group into a target directory (queued, not exported: that is W4). Each run
 * starts from a copy of the database right after the imports. Its limit: the
 * same outcome written as set-based SQL in one transaction.
 */
export async function runW3FullSync(ctx: WorkloadContext, dialect: BenchDialect): Promise<void> {
  const { people, groups } = ctx.profile.fullCycle;
  const feed = await ctx.feeds.get('full-cycle', { seed: ctx.profile.seed, people, groups });
  const factory = ctx.databases(dialect);
  const { database: template, connectors } = await buildHrTemplate(ctx, dialect, feed, {
    label: 'w3',
    directoryOu: 'bench-w3',
    steps: [
      ['people', 'full-import'],
      ['groups', 'full-import'],
    ],
  });
  const directory = connectors.directory;
  if (!directory) throw new Error('W3 needs the target directory connector');
  const statements = setBasedSyncStatements(dialect, { people: connectors.people.id, groups: connectors.groups.id, target: directory.id });
  const parameters = { people: feed.people, groups: feed.groups, memberships: feed.memberships };

  await alternate({
    warmups: ctx.profile.warmups,
    runs: ctx.profile.runs,
    engine: async (run) => {
      const database = await factory.copy(template, `w3-engine-${run}`);
      const session = await EngineSession.open(ctx.root, ctx.environment, database);
      try {
        const engine = session.requireEngine();
        const resettable = engine.resetPeakRss();
        const p = await session.run(connectors.people.id, 'full-sync');
        const g = await session.run(connectors.groups.id, 'full-sync');
        const peakRssBytes = engine.peakRssBytes();
        return {
          seconds: p.seconds + g.seconds,
          objects: feed.people + feed.groups,
          statements: p.statements + g.statements,
          peakRssBytes,
          detail: { peopleSeconds: p.seconds, groupsSeconds: g.seconds, peopleStatements: p.statements, groupsStatements: g.statements, peakIsPerRun: resettable, messages: [p.run.message, g.run.message] },
        };
      } finally {
        await session.close();
        await factory.drop(database);
      }
    },
    limit: async (run) => {
      const database = await factory.copy(template, `w3-limit-${run}`);
      try {
        const { seconds, statementSeconds } = await runSetBasedSync(database, statements);
        return { seconds, objects: feed.people + feed.groups, detail: { statementSeconds } };
      } finally {
        await factory.drop(database);
      }
    },
    onSample: (role, run, sample) => {
      ctx.record({ workload: 'W3', case: 'full sync (people, then groups)', dialect, role, run, parameters, method: role === 'limit' ? setBasedSyncMethod(dialect) : 'built engine: full-sync runs of two csv connectors, provisioning into an ldap connector' }, sample);
    },
  });
  await factory.drop(template);
}
