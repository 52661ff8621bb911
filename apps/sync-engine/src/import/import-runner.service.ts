import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@identitymesh/domain';
import { Connector, ConnectorError, ImportBatch } from '@identitymesh/connector-sdk';
import { MetricsRegistry } from '@identitymesh/platform';
import {
  ConnectorLeaseRepository,
  ConnectorSpaceRepository,
  LeaseLostError,
  RunObjectErrorInput,
  RunRepository,
  StagedBatchResult,
  Transaction,
  TransactionRunner,
  WatermarkRepository,
} from '@identitymesh/persistence';
import { ConnectorHost } from '../connectors/connector-host.service';
import { relayedBatchOf } from '../relays/relayed-batch';
import { ProfileRunner, RunContext, RunOutcome, stopReasonOf } from '../runs/run-context';
import { hasReferences, ImportPlan, importPlan, PreparedBatch, prepareImportBatch } from './import-staging';

/** Inserted objects after which a run first refreshes the planner's statistics; then each time that doubled. */
const FIRST_STATISTICS_REFRESH = 5_000;
/** New objects of a run that never reached FIRST_STATISTICS_REFRESH above which statistics are refreshed before references are linked. */
const STATISTICS_BEFORE_LINKING = 1_000;

/**
 * What a profile built on the import adds to it (the confirming import),
 * inside the import's own transactions, so its writes commit with the batch
 * they judge. Each hook returns per-object errors, recorded and counted with
 * the batch's own.
 */
export interface ImportExtension {
  /** How messages name the profile: `confirming import`. */
  name: string;
  mode: 'full' | 'delta';
  /** In each batch's transaction, after the batch was staged. */
  afterBatch(tx: Transaction, context: RunContext, batch: { prepared: PreparedBatch; staged: StagedBatchResult; plan: ImportPlan; now: Date }): Promise<RunObjectErrorInput[]>;
  /** In the completion transaction of a stream read to its end as a whole snapshot, after the unseen objects were marked deleted. */
  afterComplete(tx: Transaction, context: RunContext, now: Date): Promise<RunObjectErrorInput[]>;
}

interface Totals {
  batches: number;
  read: number;
  added: number;
  updated: number;
  deleted: number;
  unchanged: number;
  failed: number;
}

/**
 * Full and delta imports. The connector streams batches; each batch is
 * staged in one transaction together with its per-object errors, the run's
 * counters and the watermark it carries, after proving the connector's lease
 * is still this engine's. A crash at any point leaves whole batches only, and
 * a resumed run finds its committed objects unchanged, so nothing is counted
 * or applied twice.
 *
 * A full import (and a delta from a connector whose deltas are whole
 * snapshots, like CSV) marks every object it reads as seen; when it reaches
 * the end of the stream, the objects it did not see become pending deletes.
 * A run that stops early never marks anything deleted.
 */
@Injectable()
export class ImportRunner implements ProfileRunner {
  private readonly logger = new Logger('Import');
  private readonly objects;
  private readonly batchSeconds;

  constructor(
    private readonly host: ConnectorHost,
    private readonly transactions: TransactionRunner,
    private readonly leases: ConnectorLeaseRepository,
    private readonly space: ConnectorSpaceRepository,
    private readonly runs: RunRepository,
    private readonly watermarks: WatermarkRepository,
    metrics: MetricsRegistry,
  ) {
    this.objects = metrics.counter('import_objects_total', 'Objects imported, by run profile and outcome', ['profile', 'outcome']);
    this.batchSeconds = metrics.histogram('import_batch_duration_seconds', 'Time to stage and commit one import batch', ['profile'], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  }

  /** Runs a full or delta import, or with `extension` a profile built on one. */
  async run(context: RunContext, extension?: ImportExtension): Promise<RunOutcome> {
    const { run, connector: definition } = context;
    const profile = run.profile;
    if (!extension && profile !== 'full-import' && profile !== 'delta-import') throw new Error(`the import runner does not run ${profile}`);
    const describeProfile = () => extension?.name ?? (profile === 'full-import' ? 'full import' : 'delta import');
    const fields = { runId: run.id, connectorId: definition.id, profile };
    if (run.preview) {
      return { kind: 'finished', status: 'failed', message: 'a preview (dry run) is offered for sync and export runs; an import has nothing to preview. Queue it without preview' };
    }

    let connector: Connector;
    try {
      connector = this.host.create(definition, { runId: run.id });
    } catch (error) {
      return { kind: 'finished', status: 'failed', message: describeFailure(error) };
    }
    const mode = extension?.mode ?? (profile === 'full-import' ? 'full' : 'delta');
    const totals: Totals = { batches: 0, read: 0, added: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 };
    try {
      const snapshot = mode === 'full' || connector.capabilities().deltaImport === 'snapshot';
      const plan = importPlan(await connector.schema());
      const watermark = mode === 'delta' ? await this.watermarks.read(definition.id) : undefined;
      this.logger.log({ ...fields, fencingToken: context.lease.fencingToken, watermark, resumed: run.recoveries > 0, msg: `${describeProfile()} of connector "${definition.name}" started` });

      const stream = connector.import({ mode, objectTypes: [], watermark, batchSize: definition.batchSize, signal: context.signal });
      let errorsSoFar = run.errors;
      // Counted over the whole run, its earlier attempts included: a run resumed after every few
      // thousand objects would otherwise never refresh them, and its lookups would go on scanning.
      let statisticsAt = FIRST_STATISTICS_REFRESH;
      for await (const batch of untilAborted(stream, context.signal)) {
        const started = process.hrtime.bigint();
        const prepared = prepareImportBatch(batch, plan, this.space.limits(), snapshot);
        const { staged, newErrors } = await this.commitBatch(context, prepared, batch, snapshot, plan, extension);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.batchSeconds.observe({ profile }, seconds);
        add(totals, prepared, staged, newErrors);
        this.count(profile, staged, newErrors);
        errorsSoFar += newErrors;
        if (run.added + totals.added >= statisticsAt) {
          while (statisticsAt <= run.added + totals.added) statisticsAt *= 2;
          await this.space.refreshStatistics().catch((error: unknown) => this.logger.warn({ ...fields, msg: `refreshing the connector space's statistics failed: ${(error as Error).message}` }));
        }
        this.logger.debug({ ...fields, batch: totals.batches, read: prepared.read, added: staged.added, updated: staged.updated, deleted: staged.deleted, unchanged: staged.unchanged, failed: newErrors, watermark: batch.watermark, seconds, msg: 'import batch committed' });
        const threshold = definition.errorThreshold;
        if (threshold !== null && errorsSoFar > threshold) {
          const message = `stopped: ${errorsSoFar} objects failed, more than the connector's error threshold of ${threshold}; ${summary(totals)}. Objects not read were not marked deleted`;
          this.logger.warn({ ...fields, errors: errorsSoFar, threshold, msg: message });
          return { kind: 'finished', status: 'stopped-error-threshold', message };
        }
      }
      if (context.signal.aborted) return this.interrupted(context, totals);

      const completeSnapshot = snapshot && (mode === 'full' || totals.batches > 0);
      // A first import below the first refresh leaves the planner thinking the tables are as empty as
      // before it; the reference linking below would then scan instead of using the anchor index.
      if (statisticsAt === FIRST_STATISTICS_REFRESH && run.added + totals.added >= STATISTICS_BEFORE_LINKING && hasReferences(plan)) {
        await this.space.refreshStatistics().catch((error: unknown) => this.logger.warn({ ...fields, msg: `refreshing the connector space's statistics failed: ${(error as Error).message}` }));
      }
      const { deleted: unseen, newErrors: completionErrors } = await this.complete(context, plan, completeSnapshot, extension);
      totals.deleted += unseen;
      totals.failed += completionErrors;
      errorsSoFar += completionErrors;
      if (completionErrors > 0) this.objects.inc({ profile, outcome: 'failed' }, completionErrors);
      if (unseen > 0) this.objects.inc({ profile, outcome: 'deleted' }, unseen);
      const status = errorsSoFar > 0 ? 'completed-with-errors' : 'succeeded';
      const message = `${describeProfile()} ${status === 'succeeded' ? 'succeeded' : `completed with ${errorsSoFar} failed objects`}: ${summary(totals)}${run.recoveries > 0 ? ` (resumed after ${run.recoveries} interruption(s); the run's counters include the earlier attempts)` : ''}`;
      this.logger.log({ ...fields, ...totals, msg: message });
      return { kind: 'finished', status, message };
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.logger.error({ ...fields, code: error.code, msg: `${describeProfile()} stopped: ${error.message}` });
        return { kind: 'lease-lost', message: error.message };
      }
      if (context.signal.aborted) return this.interrupted(context, totals);
      const message = `${describeProfile()} failed: ${describeFailure(error)}; ${summary(totals)}`;
      this.logger.error({ ...fields, err: error, msg: message });
      return { kind: 'finished', status: 'failed', message };
    } finally {
      await connector.close().catch((error: unknown) => this.logger.warn({ ...fields, msg: `closing the connector failed: ${(error as Error).message}` }));
    }
  }

  /**
   * One batch, one transaction: lease check, objects, references, errors, counters, watermark, and for a batch a
   * relay staged its applied mark (a batch applied already rolls the transaction back). Safe to repeat, so transient
   * faults retry it whole.
   */
  private commitBatch(context: RunContext, prepared: PreparedBatch, batch: ImportBatch, snapshot: boolean, plan: ImportPlan, extension: ImportExtension | undefined): Promise<{ staged: StagedBatchResult; newErrors: number }> {
    const { run, lease } = context;
    const relayed = relayedBatchOf(batch);
    return this.transactions.runIdempotent('import batch', async (tx) => {
      const now = new Date();
      await this.leases.assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, now);
      if (relayed) await relayed.markApplied(tx, now);
      const staged = await this.space.stageImportBatch(tx, {
        connectorId: lease.connectorId,
        runId: run.id,
        upserts: prepared.upserts,
        deletes: prepared.deletes,
        unreadable: prepared.unreadable,
        markSeen: snapshot,
        withReferences: hasReferences(plan),
        now,
      });
      const errors: RunObjectErrorInput[] = prepared.errors.map((error) => ({
        ...error,
        csObjectId: error.anchor === undefined ? null : (staged.existingIds.get(`${error.objectType ?? ''}\u0000${error.anchor}`) ?? null),
      }));
      if (extension) errors.push(...(await extension.afterBatch(tx, context, { prepared, staged, plan, now })));
      const newErrors = await this.runs.recordObjectErrors(tx, run.id, errors, now);
      await this.runs.addCounters(tx, run.id, { added: staged.added, updated: staged.updated, deleted: staged.deleted, errors: newErrors });
      if (batch.watermark !== undefined) await this.watermarks.write(tx, lease.connectorId, batch.watermark, run.id, now);
      return { staged, newErrors };
    });
  }

  /**
   * The end of a complete stream: the objects a snapshot did not see become
   * pending deletes, and references now resolvable are linked, in one
   * transaction under the lease. Returns the number of new pending deletes.
   */
  private complete(context: RunContext, plan: ImportPlan, completeSnapshot: boolean, extension: ImportExtension | undefined): Promise<{ deleted: number; newErrors: number }> {
    const { run, lease } = context;
    const byAnchor = new Set<string>();
    const byDn = new Set<string>();
    for (const attributes of plan.references.values()) for (const [name, by] of attributes) (by === 'anchor' ? byAnchor : byDn).add(name);
    return this.transactions.runIdempotent('import completion', async (tx) => {
      const now = new Date();
      await this.leases.assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, now);
      const deleted = completeSnapshot ? await this.space.markUnseenAsDeleted(tx, lease.connectorId, run.id, null, now) : 0;
      const errors = extension && completeSnapshot ? await extension.afterComplete(tx, context, now) : [];
      const newErrors = await this.runs.recordObjectErrors(tx, run.id, errors, now);
      await this.runs.addCounters(tx, run.id, { deleted, errors: newErrors });
      await this.space.resolveReferences(tx, lease.connectorId, {
        byAnchor: { attributeNames: [...byAnchor], objectTypes: plan.objectTypes },
        byDn: { attributeNames: [...byDn] },
      });
      return { deleted, newErrors };
    });
  }

  private interrupted(context: RunContext, totals: Totals): RunOutcome {
    const reason = stopReasonOf(context.signal);
    const why = reason.kind === 'lease-lost' ? reason.reason : 'the engine is shutting down';
    const message = `interrupted: ${why}; ${summary(totals)} were committed and stay. It resumes after them when an engine runs it again`;
    this.logger.warn({ runId: context.run.id, connectorId: context.connector.id, msg: message });
    return reason.kind === 'lease-lost' ? { kind: 'lease-lost', message } : { kind: 'interrupted', message };
  }

  private count(profile: string, staged: StagedBatchResult, failed: number): void {
    const outcomes = { added: staged.added, updated: staged.updated, deleted: staged.deleted, unchanged: staged.unchanged, failed };
    for (const [outcome, value] of Object.entries(outcomes)) if (value > 0) this.objects.inc({ profile, outcome }, value);
  }
}

/**
 * Iterates the connector's stream until it ends or the signal fires. A
 * connector waiting on its system does not hold the run up: on abort the
 * pending read is abandoned and the stream is told to end.
 */
async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let abandoned = false;
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    while (!signal.aborted) {
      const pending = iterator.next();
      const next = await Promise.race([pending, aborted]);
      if (next === 'aborted') {
        abandoned = true;
        // Its outcome no longer matters; it must not surface as an unhandled rejection.
        pending.catch(() => undefined);
        return;
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    const ended = iterator.return?.();
    if (ended && !abandoned) await ended.catch(() => undefined);
    else ended?.catch(() => undefined);
  }
}

function add(totals: Totals, prepared: PreparedBatch, staged: StagedBatchResult, failed: number): void {
  totals.batches++;
  totals.read += prepared.read;
  totals.added += staged.added;
  totals.updated += staged.updated;
  totals.deleted += staged.deleted;
  totals.unchanged += staged.unchanged;
  totals.failed += failed;
}

function summary(totals: Totals): string {
  return `${totals.read} objects read in ${totals.batches} batch(es): ${totals.added} added, ${totals.updated} updated, ${totals.deleted} deleted, ${totals.unchanged} unchanged, ${totals.failed} failed`;
}

function describeFailure(error: unknown): string {
  if (error instanceof ConnectorError) return `${error.code}: ${error.message}`;
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  return (error as Error)?.message ?? String(error);
}
