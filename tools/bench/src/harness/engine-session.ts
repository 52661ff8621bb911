import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { RunProfile, RunStatus } from '@identitymesh/domain';
import { issueLicense, publicKeyToBase64 } from '@identitymesh/license';
import { connectDatabase, ConnectorRepository, type NewConnector, type ConnectorDefinition, RunRepository, type RunView, SecretRepository, SyncRuleRepository, type JsonObject } from '@identitymesh/persistence';
import { SecretProviders, SecretStore } from '@identitymesh/secrets';
import type { SyncRuleKind } from '@identitymesh/domain';
import { AppProcess, freePort, sleep } from './app-process';
import type { BenchDatabase } from './bench-database';

const FINAL: readonly RunStatus[] = ['succeeded', 'completed-with-errors', 'failed', 'stopped-error-threshold', 'held-for-approval', 'cancelled'];

/** The engine's counter of SQL statements (libs/persistence's PersistenceModule). */
export const STATEMENTS_METRIC = 'identitymesh_db_statements_total';

/**
 * What every engine and Admin API process of one benchmark shares: a data
 * folder, a license from a throwaway vendor key, and the shared secret key
 * the LDAP bind password is sealed with.
 */
export class BenchEnvironment {
  readonly sharedKey = randomBytes(32).toString('base64');
  private readonly licenseEnv: Record<string, string>;
  private processes = 0;
  /** Engine process ids by the database they ran on, to name their CPU profiles. */
  readonly engineDatabases = new Map<number, string>();

  /**
   * `profileDir`: write a CPU profile (`.cpuprofile`, a flame graph in Chrome DevTools or speedscope) of every engine
   * process there. `engineHeapMb`: start every engine with that V8 heap ceiling (`--engine-heap-mb`).
   */
  constructor(
    readonly workDir: string,
    /** Where the output of every engine and Admin API process is kept (`<app>-<n>.log`). */
    readonly logDir: string,
    readonly profileDir?: string,
    readonly engineHeapMb?: number,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const now = new Date();
    const file = join(workDir, 'license.key');
    mkdirSync(workDir, { recursive: true });
    writeFileSync(file, issueLicense({ privateKey, customer: 'IdentityMesh benchmark', issuedAt: now, expiresAt: new Date(now.getTime() + 7 * 86_400_000) }));
    this.licenseEnv = { IM_LICENSE_FILE: file, IM_LICENSE_PUBLIC_KEYS: publicKeyToBase64(publicKey) };
  }

  /** A log file for the next process of `app`. */
  logFile(app: string): string {
    return join(this.logDir, `${app}-${++this.processes}.log`);
  }

  /** The settings of an app process on `database`, listening on `port`. */
  appEnv(database: BenchDatabase, port: number, extra: Record<string, string> = {}): Record<string, string> {
    const dataDir = join(this.workDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    return {
      IM_DATA_DIR: dataDir,
      IM_ENGINE_PORT: String(port),
      IM_ADMIN_PORT: String(port),
      IM_DB_AUTO_MIGRATE: 'false',
      // One run at a time: the engine then stops polling while it runs one, so the statements
      // counted during a run are the run's own (plus its lease renewals and heartbeats).
      IM_ENGINE_MAX_CONCURRENT_RUNS: '1',
      IM_ENGINE_RUN_POLL_MS: '100',
      IM_ENGINE_SCHEDULER_TICK_MS: '600000',
      IM_ENGINE_EXPORT_RETRY_SECONDS: '0',
      IM_SECRETS_PROVIDER: 'shared-key',
      IM_SECRETS_SHARED_KEY: this.sharedKey,
      IM_LOG_LEVEL: 'info',
      ...database.env,
      ...this.licenseEnv,
      ...extra,
    };
  }
}

export interface MeasuredRun {
  run: RunView;
  /** startedAt → finishedAt of the run row: claim to end, without the queue's polling delay. */
  seconds: number;
  /** Statements the engine sent from before the run was queued until it ended (lease, claim and the run's end included). */
  statements: number;
}

/**
 * The built Sync Engine on one database and the benchmark's own connection
 * to it: configuration rows written through the persistence lib's
 * repositories, as the Admin API writes them, and runs queued in IM_Runs.
 */
export class EngineSession {
  readonly connectors: ConnectorRepository;
  readonly rules: SyncRuleRepository;
  readonly runs: RunRepository;

  private constructor(
    readonly database: BenchDatabase,
    readonly dataSource: DataSource,
    private readonly environment: BenchEnvironment,
    public engine: AppProcess | undefined,
  ) {
    this.connectors = new ConnectorRepository(dataSource);
    this.rules = new SyncRuleRepository(dataSource);
    this.runs = new RunRepository(dataSource);
  }

  static async open(root: string, environment: BenchEnvironment, database: BenchDatabase, options: { startEngine?: boolean } = {}): Promise<EngineSession> {
    const dataSource = await connectDatabase(database.settings);
    const session = new EngineSession(database, dataSource, environment, undefined);
    if (options.startEngine ?? true) await session.startEngine(root);
    return session;
  }

  async startEngine(root: string): Promise<AppProcess> {
    const port = await freePort();
    const profiling = this.environment.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.environment.profileDir}`] : [];
    const heap = this.environment.engineHeapMb ? [`--max-old-space-size=${this.environment.engineHeapMb}`] : [];
    this.engine = await AppProcess.start(root, 'sync-engine', this.environment.appEnv(this.database, port), port, { nodeArgs: [...profiling, ...heap], logFile: this.environment.logFile('sync-engine') });
    this.environment.engineDatabases.set(this.engine.pid, this.database.name);
    return this.engine;
  }

  async stopEngine(): Promise<void> {
    await this.engine?.stop();
    this.engine = undefined;
  }

  async connector(input: NewConnector): Promise<ConnectorDefinition> {
    return this.connectors.create(input);
  }

  async rule(kind: SyncRuleKind, connectorId: string | null, objectType: string, definition: JsonObject, ordinal = 1): Promise<string> {
    return (await this.rules.create({ kind, connectorId, objectType, name: `${kind} ${objectType} ${ordinal}`, ordinal, definition })).id;
  }

  /** Seals a connector secret (an LDAP bind password) the way secretscli does, under the benchmark's shared key. */
  async setSecret(reference: string, value: string): Promise<void> {
    const store = new SecretStore(
      new SecretRepository(this.dataSource),
      new SecretProviders({ provider: 'shared-key', hostKeyFile: join(this.environment.workDir, 'unused-host.key'), sharedKey: this.environment.sharedKey }),
    );
    await store.set(reference, value);
  }

  /** Queues a run, waits for its end, and says how long it ran and what it cost in statements. */
  async run(connectorId: string, profile: RunProfile, options: { expect?: RunStatus[]; timeoutMs?: number } = {}): Promise<MeasuredRun> {
    const engine = this.requireEngine();
    const before = await engine.metric(STATEMENTS_METRIC);
    const queued = await this.runs.queue({ connectorId, profile, trigger: 'manual', requestedBy: 'bench' });
    const deadline = Date.now() + (options.timeoutMs ?? 3_600_000);
    for (;;) {
      const run = await this.runs.findById(queued.id);
      if (run && FINAL.includes(run.status)) {
        const statements = (await engine.metric(STATEMENTS_METRIC)) - before;
        const expected = options.expect ?? ['succeeded'];
        if (!expected.includes(run.status)) throw new Error(`${profile} of connector ${connectorId} ended ${run.status}: ${run.message}\n${engine.tail(10)}`);
        const seconds = run.startedAt && run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : Number.NaN;
        return { run, seconds, statements };
      }
      if (!engine.running) throw new Error(`the engine exited while ${profile} ran:\n${engine.tail()}`);
      if (Date.now() > deadline) throw new Error(`${profile} did not end within ${options.timeoutMs} ms`);
      await sleep(50);
    }
  }

  requireEngine(): AppProcess {
    if (!this.engine) throw new Error('the engine is not running');
    return this.engine;
  }

  async close(): Promise<void> {
    await this.stopEngine();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
