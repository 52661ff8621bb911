import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@identitymesh/domain';
import { MetricsRegistry } from '@identitymesh/platform';
import {
  chunked,
  ConcurrentChangeError,
  ConnectorLeaseRepository,
  ConnectorRepository,
  FULL_SYNC_CHECKPOINT,
  isUniqueViolation,
  LeaseLostError,
  RunRepository,
  SyncCursor,
  SyncRuleRepository,
  TransactionRunner,
  WatermarkRepository,
} from '@identitymesh/persistence';
import { ConnectorHost } from '../connectors/connector-host.service';
import { ProfileRunner, RunContext, RunOutcome, stopReasonOf } from '../runs/run-context';
import { connectorSchemas, ConnectorSchemaUnavailableError } from './connector-schemas';
import { SyncBatch, SyncBatchCounters, SyncBatchRepositories, SyncRunState } from './sync-batch';
import { compileSyncRules, RuleCompilationError, SyncRules } from './sync-rules';

/** The repositories a sync batch writes through, bundled by SyncModule. */
export const SYNC_BATCH_REPOSITORIES = Symbol('SyncBatchRepositories');

/** Times a batch is repeated after another engine changed what it read (a mesh object, a unique value, a name). */
const BATCH_ATTEMPTS = 5;
/** New mesh objects after which a run first refreshes the planner's statistics; then each time that doubled. */
const FIRST_STATISTICS_REFRESH = 5_000;

interface Totals extends SyncBatchCounters {
  batches: number;
  objects: number;
  failed: number;
  recomputed: number;
  deferred: number;
}

/** Which objects a batch takes: the next page of the walk, or given ones (the second pass). */
type Selection = { kind: 'page'; after: SyncCursor | null; pendingOnly: boolean } | { kind: 'ids'; ids: string[] };

interface CommittedBatch {
  objects: number;
  cursor: SyncCursor | null;
  counters: SyncBatchCounters;
  newErrors: number;
  deferred: string[];
  recomputed: number;
}

/**
 * Full and delta syncs of one connector. A full sync walks every object of
 * the connector's space (after a rule change), a delta sync those with a
 * pending import, in pages of the connector's batch size. Each page is one
 * transaction: the lease check first, then the batch's reads, its writes to
 * the mesh, the connector spaces and the export queue, its audit entries,
 * per-object errors, the run's counters and (full sync) its checkpoint. A
 * crash leaves whole batches; a resumed delta sync finds the rest still
 * pending, a resumed full sync continues after its checkpoint.
 *
 * Each mesh object a page touches is recomputed once from every object
 * joined to it, whichever connector it belongs to, and the pending imports
 * of those other objects are taken in with it: a mesh object changed by
 * several connectors is recomputed once, not once per connector's sync.
 * Objects whose references named objects joined only later in the run are
 * evaluated once more at the end (the second pass).
 *
 * A preview (`IM_Runs.preview`) computes the same and writes only its change
 * report (IM_RunChanges), its per-object errors and its counters.
 */
@Injectable()
export class SyncRunner implements ProfileRunner {
  private readonly logger = new Logger('Sync');
  private readonly objects;
  private readonly batchSeconds;

  constructor(
    private readonly host: ConnectorHost,
    private readonly transactions: TransactionRunner,
    private readonly leases: ConnectorLeaseRepository,
    private readonly connectors: ConnectorRepository,
    private readonly syncRules: SyncRuleRepository,
    private readonly runs: RunRepository,
    private readonly watermarks: WatermarkRepository,
    @Inject(SYNC_BATCH_REPOSITORIES) private readonly repositories: SyncBatchRepositories,
    metrics: MetricsRegistry,
  ) {
    this.objects = metrics.counter('sync_objects_total', 'Sync outcomes, by run profile: objects joined, mesh objects projected, updated and deleted, objects provisioned, exports queued, objects failed', ['profile', 'outcome']);
    this.batchSeconds = metrics.histogram('sync_batch_duration_seconds', 'Time to compute and commit one sync batch', ['profile'], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  }

  async run(context: RunContext): Promise<RunOutcome> {
    const { run, connector } = context;
    const profile = run.profile;
    if (profile !== 'full-sync' && profile !== 'delta-sync') throw new Error(`the sync runner does not run ${profile}`);
    const fields = { runId: run.id, connectorId: connector.id, profile, preview: run.preview };
    const name = `${profile === 'full-sync' ? 'full sync' : 'delta sync'}${run.preview ? ' preview' : ''}`;
    const totals: Totals = { batches: 0, objects: 0, joined: 0, projected: 0, updated: 0, deleted: 0, added: 0, exported: 0, failed: 0, recomputed: 0, deferred: 0 };

    let rules: SyncRules;
    try {
      rules = await this.compileRules(context);
    } catch (error) {
      if (!(error instanceof RuleCompilationError) && !(error instanceof ConnectorSchemaUnavailableError)) throw error;
      const message = `${name} failed before it changed anything: ${error.message}`;
      this.logger.error({ ...fields, msg: message });
      return { kind: 'finished', status: 'failed', message };
    }

    const state: SyncRunState = { appliedSiblings: new Map() };
    const full = profile === 'full-sync';
    let errorsSoFar = run.errors;
    // Counted over the whole run, its earlier attempts included, as for imports.
    let statisticsAt = FIRST_STATISTICS_REFRESH;
    const deferred = new Set<string>();
    try {
      let cursor = full && !run.preview ? await this.checkpoint(connector.id, run.id) : null;
      // A resumed full sync does not walk again what lies before its checkpoint: the objects its
      // earlier attempts sent to the second pass must be found there (they kept their pending imports).
      const resumedAt = cursor;
      if (resumedAt) {
        const pending = await this.transactions.runIdempotent('sync resume', (tx) => this.repositories.space.pendingUpTo(tx, connector.id, resumedAt));
        for (const id of pending) deferred.add(id);
      }
      this.logger.log({ ...fields, fencingToken: context.lease.fencingToken, resumedAfter: cursor, secondPass: deferred.size, msg: `${name} of connector "${connector.name}" started` });

      const passes: Array<{ pass: 1 | 2; selections: () => Iterable<Selection> }> = [
        { pass: 1, selections: () => pages(() => cursor, !full) },
        { pass: 2, selections: () => chunked([...deferred], connector.batchSize).map((ids): Selection => ({ kind: 'ids', ids })) },
      ];
      for (const { pass, selections } of passes) {
        for (const selection of selections()) {
          if (context.signal.aborted) return this.interrupted(context, name, totals);
          const started = process.hrtime.bigint();
          const batch = await this.commitBatch(context, rules, state, selection, pass);
          if (batch.objects === 0 && selection.kind === 'page') break;
          this.batchSeconds.observe({ profile }, Number(process.hrtime.bigint() - started) / 1e9);
          cursor = batch.cursor;
          if (pass === 1) for (const id of batch.deferred) deferred.add(id);
          else totals.deferred += batch.objects;
          add(totals, batch);
          this.count(profile, batch);
          errorsSoFar += batch.newErrors;
          if (!run.preview && run.projected + totals.projected >= statisticsAt) {
            while (statisticsAt <= run.projected + totals.projected) statisticsAt *= 2;
            await Promise.all([this.repositories.mesh.refreshStatistics(), this.repositories.space.refreshStatistics()]).catch((error: unknown) =>
              this.logger.warn({ ...fields, msg: `refreshing the mesh's statistics failed: ${(error as Error).message}` }),
            );
          }
          this.logger.debug({ ...fields, pass, batch: totals.batches, objects: batch.objects, ...batch.counters, failed: batch.newErrors, recomputed: batch.recomputed, msg: 'sync batch committed' });
          const threshold = connector.errorThreshold;
          if (threshold !== null && errorsSoFar > threshold) {
            const message = `stopped: ${errorsSoFar} objects failed, more than the connector's error threshold of ${threshold}; ${summary(totals, run.preview)}`;
            this.logger.warn({ ...fields, errors: errorsSoFar, threshold, msg: message });
            return { kind: 'finished', status: 'stopped-error-threshold', message };
          }
          if (selection.kind === 'page' && batch.objects < connector.batchSize) break;
        }
      }
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.logger.error({ ...fields, code: error.code, msg: `${name} stopped: ${error.message}` });
        return { kind: 'lease-lost', message: error.message };
      }
      if (context.signal.aborted) return this.interrupted(context, name, totals);
      const message = `${name} failed: ${describeFailure(error)}; ${summary(totals, run.preview)}`;
      this.logger.error({ ...fields, err: error, msg: message });
      return { kind: 'finished', status: 'failed', message };
    }
    const status = errorsSoFar > 0 ? 'completed-with-errors' : 'succeeded';
    const message = `${name} ${status === 'succeeded' ? 'succeeded' : `completed with ${errorsSoFar} failed objects`}: ${summary(totals, run.preview)}${run.recoveries > 0 ? ` (resumed after ${run.recoveries} interruption(s); the run's counters include the earlier attempts)` : ''}`;
    this.logger.log({ ...fields, ...totals, msg: message });
    return { kind: 'finished', status, message };
  }

  /**
   * One batch, one transaction. Another engine changing what the batch read
   * (a mesh object's version, a unique value, a name) rolls it back, and the
   * batch is computed again from what is there now.
   */
  private async commitBatch(context: RunContext, rules: SyncRules, state: SyncRunState, selection: Selection, pass: 1 | 2): Promise<CommittedBatch> {
    const { run, lease, connector } = context;
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await this.transactions.runIdempotent('sync batch', async (tx) => {
          const now = new Date();
          await this.leases.assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, now);
          const page =
            selection.kind === 'page'
              ? await this.repositories.space.loadSyncPage(tx, connector.id, { after: selection.after, limit: connector.batchSize, pendingOnly: selection.pendingOnly })
              : await this.repositories.space.loadByIds(tx, selection.ids);
          if (page.length === 0) return { committed: { objects: 0, cursor: null, counters: zero(), newErrors: 0, deferred: [], recomputed: 0 }, siblings: [] };
          const batch = new SyncBatch(tx, this.repositories, { runId: run.id, connectorId: connector.id, engineInstanceId: lease.engineInstanceId, preview: run.preview, pass, full: run.profile === 'full-sync', now, rules, state });
          const result = await batch.run(page);
          const newErrors = await this.runs.recordObjectErrors(tx, run.id, result.errors, now);
          await this.runs.addCounters(tx, run.id, { ...result.counters, errors: newErrors });
          const last = page[page.length - 1];
          const cursor = { objectType: last.objectType, anchor: last.anchor };
          if (selection.kind === 'page' && run.profile === 'full-sync' && !run.preview) {
            await this.watermarks.write(tx, connector.id, JSON.stringify([cursor.objectType, cursor.anchor]), run.id, now, FULL_SYNC_CHECKPOINT);
          }
          return { committed: { objects: page.length, cursor, counters: result.counters, newErrors, deferred: result.deferred, recomputed: result.recomputed }, siblings: result.siblings };
        });
        for (const [id, version] of committed.siblings) state.appliedSiblings.set(id, version);
        return committed.committed;
      } catch (error) {
        if (attempt < BATCH_ATTEMPTS && (error instanceof ConcurrentChangeError || isUniqueViolation(error))) {
          this.logger.debug({ runId: run.id, connectorId: connector.id, attempt, msg: `sync batch repeated: ${(error as Error).message}` });
          continue;
        }
        throw error;
      }
    }
  }

  /** Every enabled rule, compiled against the schemas of the connectors they name. */
  private async compileRules(context: RunContext): Promise<SyncRules> {
    const { rules, precedence } = await this.syncRules.loadEnabled();
    const ids = new Set<string>([context.connector.id]);
    for (const rule of rules) {
      if (rule.connectorId) ids.add(rule.connectorId);
      const target = rule.kind === 'provisioning' ? (rule.definition as { targetConnectorId?: unknown }).targetConnectorId : undefined;
      if (typeof target === 'string') ids.add(target);
    }
    const definitions = await this.connectors.findByIds([...ids]);
    const schemas = await connectorSchemas(definitions, this.host, context.run.id, (message) => this.logger.warn({ runId: context.run.id, msg: message }));
    return compileSyncRules(rules, precedence, schemas);
  }

  /** Where a resumed full sync goes on: after the last object its committed batches took. */
  private async checkpoint(connectorId: string, runId: string): Promise<SyncCursor | null> {
    const stored = await this.watermarks.readWithRun(connectorId, FULL_SYNC_CHECKPOINT);
    if (!stored || stored.runId !== runId) return null;
    const [objectType, anchor] = JSON.parse(stored.value) as [string, string];
    return { objectType, anchor };
  }

  private interrupted(context: RunContext, name: string, totals: Totals): RunOutcome {
    const reason = stopReasonOf(context.signal);
    const why = reason.kind === 'lease-lost' ? reason.reason : 'the engine is shutting down';
    const message = `interrupted: ${why}; ${summary(totals, context.run.preview)} were committed and stay. The ${name} resumes when an engine runs it again`;
    this.logger.warn({ runId: context.run.id, connectorId: context.connector.id, msg: message });
    return reason.kind === 'lease-lost' ? { kind: 'lease-lost', message } : { kind: 'interrupted', message };
  }

  private count(profile: string, batch: CommittedBatch): void {
    const outcomes = { ...batch.counters, provisioned: batch.counters.added, failed: batch.newErrors };
    for (const [outcome, value] of Object.entries(outcomes)) if (outcome !== 'added' && value > 0) this.objects.inc({ profile, outcome }, value);
  }
}

/** The pages of the walk: each starts after the last object of the one before. */
function* pages(cursor: () => SyncCursor | null, pendingOnly: boolean): Generator<Selection> {
  for (;;) yield { kind: 'page', after: cursor(), pendingOnly };
}

function zero(): SyncBatchCounters {
  return { joined: 0, projected: 0, updated: 0, deleted: 0, added: 0, exported: 0 };
}

function add(totals: Totals, batch: CommittedBatch): void {
  totals.batches++;
  totals.objects += batch.objects;
  totals.failed += batch.newErrors;
  totals.recomputed += batch.recomputed;
  for (const key of Object.keys(batch.counters) as Array<keyof SyncBatchCounters>) totals[key] += batch.counters[key];
}

function summary(totals: Totals, preview: boolean): string {
  const verb = preview ? 'would be ' : '';
  return (
    `${totals.objects} objects in ${totals.batches} batch(es)${totals.deferred > 0 ? ` (${totals.deferred} evaluated again for references)` : ''}: ` +
    `${totals.joined} joined, ${totals.projected} mesh objects ${verb}projected, ${totals.updated} ${verb}updated, ${totals.deleted} ${verb}deleted, ` +
    `${totals.added} objects ${verb}provisioned, ${totals.exported} exports ${verb}queued, ${totals.failed} failed` +
    (preview ? '; nothing was written but the change report' : '')
  );
}

function describeFailure(error: unknown): string {
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  return (error as Error)?.message ?? String(error);
}
