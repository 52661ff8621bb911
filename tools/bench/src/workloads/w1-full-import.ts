import type { BenchDialect } from '../cli/bench-arguments';
import { alternate } from '../harness/alternate';
import { EngineSession } from '../harness/engine-session';
import { captureConnectorSpace, capturedCounts, copyMethod, writeConnectorSpace, type CapturedSpace } from '../limits/connector-space-copy';
import type { WorkloadContext } from './workload-context';

/**
 * W1: a first full import of the HR feed (people.csv, then groups.csv) by the
 * built engine, each run into an empty connector space (a fresh copy of an
 * empty database). Its limit: the very rows that run staged, written into the
 * same empty tables the fastest way the database takes them.
 */
export async function runW1FullImport(ctx: WorkloadContext, dialect: BenchDialect): Promise<void> {
  const { people, groups } = ctx.profile.fullCycle;
  const feed = await ctx.feeds.get('full-cycle', { seed: ctx.profile.seed, people, groups });
  const factory = ctx.databases(dialect);
  const template = await factory.create('w1');
  const setup = await EngineSession.open(ctx.root, ctx.environment, template, { startEngine: false });
  const peopleConnector = await setup.connector({ name: 'HR people', type: 'csv', config: feed.peopleConfig });
  const groupsConnector = await setup.connector({ name: 'HR groups', type: 'csv', config: feed.groupsConfig });
  // The limit's rows need a connector of their own (a foreign key); it never runs.
  const limitConnector = await setup.connector({ name: 'limit', type: 'csv', config: feed.peopleConfig, enabled: false });
  await setup.close();

  const parameters = { people: feed.people, groups: feed.groups, memberships: feed.memberships };
  let captured: CapturedSpace | undefined;
  await alternate({
    warmups: ctx.profile.warmups,
    runs: ctx.profile.runs,
    engine: async (run) => {
      const database = await factory.copy(template, `w1-engine-${run}`);
      const session = await EngineSession.open(ctx.root, ctx.environment, database);
      try {
        const engine = session.requireEngine();
        const resettable = engine.resetPeakRss();
        const p = await session.run(peopleConnector.id, 'full-import');
        const g = await session.run(groupsConnector.id, 'full-import');
        const peakRssBytes = engine.peakRssBytes();
        captured ??= await captureConnectorSpace(database, [peopleConnector.id, groupsConnector.id], limitConnector.id, ctx.workDir);
        return {
          seconds: p.seconds + g.seconds,
          objects: p.run.added + g.run.added,
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
      if (!captured) throw new Error('the limit needs the rows of an engine run first');
      const database = await factory.copy(template, `w1-limit-${run}`);
      try {
        const seconds = await writeConnectorSpace(database, captured);
        const counts = capturedCounts(captured);
        return { seconds, objects: counts.objects, detail: { referenceRows: counts.references } };
      } finally {
        await factory.drop(database);
      }
    },
    onSample: (role, run, sample) => {
      ctx.record({ workload: 'W1', case: 'full import (people, then groups)', dialect, role, run, parameters, method: role === 'limit' ? copyMethod(dialect) : 'built engine: full-import runs of two csv connectors' }, sample);
    },
  });
  await factory.drop(template);
}
