import type { DataSource } from 'typeorm';
import type { ConnectorSchema } from '@identitymesh/connector-sdk';
import type { PrecedenceEntry, RunProfile, SyncRuleKind } from '@identitymesh/domain';
import { MetricsRegistry } from '@identitymesh/platform';
import {
  AuditRepository,
  ConnectorDefinition,
  ConnectorLeaseRepository,
  ConnectorRepository,
  ConnectorSpaceRepository,
  ExportQueueRepository,
  JsonObject,
  LeaseGrant,
  MeshRepository,
  RunChangeRepository,
  RunRepository,
  RunView,
  SyncRuleRepository,
  TransactionRunner,
  UniqueValueRepository,
  WatermarkRepository,
} from '@identitymesh/persistence';
import { ConnectorHost } from '../connectors/connector-host.service';
import { ImportRunner } from '../import/import-runner.service';
import type { RunContext, RunOutcome } from '../runs/run-context';
import { SyncRunner } from '../sync/sync-runner.service';
import { inMemoryConnectorFactory, InMemorySystem } from './in-memory-connector';

const ENGINE = 'engine-under-test';

/**
 * Connectors over in-memory systems, their rules, and the import and sync
 * runners over one database, run the way the run queue runs them (lease,
 * claim, run, record). Counts the statements the data source sends while
 * `counting` is on.
 */
export class SyncHarness {
  readonly connectors: ConnectorRepository;
  readonly runs: RunRepository;
  readonly leases: ConnectorLeaseRepository;
  readonly space: ConnectorSpaceRepository;
  readonly mesh: MeshRepository;
  readonly uniqueValues: UniqueValueRepository;
  readonly exportQueue: ExportQueueRepository;
  readonly audit: AuditRepository;
  readonly runChanges: RunChangeRepository;
  readonly rules: SyncRuleRepository;
  readonly watermarks: WatermarkRepository;
  readonly metrics = new MetricsRegistry();
  readonly imports: ImportRunner;
  readonly syncs: SyncRunner;
  private readonly systems = new Map<string, InMemorySystem>();
  private counting = false;
  private statements = 0;

  /** Pass to connectDatabase's `onQuery`. */
  static counter(): { onQuery: (sql: string) => void; attach(harness: SyncHarness): void } {
    let target: SyncHarness | undefined;
    return {
      onQuery: () => {
        if (target?.counting) target.statements++;
      },
      attach: (harness) => void (target = harness),
    };
  }

  constructor(dataSource: DataSource) {
    this.connectors = new ConnectorRepository(dataSource);
    this.runs = new RunRepository(dataSource);
    this.leases = new ConnectorLeaseRepository(dataSource);
    this.space = new ConnectorSpaceRepository(dataSource);
    this.mesh = new MeshRepository(dataSource);
    this.uniqueValues = new UniqueValueRepository(dataSource);
    this.exportQueue = new ExportQueueRepository(dataSource);
    this.audit = new AuditRepository(dataSource);
    this.runChanges = new RunChangeRepository(dataSource);
    this.rules = new SyncRuleRepository(dataSource);
    this.watermarks = new WatermarkRepository(dataSource);
    const host = new ConnectorHost([inMemoryConnectorFactory((id) => this.system(id))], { resolve: async () => 'unused' });
    const transactions = new TransactionRunner(dataSource);
    this.imports = new ImportRunner(host, transactions, this.leases, this.space, this.runs, this.watermarks, this.metrics);
    this.syncs = new SyncRunner(
      host,
      transactions,
      this.leases,
      this.connectors,
      this.rules,
      this.runs,
      this.watermarks,
      { space: this.space, mesh: this.mesh, uniqueValues: this.uniqueValues, exportQueue: this.exportQueue, audit: this.audit, runChanges: this.runChanges },
      this.metrics,
    );
  }

  system(connectorId: string): InMemorySystem {
    const system = this.systems.get(connectorId);
    if (!system) throw new Error(`no in-memory system for connector ${connectorId}`);
    return system;
  }

  /**
   * A connector over a new in-memory system of `schema`. With `storeSchema`
   * (the default) the schema is stored with the connector, as the Admin API
   * does; without, a sync asks the connector for it.
   */
  async connector(name: string, schema: ConnectorSchema, options: { storeSchema?: boolean; batchSize?: number; errorThreshold?: number | null } = {}): Promise<ConnectorDefinition> {
    const definition = await this.connectors.create({
      name: `${name} ${Math.random().toString(36).slice(2, 8)}`,
      type: 'scim',
      config: {},
      objectTypes: options.storeSchema === false ? [] : (schema.objectTypes as unknown as JsonObject[]),
      batchSize: options.batchSize ?? 500,
      errorThreshold: options.errorThreshold ?? null,
    });
    this.systems.set(definition.id, new InMemorySystem(schema));
    return definition;
  }

  async rule(kind: SyncRuleKind, connectorId: string | null, objectType: string, definition: JsonObject, ordinal = 1): Promise<string> {
    const rule = await this.rules.create({ kind, connectorId, objectType, name: `${kind} ${objectType} ${ordinal}`, ordinal, definition });
    return rule.id;
  }

  precedence(entries: PrecedenceEntry[]): Promise<void> {
    return this.rules.setPrecedence(entries);
  }

  /**
   * Queues a run of the profile (or, with `queue: false`, takes the one
   * waiting), leases the connector, claims and runs it, and records its end
   * as the executor does (an interrupted run goes back to the queue).
   */
  async run(connector: ConnectorDefinition, profile: RunProfile, options: { preview?: boolean; queue?: boolean; signal?: AbortSignal } = {}): Promise<{ outcome: RunOutcome; run: RunView }> {
    if (options.queue ?? true) await this.runs.queue({ connectorId: connector.id, profile, trigger: 'manual', preview: options.preview ?? false });
    const lease = (await this.leases.acquire(connector.id, ENGINE, { now: new Date(), durationMs: 60_000, takeover: 'always' })) as LeaseGrant;
    const run = (await this.runs.claimNext(ENGINE, { now: new Date(), connectorId: connector.id, fencingToken: lease.fencingToken })) as RunView;
    const context: RunContext = { run, connector, lease, engineInstanceId: ENGINE, signal: options.signal ?? new AbortController().signal };
    const outcome = profile === 'full-import' || profile === 'delta-import' ? await this.imports.run(context) : await this.syncs.run(context);
    if (outcome.kind === 'finished') await this.runs.finish(run.id, ENGINE, lease.fencingToken, { status: outcome.status, message: outcome.message, now: new Date() });
    if (outcome.kind === 'interrupted') await this.runs.requeue(run.id, ENGINE, lease.fencingToken, outcome.message);
    await this.leases.release(connector.id, ENGINE, lease.fencingToken, new Date());
    return { outcome, run: (await this.runs.findById(run.id)) as RunView };
  }

  /** The statements sent while `work` runs: a count, not a time. */
  async countStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
    this.statements = 0;
    this.counting = true;
    try {
      const result = await work();
      return { result, statements: this.statements };
    } finally {
      this.counting = false;
    }
  }
}
