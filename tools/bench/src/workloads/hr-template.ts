import type { BenchDialect } from '../cli/bench-arguments';
import { directoryBase, directoryConfig, DIRECTORY_SCHEMA, configureHrRules, LDAP_BIND_SECRET, type HrConnectors } from '../feed/hr-configuration';
import type { Feed } from '../feed/feeds';
import type { BenchDatabase } from '../harness/bench-database';
import { EngineSession } from '../harness/engine-session';
import type { WorkloadContext } from './workload-context';

export interface HrTemplate {
  database: BenchDatabase;
  connectors: HrConnectors;
}

/**
 * A database holding the HR feed's two csv connectors, the rules, a target
 * directory connector when asked, and — with `steps` — the state after the
 * given runs: the starting point every run of a workload is copied from.
 */
export async function buildHrTemplate(
  ctx: WorkloadContext,
  dialect: BenchDialect,
  feed: Feed,
  options: { label: string; directoryOu?: string; steps?: Array<['people' | 'groups', 'full-import' | 'full-sync']> },
): Promise<HrTemplate> {
  const factory = ctx.databases(dialect);
  const database = await factory.create(options.label);
  const steps = options.steps ?? [];
  const session = await EngineSession.open(ctx.root, ctx.environment, database, { startEngine: steps.length > 0 });
  try {
    const people = await session.connector({ name: 'HR people', type: 'csv', config: feed.peopleConfig });
    const groups = await session.connector({ name: 'HR groups', type: 'csv', config: feed.groupsConfig });
    let directory;
    if (options.directoryOu) {
      await session.setSecret(LDAP_BIND_SECRET, ctx.settings.ldap.adminPassword);
      directory = await session.connector({ name: 'Directory', type: 'ldap', config: directoryConfig(ctx.settings, options.directoryOu), objectTypes: DIRECTORY_SCHEMA });
    }
    const connectors: HrConnectors = { people, groups, directory };
    await configureHrRules(session, connectors, options.directoryOu ? { directory: directoryBase(ctx.settings, options.directoryOu) } : {});
    for (const [which, profile] of steps) {
      const { run, seconds } = await session.run(connectors[which].id, profile);
      ctx.log(`${options.label} template on ${dialect}: ${profile} of ${which} in ${seconds.toFixed(1)} s: ${run.message}`);
    }
    return { database, connectors };
  } finally {
    await session.close();
  }
}
