import type { DataSource } from 'typeorm';
import { canonicalSchedule, parseSchedule } from '@identitymesh/domain';
import type { ConnectorSchedule } from '@identitymesh/domain';
import { csvConnectorFactory, sqlConnectorFactory } from '@identitymesh/connector-sdk';
import type { ConnectorContext, ConnectorFactory, ObjectTypeSchema } from '@identitymesh/connector-sdk';
import { ConnectorRepository, ScheduleRepository, scheduleMarkerKey, SyncRuleRepository } from '@identitymesh/persistence';
import type { JsonObject } from '@identitymesh/persistence';
import { DemoLookupRepository, ruleKey } from '../progress/demo-lookup.repository';
import { DEMO_CONNECTOR_NAMES, DEMO_CONNECTORS, demoRules } from './demo-configuration';
import type { DemoConnectorKey, DemoConnectorSpec } from './demo-configuration';
import { validateDemoRules } from './rule-validation';

/** Who the schedule markers the demo sets say moved them. */
export const DEMO_ACTOR = 'demo';

export interface DemoConfigurationResult {
  ids: Record<DemoConnectorKey, string>;
  /** The connectors this call created; the others were there from an earlier start. */
  created: DemoConnectorKey[];
  rulesCreated: number;
  rulesTotal: number;
  /** When the first cycle is due, when this call set the schedules' first slots. */
  firstCycleAt: Date | null;
}

const FACTORIES: Record<string, ConnectorFactory> = { csv: csvConnectorFactory, sql: sqlConnectorFactory };

/** Reading a schema needs no secret and logs nothing. */
const SCHEMA_CONTEXT: ConnectorContext = {
  connectorId: 'demo',
  secrets: { resolve: (reference) => Promise.reject(new Error(`the demo connectors use no secrets (asked for ${reference})`)) },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
};

/**
 * Writes the demo configuration into the engine's database, once: the
 * connectors are found again by name, the rules by kind, connector and name,
 * and only what is missing is written. Everything is validated before the
 * first write (connector configs by their connector type, schedules by
 * `parseSchedule`, rules as a sync run compiles them), so a defect never
 * leaves half a configuration behind. Each write is its own short
 * transaction: the engine keeps running on the same SQLite file meanwhile.
 */
export class DemoConfigurator {
  private readonly connectors: ConnectorRepository;
  private readonly rules: SyncRuleRepository;
  private readonly schedules: ScheduleRepository;
  private readonly lookup: DemoLookupRepository;

  constructor(dataSource: DataSource) {
    this.connectors = new ConnectorRepository(dataSource);
    this.rules = new SyncRuleRepository(dataSource);
    this.schedules = new ScheduleRepository(dataSource);
    this.lookup = new DemoLookupRepository(dataSource);
  }

  /** The ids of the demo connectors that exist, by key. */
  async existing(): Promise<Partial<Record<DemoConnectorKey, string>>> {
    const byName = await this.lookup.connectorIdsByName(DEMO_CONNECTORS.map((key) => DEMO_CONNECTOR_NAMES[key]));
    const ids: Partial<Record<DemoConnectorKey, string>> = {};
    for (const key of DEMO_CONNECTORS) {
      const id = byName.get(DEMO_CONNECTOR_NAMES[key]);
      if (id) ids[key] = id;
    }
    return ids;
  }

  async apply(specs: readonly DemoConnectorSpec[], now: Date): Promise<DemoConfigurationResult> {
    const schemas = new Map<DemoConnectorKey, ObjectTypeSchema[]>();
    const schedules = new Map<DemoConnectorKey, ConnectorSchedule>();
    for (const spec of specs) {
      schemas.set(spec.key, await schemaOf(spec));
      schedules.set(spec.key, parseSchedule(spec.schedule));
    }
    // The ids only name connectors inside the definitions; validation does not look them up.
    validateDemoRules(demoRules(placeholderIds()), schemas);

    const ids = await this.existing();
    const created: DemoConnectorKey[] = [];
    for (const spec of specs) {
      if (ids[spec.key]) continue;
      const connector = await this.connectors.create({
        name: spec.name,
        type: spec.type,
        description: spec.description,
        config: spec.config,
        objectTypes: (schemas.get(spec.key) ?? []) as unknown as JsonObject[],
        schedule: spec.schedule as unknown as JsonObject,
        at: now,
      });
      ids[spec.key] = connector.id;
      created.push(spec.key);
    }
    const all = ids as Record<DemoConnectorKey, string>;

    const rules = demoRules(all);
    const existingRules = await this.lookup.ruleKeys();
    let rulesCreated = 0;
    for (const rule of rules) {
      const connectorId = rule.connector ? all[rule.connector] : null;
      if (existingRules.has(ruleKey(rule.kind, connectorId, rule.name))) continue;
      await this.rules.create({ kind: rule.kind, connectorId, objectType: rule.objectType, name: rule.name, ordinal: rule.ordinal, definition: rule.definition, at: now });
      rulesCreated++;
    }

    const firstCycleAt = created.length > 0 ? await this.staggerFirstFires(specs.filter((s) => created.includes(s.key)), all, schedules, now) : null;
    return { ids: all, created, rulesCreated, rulesTotal: rules.length, firstCycleAt };
  }

  /**
   * Sets the first slot of each new connector's schedule, so the first cycle
   * starts at once instead of one interval after the engine first saw the
   * schedules, and each connector fires at its phase of the cycle. These are
   * the scheduler's own markers, written with its compare-and-set: if the
   * engine set one meanwhile, it is read again and replaced. From then on the
   * engine keeps them; the demo never touches them again.
   */
  private async staggerFirstFires(
    specs: readonly DemoConnectorSpec[],
    ids: Record<DemoConnectorKey, string>,
    schedules: ReadonlyMap<DemoConnectorKey, ConnectorSchedule>,
    now: Date,
  ): Promise<Date> {
    // Whole seconds: markers are stored so (MySQL/MariaDB keep no fractions).
    const origin = Math.floor(now.getTime() / 1000) * 1000;
    for (const spec of specs) {
      const schedule = schedules.get(spec.key) as ConnectorSchedule;
      const intervalMs = spec.schedule.intervalSeconds === undefined ? 0 : spec.schedule.intervalSeconds * 1000;
      const markAt = new Date(origin - intervalMs + Math.round((spec.phase * intervalMs) / 1000) * 1000);
      const connectorId = ids[spec.key];
      for (let attempt = 0; attempt < 5; attempt++) {
        const marker = (await this.schedules.listScheduled()).find((c) => c.connectorId === connectorId)?.marker ?? null;
        const set = await this.schedules.setBaseline(connectorId, { key: demoScheduleMarkerKey(schedule), markAt, expectedVersion: marker?.version ?? null, engineInstanceId: DEMO_ACTOR, now });
        if (set) break;
      }
    }
    return new Date(origin);
  }
}

/** The key the engine's scheduler files the marker of a demo connector's schedule under (they are enabled and run by the engine). */
export function demoScheduleMarkerKey(schedule: ConnectorSchedule): string {
  return scheduleMarkerKey(canonicalSchedule(schedule), true);
}

/** The object types a connector's config declares, as its connector type reports them. */
async function schemaOf(spec: DemoConnectorSpec): Promise<ObjectTypeSchema[]> {
  const factory = FACTORIES[spec.type];
  if (!factory) throw new Error(`the demo has no connector type ${spec.type}`);
  const connector = factory.create(factory.validate(spec.config), SCHEMA_CONTEXT);
  try {
    return (await connector.schema()).objectTypes;
  } finally {
    await connector.close();
  }
}

function placeholderIds(): Record<DemoConnectorKey, string> {
  return Object.fromEntries(DEMO_CONNECTORS.map((key) => [key, `placeholder-${key}`])) as Record<DemoConnectorKey, string>;
}
