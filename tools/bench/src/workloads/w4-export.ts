import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GROUPS_CSV, PEOPLE_CSV } from '@identitymesh/identity-generator';
import { ExportQueueRepository, type ExportItemView } from '@identitymesh/persistence';
import type { BenchDialect } from '../cli/bench-arguments';
import { directoryBase } from '../feed/hr-configuration';
import { alternate } from '../harness/alternate';
import { EngineSession } from '../harness/engine-session';
import { createSubtree, deleteSubtree, exportItemsToLdif, ldapTool } from '../limits/ldap-tools';
import { buildHrTemplate } from './hr-template';
import type { WorkloadContext } from './workload-context';

async function pendingItems(session: EngineSession, connectorId: string): Promise<ExportItemView[]> {
  const queue = new ExportQueueRepository(session.dataSource);
  const items: ExportItemView[] = [];
  for (let page: ExportItemView[]; (page = await queue.list(connectorId, { status: 'pending', offset: items.length, limit: 1000 })).length > 0; ) items.push(...page);
  return items;
}

/**
 * W4: export runs of the built engine into OpenLDAP: the adds of a whole
 * population (people, then groups with their members), then, after a delta
 * that modifies every person, their modifies. Each run starts from a copy of
 * the database with the adds queued and an empty OU subtree of its own. Its
 * limit: the identical LDIF (built from the very items the engine sends)
 * through ldapadd and ldapmodify, one connection each, against the same slapd.
 */
export async function runW4Export(ctx: WorkloadContext, dialect: BenchDialect): Promise<void> {
  const { people, groups, largeGroupMembers } = ctx.profile.export;
  const feed = await ctx.feeds.get('export', { seed: ctx.profile.seed, people, groups, largeGroupMembers, allStaffGroup: false, delta: { hireRate: 0, leaverRate: 0, modifyRate: 1, membershipChangeRate: 0 } });
  // The csv connectors read `current/`: the first snapshot, swapped for delta-1 before the modifies.
  const current = join(ctx.workDir, `w4-feed-${dialect}`);
  mkdirSync(current, { recursive: true });
  const useSnapshot = (snapshot: string) => {
    for (const file of [PEOPLE_CSV, GROUPS_CSV]) copyFileSync(join(feed.dir, snapshot, file), join(current, file));
  };
  useSnapshot('.');
  const retarget = (config: object, file: string) => ({ ...config, path: join(current, file) });
  const ou = `bench-w4-${randomBytes(3).toString('hex')}`;
  const base = directoryBase(ctx.settings, ou).base;
  const factory = ctx.databases(dialect);
  const { database: template, connectors } = await buildHrTemplate(
    ctx,
    dialect,
    { ...feed, peopleConfig: retarget(feed.peopleConfig, PEOPLE_CSV), groupsConfig: retarget(feed.groupsConfig, GROUPS_CSV) },
    {
      label: 'w4',
      directoryOu: ou,
      steps: [
        ['people', 'full-import'],
        ['groups', 'full-import'],
        ['people', 'full-sync'],
        ['groups', 'full-sync'],
      ],
    },
  );
  const directory = connectors.directory;
  if (!directory) throw new Error('W4 needs the directory connector');
  let addsLdif: string | undefined;
  let modifiesLdif: string | undefined;
  const parameters = { people: feed.people, groups: feed.groups, largeGroupMembers };
  const records: Array<Parameters<WorkloadContext['record']>> = [];

  try {
    await alternate({
      warmups: ctx.profile.warmups,
      runs: ctx.profile.runs,
      engine: async (run) => {
        useSnapshot('.');
        await deleteSubtree(ctx.settings, base);
        await createSubtree(ctx.settings, base);
        const database = await factory.copy(template, `w4-engine-${run}`);
        const session = await EngineSession.open(ctx.root, ctx.environment, database);
        try {
          const engine = session.requireEngine();
          addsLdif ??= exportItemsToLdif(await pendingItems(session, directory.id));
          engine.resetPeakRss();
          const adds = await session.run(directory.id, 'export');
          const addsPeak = engine.peakRssBytes();
          useSnapshot('delta-1');
          await session.run(connectors.people.id, 'delta-import');
          await session.run(connectors.people.id, 'delta-sync');
          const queued = await pendingItems(session, directory.id);
          modifiesLdif ??= exportItemsToLdif(queued);
          engine.resetPeakRss();
          const modifies = await session.run(directory.id, 'export');
          records.push([
            { workload: 'W4', case: 'export modifies', dialect, role: 'engine', run, parameters, rateUnit: 'objects/s', method: 'built engine: an export run of the ldap connector' },
            { seconds: modifies.seconds, objects: modifies.run.exported, statements: modifies.statements, peakRssBytes: engine.peakRssBytes(), detail: { message: modifies.run.message, queued: queued.length } },
          ]);
          return { seconds: adds.seconds, objects: adds.run.exported, statements: adds.statements, peakRssBytes: addsPeak, detail: { message: adds.run.message } };
        } finally {
          await session.close();
          await factory.drop(database);
        }
      },
      limit: async (run) => {
        if (!addsLdif || !modifiesLdif) throw new Error('the limit needs the LDIF of an engine run first');
        await deleteSubtree(ctx.settings, base);
        await createSubtree(ctx.settings, base);
        const addEntries = addsLdif.split('\n\n').length;
        const seconds = await ldapTool(ctx.settings, 'ldapadd', [], addsLdif);
        const modifySeconds = await ldapTool(ctx.settings, 'ldapmodify', [], modifiesLdif);
        records.push([
          { workload: 'W4', case: 'export modifies', dialect, role: 'limit', run, parameters, method: 'ldapmodify of the identical LDIF, one connection, same slapd' },
          { seconds: modifySeconds, objects: modifiesLdif.split('\n\n').length },
        ]);
        return { seconds, objects: addEntries };
      },
      onSample: (role, run, sample) => {
        ctx.record({ workload: 'W4', case: 'export adds', dialect, role, run, parameters, method: role === 'limit' ? 'ldapadd of the identical LDIF, one connection, same slapd' : 'built engine: an export run of the ldap connector' }, sample);
        for (const record of records.splice(0)) ctx.record(...record);
      },
    });
  } finally {
    await deleteSubtree(ctx.settings, base);
    await factory.drop(template);
  }
}
