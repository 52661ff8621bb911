import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@identitymesh/domain';
import type { ExportOperation } from '@identitymesh/domain';
import { Attributes, Connector, ConnectorCapabilities, ConnectorError, ConnectorSchema, ExportResult } from '@identitymesh/connector-sdk';
import { MetricsRegistry } from '@identitymesh/platform';
import {
  AuditEventInput,
  AuditRepository,
  ClaimRequest,
  ConnectorDefinition,
  ConnectorLeaseRepository,
  ConnectorSpaceObjectView,
  ConnectorSpaceRepository,
  ExportBackoff,
  ExportCursor,
  ExportedObjectUpdate,
  ExportItemView,
  ExportQueueRepository,
  FailedExport,
  isProvisionalAnchor,
  LeaseLostError,
  pendingExportOf,
  RunChangeRepository,
  RunObjectErrorInput,
  RunRepository,
  Transaction,
  TransactionRunner,
} from '@identitymesh/persistence';
import { SyncEngineConfig } from '../config/sync-engine.config';
import { ConnectorHost } from '../connectors/connector-host.service';
import { importPlan, ImportPlan, prepareImportBatch } from '../import/import-staging';
import { ProfileRunner, RunContext, RunOutcome, stopReasonOf } from '../runs/run-context';
import { auditEntry, ObjectState, previewLine, stateAfter, toConnectorChange } from './export-changes';

/** Operations in the order a run sends them: objects exist before others reference them; deletes go last, after the updates that drop references to them. */
const PHASES: ExportOperation[] = ['add', 'rename', 'update', 'delete'];

interface Totals {
  batches: number;
  sent: number;
  added: number;
  updated: number;
  renamed: number;
  deleted: number;
  alreadyApplied: number;
  failed: number;
  parked: number;
}

/** What the deletion threshold decided at the start of a run. */
interface DeletionGate {
  /** Deletes an approval of this run released. */
  released: number;
  /** Deletes this run held now. */
  held: number;
  /** Deletes held by this run in all (earlier attempts included) after the check. */
  heldByRun: number;
  objects: number;
  pending: Record<ExportOperation, number>;
  inFlight: Record<ExportOperation, number>;
}

interface BatchOutcome {
  added: number;
  updated: number;
  renamed: number;
  deleted: number;
  alreadyApplied: number;
  failed: number;
  parked: number;
  newErrors: number;
}

/**
 * Export runs: the connector's queued changes (`IM_ExportQueue`) written to
 * its system in batches, and preview (dry) runs that only report them.
 *
 * A run first checks new deletes against the connector's deletion threshold
 * (held for approval above it; an approved run lets exactly its held
 * deletes go), then sends, operation by operation: first what an earlier
 * run left in flight (its engine died between handing a batch to the
 * connector and recording the results), then the due pending changes.
 * Each batch is claimed (marked in flight) in one transaction, handed to
 * the connector with each change's stable id, and its results recorded in a
 * second transaction under the lease: queue items, the staged objects (the
 * anchor a system assigned, the values written, deletes removed), per-object
 * errors, the run's counters and one audit entry per exported object. A
 * crash between the two leaves the batch in flight; the next run sends it
 * again, the connector reconciles what already arrived, and the results are
 * recorded once.
 */
@Injectable()
export class ExportRunner implements ProfileRunner {
  private readonly logger = new Logger('Export');
  private readonly objects;
  private readonly batchSeconds;
  private readonly backoff: ExportBackoff;

  constructor(
    private readonly host: ConnectorHost,
    private readonly transactions: TransactionRunner,
    private readonly leases: ConnectorLeaseRepository,
    private readonly queue: ExportQueueRepository,
    private readonly space: ConnectorSpaceRepository,
    private readonly runs: RunRepository,
    private readonly changes: RunChangeRepository,
    private readonly audit: AuditRepository,
    config: SyncEngineConfig,
    metrics: MetricsRegistry,
  ) {
    this.backoff = { baseMs: config.exports.retryBaseMs, maxMs: config.exports.retryMaxMs };
    this.objects = metrics.counter('export_objects_total', 'Exported changes, by outcome', ['outcome']);
    this.batchSeconds = metrics.histogram('export_batch_duration_seconds', 'Time to send one export batch and record its results', [], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
  }

  async run(context: RunContext): Promise<RunOutcome> {
    const { run, connector: definition } = context;
    if (run.profile !== 'export') throw new Error(`the export runner does not run ${run.profile}`);
    const fields = { runId: run.id, connectorId: definition.id, profile: run.profile };
    let connector: Connector;
    try {
      // The signal ends a wait for a relay's results, which export() has no parameter for.
      connector = this.host.create(definition, { runId: run.id, signal: context.signal });
    } catch (error) {
      return { kind: 'finished', status: 'failed', message: describeFailure(error) };
    }
    const totals: Totals = { batches: 0, sent: 0, added: 0, updated: 0, renamed: 0, deleted: 0, alreadyApplied: 0, failed: 0, parked: 0 };
    try {
      const capabilities = connector.capabilities();
      if (!capabilities.export) {
        return { kind: 'finished', status: 'failed', message: `connector type '${definition.type}' takes no exports; the run changed nothing` };
      }
      if (run.preview) return await this.preview(context);
      this.logger.log({ ...fields, fencingToken: context.lease.fencingToken, resumed: run.recoveries > 0, msg: `export to connector "${definition.name}" started` });
      return await this.export(context, connector, capabilities, totals);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.logger.error({ ...fields, code: error.code, msg: `export stopped: ${error.message}` });
        return { kind: 'lease-lost', message: error.message };
      }
      if (context.signal.aborted) return this.interrupted(context, totals);
      const message = `export failed: ${describeFailure(error)}; ${summary(totals)}`;
      this.logger.error({ ...fields, err: error, msg: message });
      return { kind: 'finished', status: 'failed', message };
    } finally {
      await connector.close().catch((error: unknown) => this.logger.warn({ ...fields, msg: `closing the connector failed: ${(error as Error).message}` }));
    }
  }

  private async export(context: RunContext, connector: Connector, capabilities: ConnectorCapabilities, totals: Totals): Promise<RunOutcome> {
    const { run, connector: definition } = context;
    const fields = { runId: run.id, connectorId: definition.id };
    const counts = await this.queue.counts(definition.id);
    const gate: DeletionGate =
      counts.uncheckedDeletes > 0 || counts.heldDeletes > 0 || run.deletesApprovedAt !== null
        ? await this.checkDeletes(context)
        : { released: 0, held: 0, heldByRun: 0, objects: 0, pending: counts.pending, inFlight: counts.inFlight };
    if (gate.held > 0) this.logger.warn({ ...fields, held: gate.held, msg: `${gate.held} delete(s) held for approval: ${thresholdText(definition, gate.objects)}` });
    const schema = await connector.schema();
    const sending: Sending = { context, connector, capabilities, plan: importPlan(schema), anchorAttributes: stagedAnchorAttributes(schema), totals, errorsSoFar: run.errors };
    const began = new Date();

    let leftBehind = false;
    for (const orphans of [true, false]) {
      for (const operation of PHASES) {
        const queued = orphans ? gate.inFlight[operation] : gate.pending[operation];
        if (queued === 0) continue;
        const pass = await this.sendPages(sending, { operation, orphans }, queued);
        if ('outcome' in pass) return pass.outcome;
        if (!orphans && pass.visited < queued) leftBehind = true;
      }
    }
    // A change waits behind every older change of its object that is not done yet, so one queued behind a change this
    // run sent (a group's added members behind its removed ones, an update behind a rename) was skipped by the pass
    // above. Follow-up rounds send what was queued before the run began and has become due since; an item this run
    // tried already is not tried again (a failure waits for a later run, whatever its backoff), so every round sends
    // something new or is the last. The margins absorb databases that keep whole seconds.
    const followUp = { queuedBefore: new Date(began.getTime() + 1_000), attemptedBefore: new Date(Math.floor(began.getTime() / 1_000) * 1_000) };
    while (leftBehind) {
      leftBehind = false;
      for (const operation of PHASES) {
        const pass = await this.sendPages(sending, { operation, orphans: false, followUp }, Number.POSITIVE_INFINITY);
        if ('outcome' in pass) return pass.outcome;
        if (pass.visited > 0) leftBehind = true;
      }
    }

    const errorsSoFar = sending.errorsSoFar;
    const heldByRun = gate.heldByRun;
    const status = heldByRun > 0 ? 'held-for-approval' : errorsSoFar > 0 ? 'completed-with-errors' : 'succeeded';
    const parts = [
      `export ${status === 'succeeded' ? 'succeeded' : status === 'completed-with-errors' ? `completed with ${errorsSoFar} failed objects` : 'is waiting for an approval of held deletes'}: ${summary(totals)}`,
    ];
    if (gate.released > 0) parts.push(`${gate.released} held delete(s) approved by ${run.deletesApprovedBy ?? 'an operator'} were released`);
    if (heldByRun > 0) parts.push(`${heldByRun} delete(s) held for approval, none of them sent (${thresholdText(definition, gate.objects)}); the other changes went out`);
    if (run.recoveries > 0) parts.push(`resumed after ${run.recoveries} interruption(s); the run's counters include the earlier attempts`);
    const message = parts.join('; ');
    this.logger.log({ ...fields, ...totals, msg: message });
    return { kind: 'finished', status, message };
  }

  /**
   * Claims, sends and records pages of one kind of change until none is
   * left or `queued` of them were visited (changes queued after the run
   * began wait for the next run; so does a page that would only confirm
   * there is nothing more). Ends the run early when the connector cannot
   * take a batch, the error threshold is passed, or the run is told to stop.
   */
  private async sendPages(sending: Sending, request: Pick<ClaimRequest, 'operation' | 'orphans' | 'followUp'>, queued: number): Promise<{ visited: number } | { outcome: RunOutcome }> {
    const { context, connector, capabilities, plan, anchorAttributes, totals } = sending;
    const { run, connector: definition } = context;
    const fields = { runId: run.id, connectorId: definition.id };
    let after: ExportCursor | undefined;
    let visited = 0;
    for (;;) {
      if (context.signal.aborted) return { outcome: this.interrupted(context, totals) };
      const started = process.hrtime.bigint();
      const claimed = await this.transactions.runIdempotent('export claim', async (tx) => {
        await this.assertLease(tx, context);
        return this.queue.claim(tx, { connectorId: definition.id, ...request, after, limit: definition.batchSize, now: new Date() });
      });
      after = claimed.cursor;
      visited += claimed.items.length;
      if (claimed.items.length > 0) {
        const sent = await this.send(connector, claimed.items);
        // Stopped while a relay had the batch: it stays in flight and is sent again (or its answer found) when the run resumes.
        if (!sent.ok && context.signal.aborted) return { outcome: this.interrupted(context, totals) };
        if (!sent.ok) return { outcome: await this.connectorFailed(context, claimed.items, sent.error, totals) };
        const outcome = await this.record(context, claimed.items, sent.results, capabilities, plan, anchorAttributes);
        this.count(totals, claimed.items.length, outcome);
        sending.errorsSoFar += outcome.newErrors;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.batchSeconds.observe({}, seconds);
        this.logger.debug({ ...fields, operation: request.operation, orphans: request.orphans, followUp: request.followUp !== undefined, batch: totals.batches, sent: claimed.items.length, ...outcome, seconds, msg: 'export batch recorded' });
        const threshold = definition.errorThreshold;
        if (threshold !== null && sending.errorsSoFar > threshold) {
          const message = `stopped: ${sending.errorsSoFar} objects failed, more than the connector's error threshold of ${threshold}; ${summary(totals)}. The changes not sent stay queued`;
          this.logger.warn({ ...fields, errors: sending.errorsSoFar, threshold, msg: message });
          return { outcome: { kind: 'finished', status: 'stopped-error-threshold', message } };
        }
      }
      if (!claimed.more || visited >= queued) break;
    }
    return { visited };
  }

  /**
   * The deletion threshold, in one transaction under the lease. An approval
   * of this run releases the deletes it held up to the approval. Then every
   * pending delete no run checked yet is held by this run — one statement, so
   * a delete queued meanwhile is either in this set or left for the next run
   * — and if the held deletes of the connector (this run's and any other
   * run's still waiting) stay within the threshold, this run's are let
   * through again. Otherwise they stay held, counted in `heldDeletes`.
   */
  private checkDeletes(context: RunContext): Promise<DeletionGate> {
    const { run, connector: definition } = context;
    return this.transactions.runIdempotent('export deletion threshold', async (tx) => {
      const now = new Date();
      await this.assertLease(tx, context);
      const released = run.deletesApprovedAt ? await this.queue.releaseHeldDeletes(tx, definition.id, run.id, now, run.deletesApprovedAt) : 0;
      const held = await this.queue.holdDeletes(tx, definition.id, run.id, now);
      let counts = await this.queue.counts(definition.id, tx);
      let objects = 0;
      let heldByRun = 0;
      if (counts.heldDeletes > 0) {
        objects = await this.space.countObjects(definition.id, tx);
        const above = counts.heldDeletes > definition.deletionThresholdCount || counts.heldDeletes * 100 > definition.deletionThresholdPercent * objects;
        if (!above) {
          await this.queue.releaseHeldDeletes(tx, definition.id, run.id, now);
          counts = await this.queue.counts(definition.id, tx);
        } else {
          heldByRun = await this.queue.countHeldBy(tx, definition.id, run.id);
          if (held > 0) await this.runs.addCounters(tx, run.id, { heldDeletes: held });
        }
      }
      return { released, held: heldByRun > 0 ? held : 0, heldByRun, objects, pending: counts.pending, inFlight: counts.inFlight };
    });
  }

  private async send(connector: Connector, items: ExportItemView[]): Promise<{ ok: true; results: ExportResult[] } | { ok: false; error: unknown }> {
    try {
      return { ok: true, results: await connector.export(items.map(toConnectorChange)) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** The system could not take the batch at all: it goes back to the queue with backoff, the run fails and says why; nothing else is touched. */
  private async connectorFailed(context: RunContext, items: ExportItemView[], error: unknown, totals: Totals): Promise<RunOutcome> {
    const reason = describeFailure(error);
    await this.transactions.runIdempotent('export batch return', async (tx) => {
      await this.assertLease(tx, context);
      await this.queue.returnToPending(
        tx,
        items.map((item) => item.id),
        { error: reason, backoff: this.backoff, now: new Date() },
      );
    });
    const message = `export failed: ${reason}; the batch of ${items.length} change(s) in hand went back to the queue and is retried later; ${summary(totals)}`;
    this.logger.error({ runId: context.run.id, connectorId: context.connector.id, err: error, msg: message });
    return { kind: 'finished', status: 'failed', message };
  }

  /**
   * A batch's results, one transaction under the lease. It reads what it
   * needs inside itself after locking the objects, and only items still in
   * flight are recorded, so a repeat after a commit whose answer was lost
   * records and counts nothing twice.
   */
  private record(
    context: RunContext,
    items: ExportItemView[],
    results: ExportResult[],
    capabilities: ConnectorCapabilities,
    plan: ImportPlan,
    anchorAttributes: ReadonlyMap<string, string>,
  ): Promise<BatchOutcome> {
    const { run, connector: definition } = context;
    const byId = new Map(results.map((result) => [result.id, result]));
    const csObjectIds = [...new Set(items.map((item) => item.csObjectId))];
    return this.transactions.runIdempotent('export results', async (tx) => {
      const now = new Date();
      const outcome: BatchOutcome = { added: 0, updated: 0, renamed: 0, deleted: 0, alreadyApplied: 0, failed: 0, parked: 0, newErrors: 0 };
      await this.assertLease(tx, context);
      await this.queue.lockObjects(tx, csObjectIds);
      const chains = await this.queue.chainsOf(
        tx,
        csObjectIds,
        items.map((item) => item.id),
      );
      const batchIds = new Set(items.map((item) => item.id));
      const mine = chains.filter((item) => batchIds.has(item.id) && item.status === 'in-flight');
      if (mine.length === 0) return outcome;
      const objects = new Map((await this.space.loadByIds(tx, csObjectIds)).map((object) => [object.id, object]));

      const succeeded: Array<{ item: ExportItemView; result: ExportResult; object: ConnectorSpaceObjectView }> = [];
      const failed: Array<FailedExport & { item: ExportItemView; code: string; message: string }> = [];
      for (const item of mine) {
        const result = byId.get(item.id);
        const object = objects.get(item.csObjectId);
        if (result && (result.outcome === 'applied' || result.outcome === 'already-applied') && object) {
          succeeded.push({ item, result, object });
          continue;
        }
        const code = result?.error?.code ?? 'SYSTEM_ERROR';
        const message = result?.error?.message ?? (result ? 'the connector reported a failure without saying why' : 'the connector returned no result for this change');
        failed.push({ id: item.id, attempts: item.attempts, error: `${code}: ${message}`, retryable: result?.error?.retryable ?? true, item, code, message });
      }

      // What each object still has to send once this batch's successes are done.
      const done = new Set(succeeded.map((entry) => entry.item.id));
      const remaining = (csObjectId: string) => chains.filter((item) => item.csObjectId === csObjectId && !done.has(item.id));
      const newer = (than: ExportItemView) => remaining(than.csObjectId).filter((item) => item.seq > than.seq || (item.seq === than.seq && item.id > than.id));
      const updates: ExportedObjectUpdate[] = [];
      const removals: string[] = [];
      const errors: RunObjectErrorInput[] = [];
      const auditEvents: AuditEventInput[] = [];
      const assigned = await this.assignedAnchors(tx, definition, succeeded, capabilities, errors, removals);
      for (const { item, result, object } of succeeded) {
        const left = remaining(object.id);
        let after: ObjectState | undefined;
        if (item.operation === 'delete') {
          // A change queued behind the delete (the object provisioned again) keeps the object; older parked ones are moot now.
          const behind = newer(item);
          if (behind.length === 0) removals.push(object.id);
          else updates.push({ ...unchanged(object), pendingExport: pendingExportOf(behind) });
        } else {
          after = stateAfter(object, item.change, assigned.get(item.id));
          const state = this.staged(object, after, plan, errors, item, anchorAttributes.get(object.objectType));
          if (state.anchor !== after.anchor) after = { ...after, anchor: state.anchor };
          updates.push({ ...state, pendingExport: pendingExportOf(left) });
        }
        auditEvents.push(auditEntry({ item, object, after, outcome: result.outcome as 'applied' | 'already-applied', engineInstanceId: context.engineInstanceId, runId: run.id, at: now }));
        if (result.outcome === 'already-applied') outcome.alreadyApplied++;
        if (item.operation === 'add') outcome.added++;
        else if (item.operation === 'update') outcome.updated++;
        else if (item.operation === 'rename') outcome.renamed++;
        else outcome.deleted++;
      }

      const recorded = await this.queue.recordResults(tx, {
        succeeded: succeeded.map((entry) => entry.item.id),
        failed,
        maxAttempts: definition.exportMaxAttempts,
        backoff: this.backoff,
        now,
      });
      const parked = new Set(recorded.filter((entry) => entry.status === 'parked').map((entry) => entry.id));
      for (const failure of failed) {
        const object = objects.get(failure.item.csObjectId);
        const attempts = failure.attempts + 1;
        const fate = parked.has(failure.id) ? `parked after ${attempts} failed attempt(s); it is not retried until a newer change of the object is queued` : `attempt ${attempts} of ${definition.exportMaxAttempts}; retried later`;
        errors.push({
          code: failure.code,
          message: `${failure.item.operation} of ${failure.item.change.objectType} ${object?.distinguishedName ?? failure.item.change.anchor ?? failure.item.csObjectId} failed: ${failure.message} (${fate})`,
          objectType: failure.item.change.objectType,
          anchor: object?.anchor ?? failure.item.change.anchor,
          position: `export ${failure.id}`,
          csObjectId: failure.item.csObjectId,
        });
      }
      outcome.failed = failed.length;
      outcome.parked = parked.size;

      // Removals first: an object taken for a duplicate frees the anchor its added twin receives.
      if (removals.length > 0) await this.space.removeObjects(tx, removals);
      await this.space.applyExportResults(tx, updates, now);
      outcome.newErrors = await this.runs.recordObjectErrors(tx, run.id, errors, now);
      await this.runs.addCounters(tx, run.id, {
        exported: succeeded.length,
        added: outcome.added,
        updated: outcome.updated + outcome.renamed,
        deleted: outcome.deleted,
        errors: outcome.newErrors,
      });
      await this.audit.record(tx, auditEvents);
      return outcome;
    });
  }

  /**
   * Anchors systems assigned to added objects. An anchor already staged for
   * another object of the connector (an import read the new object before
   * the add's result was recorded) is taken over when that object is linked
   * to nothing — it is the same object — and reported otherwise.
   */
  private async assignedAnchors(
    tx: Transaction,
    definition: ConnectorDefinition,
    succeeded: ReadonlyArray<{ item: ExportItemView; result: ExportResult; object: ConnectorSpaceObjectView }>,
    capabilities: ConnectorCapabilities,
    errors: RunObjectErrorInput[],
    removals: string[],
  ): Promise<Map<string, string>> {
    const assigned = new Map<string, string>();
    if (!capabilities.assignsAnchorOnAdd) return assigned;
    const candidates = succeeded.filter(({ item, result, object }) => item.operation === 'add' && result.anchor !== undefined && result.anchor !== object.anchor);
    if (candidates.length === 0) return assigned;
    const taken = await this.space.findNamed(
      tx,
      candidates.map(({ object, result }) => ({ connectorId: definition.id, objectType: object.objectType, anchor: result.anchor as string })),
    );
    const byKey = new Map(taken.map((other) => [`${other.objectType}\u0000${other.anchor}`, other]));
    for (const { item, result, object } of candidates) {
      const anchor = result.anchor as string;
      const other = byKey.get(`${object.objectType}\u0000${anchor}`);
      if (other && other.id !== object.id) {
        if (other.meshObjectId !== null) {
          errors.push({
            code: 'EXPORT_ANCHOR_TAKEN',
            message: `the system gave the added ${object.objectType} ${object.distinguishedName ?? object.anchor} the anchor ${anchor}, which another staged object linked to a mesh object already has; the added object keeps its provisional anchor until an operator resolves it`,
            objectType: object.objectType,
            anchor: object.anchor,
            position: `export ${item.id}`,
            csObjectId: object.id,
          });
          continue;
        }
        removals.push(other.id);
      }
      assigned.set(item.id, anchor);
    }
    return assigned;
  }

  /**
   * The object with its values and DN after the export, hashed and with its
   * references as an import stages them. Values the connector space cannot
   * hold (an import would refuse them too) leave the object's staged state as
   * it was, with a per-object error; the export itself stays done.
   */
  private staged(
    object: ConnectorSpaceObjectView,
    after: ObjectState,
    plan: ImportPlan,
    errors: RunObjectErrorInput[],
    item: ExportItemView,
    anchorAttribute: string | undefined,
  ): Omit<ExportedObjectUpdate, 'pendingExport'> {
    const attributes = { ...(after.attributes as Attributes) };
    // An import stages the anchor as an attribute too when the schema lists it (LDAP's entryUUID, which no export
    // writes); without it the next import would find every exported object changed.
    if (anchorAttribute !== undefined && attributes[anchorAttribute] === undefined && !isProvisionalAnchor(after.anchor)) attributes[anchorAttribute] = [after.anchor];
    const prepared = prepareImportBatch(
      { changes: [{ kind: 'upsert', objectType: object.objectType, anchor: after.anchor, ...(after.dn ? { dn: after.dn } : {}), attributes }], errors: [] },
      plan,
      this.space.limits(),
      false,
    );
    const [result] = prepared.upserts;
    if (!result) {
      const problem = prepared.errors[0];
      errors.push({
        code: problem?.code ?? 'OBJECT_REJECTED',
        message: `the export of ${object.objectType} ${object.distinguishedName ?? object.anchor} went through, but the connector space cannot keep what it wrote: ${problem?.message ?? 'unknown reason'}; the staged object keeps its earlier values until an import reads it`,
        objectType: object.objectType,
        anchor: object.anchor,
        position: `export ${item.id}`,
        csObjectId: object.id,
      });
      return unchanged(object);
    }
    return {
      id: object.id,
      anchor: result.anchor,
      distinguishedName: result.distinguishedName,
      dnHash: result.dnHash,
      attributes: result.attributes,
      attributeHash: result.attributeHash,
      references: plan.references.get(object.objectType)?.size ? result.references : undefined,
    };
  }

  /**
   * A preview: the change report of what an export run would send now, line
   * by line and attribute by attribute, into `IM_RunChanges`. Nothing else
   * is written: not the queue, not the objects, not the system.
   */
  private async preview(context: RunContext): Promise<RunOutcome> {
    const { run, connector: definition } = context;
    const counts = await this.queue.counts(definition.id);
    const objects = await this.space.countObjects(definition.id);
    const wouldHold = counts.uncheckedDeletes + counts.heldDeletes;
    const hold = counts.uncheckedDeletes > 0 && (wouldHold > definition.deletionThresholdCount || wouldHold * 100 > definition.deletionThresholdPercent * objects);
    const lines = new Map<string, number>();
    const kinds: Array<{ orphans: boolean; operation: ExportOperation; uncheckedDeletes?: boolean }> = [
      ...PHASES.map((operation) => ({ orphans: true, operation })),
      ...PHASES.map((operation) => ({ orphans: false, operation })),
      { orphans: false, operation: 'delete', uncheckedDeletes: true },
    ];
    for (const kind of kinds) {
      let after: ExportCursor | undefined;
      for (;;) {
        if (context.signal.aborted) return this.interrupted(context, undefined);
        const page = await this.queue.peek({ connectorId: definition.id, ...kind, after, limit: definition.batchSize, now: new Date() });
        after = page.cursor;
        if (page.items.length > 0) {
          const added = await this.transactions.runIdempotent('export preview', async (tx) => {
            await this.assertLease(tx, context);
            const byId = new Map((await this.space.loadByIds(tx, [...new Set(page.items.map((item) => item.csObjectId))])).map((object) => [object.id, object]));
            return this.changes.append(
              tx,
              run.id,
              page.items.map((item) => previewLine(item, byId.get(item.csObjectId), kind.uncheckedDeletes === true && hold)),
            );
          });
          for (const [type, count] of added) lines.set(type, (lines.get(type) ?? 0) + count);
        }
        if (!page.more) break;
      }
    }
    const count = (type: string) => lines.get(`export:${type}`) ?? 0;
    const total = [...lines.values()].reduce((sum, value) => sum + value, 0);
    const held = count('delete-held');
    const message =
      `preview: an export run would send ${total - held} change(s) (${count('add')} add(s), ${count('update')} update(s), ${count('rename')} rename(s), ${count('delete')} delete(s))` +
      (held > 0 ? ` and hold ${held} delete(s) for approval (${thresholdText(definition, objects)})` : '') +
      '; nothing was written to the system or the queue. The change report is the run’s change list';
    return { kind: 'finished', status: 'succeeded', message };
  }

  private assertLease(tx: Transaction, context: RunContext): Promise<void> {
    const { lease } = context;
    return this.leases.assertLeaseHeld(tx, lease.connectorId, lease.engineInstanceId, lease.fencingToken, new Date());
  }

  private interrupted(context: RunContext, totals: Totals | undefined): RunOutcome {
    const reason = stopReasonOf(context.signal);
    const why = reason.kind === 'lease-lost' ? reason.reason : 'the engine is shutting down';
    const message = `interrupted: ${why}; ${totals ? `${summary(totals)} were recorded and stay` : 'the report so far stays'}. It resumes when an engine runs it again`;
    this.logger.warn({ runId: context.run.id, connectorId: context.connector.id, msg: message });
    return reason.kind === 'lease-lost' ? { kind: 'lease-lost', message } : { kind: 'interrupted', message };
  }

  private count(totals: Totals, sent: number, outcome: BatchOutcome): void {
    totals.batches++;
    totals.sent += sent;
    totals.added += outcome.added;
    totals.updated += outcome.updated;
    totals.renamed += outcome.renamed;
    totals.deleted += outcome.deleted;
    totals.alreadyApplied += outcome.alreadyApplied;
    totals.failed += outcome.failed;
    totals.parked += outcome.parked;
    const applied = outcome.added + outcome.updated + outcome.renamed + outcome.deleted - outcome.alreadyApplied;
    for (const [name, value] of Object.entries({ applied, 'already-applied': outcome.alreadyApplied, failed: outcome.failed - outcome.parked, parked: outcome.parked })) {
      if (value > 0) this.objects.inc({ outcome: name }, value);
    }
  }
}

/** What one export run sends with, and its running count of failed objects. */
interface Sending {
  context: RunContext;
  connector: Connector;
  capabilities: ConnectorCapabilities;
  plan: ImportPlan;
  anchorAttributes: ReadonlyMap<string, string>;
  totals: Totals;
  errorsSoFar: number;
}

/**
 * Per object type, the attribute that holds the anchor as text, when the
 * schema lists it among the attributes (an LDAP entryUUID): an import stages
 * it there, so the state an export records must hold it as well. Anchors of
 * other types (a SQL integer key) are left to the values the export wrote.
 */
function stagedAnchorAttributes(schema: ConnectorSchema): Map<string, string> {
  const anchors = new Map<string, string>();
  for (const type of schema.objectTypes) {
    const attribute = type.attributes.find((candidate) => candidate.name === type.anchorAttribute);
    if (attribute && (attribute.type === undefined || attribute.type === 'string') && attribute.multiValued !== true) anchors.set(type.name, type.anchorAttribute);
  }
  return anchors;
}

function unchanged(object: ConnectorSpaceObjectView): Omit<ExportedObjectUpdate, 'pendingExport'> {
  return { id: object.id, anchor: object.anchor, distinguishedName: object.distinguishedName, dnHash: object.dnHash, attributes: object.attributes, attributeHash: object.attributeHash };
}

function thresholdText(definition: ConnectorDefinition, objects: number): string {
  return `the connector's deletion threshold is ${definition.deletionThresholdCount} objects or ${definition.deletionThresholdPercent} % of its ${objects} staged objects`;
}

function summary(totals: Totals): string {
  return `${totals.sent} change(s) sent in ${totals.batches} batch(es): ${totals.added} added, ${totals.updated} updated, ${totals.renamed} renamed, ${totals.deleted} deleted (${totals.alreadyApplied} of them already in place), ${totals.failed} failed (${totals.parked} parked)`;
}

function describeFailure(error: unknown): string {
  if (error instanceof ConnectorError) return `${error.code}: ${error.message}`;
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  return (error as Error)?.message ?? String(error);
}
