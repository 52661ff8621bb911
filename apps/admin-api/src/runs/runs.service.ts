import { Injectable } from '@nestjs/common';
import { AuditRepository, ConnectorRepository, RunObjectErrorView, RunRepository, RunView, TransactionRunner } from '@identitymesh/persistence';
import type { RunStatus } from '@identitymesh/domain';
import { auditEntry } from '../audit/audit-entry';
import type { Principal } from '../auth/principal';
import { iso } from '../common/schemas';
import { ApiError, notFound } from '../http/api-error';
import { decodeCursor, Page, timeCursor, toPage } from '../http/pagination';
import type { RunResponse, TriggerRunBody } from './dto/run.dto';

const DETAIL_ERRORS = 100;

/**
 * Runs: queued here as rows of IM_Runs exactly as the engine takes them
 * (status `queued`, trigger `manual`), read back with counters and
 * per-object errors, and released from the deletion threshold.
 */
@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunRepository,
    private readonly connectors: ConnectorRepository,
    private readonly audit: AuditRepository,
    private readonly transactions: TransactionRunner,
  ) {}

  async trigger(connectorId: string, body: TriggerRunBody, principal: Principal): Promise<RunResponse> {
    const at = new Date();
    const run = await this.transactions.run(async (tx) => {
      const connector = await this.connectors.findRecord(connectorId, tx);
      if (!connector) throw notFound('connector', connectorId);
      // The engine takes runs only of enabled connectors: a run queued otherwise would wait forever. A connector of a
      // relay group runs like any other; its work waits in the relay work queue until a relay of the group takes it.
      if (!connector.enabled) throw new ApiError('CONNECTOR_NOT_RUNNABLE', `connector "${connector.name}" is disabled; enable it first`);
      const queued = await this.runs.queueIn(tx, { connectorId, profile: body.profile, preview: body.preview ?? false, trigger: 'manual', requestedBy: principal.actor, at });
      await this.audit.record(tx, [auditEntry(principal, 'run.trigger', { type: 'connector', id: connectorId }, { after: toResponse(queued), runId: queued.id }, at)]);
      return queued;
    });
    return toResponse(run);
  }

  async list(query: { limit: number; cursor?: string; connectorId?: string; status?: RunStatus }): Promise<Page<RunResponse>> {
    const after = decodeCursor(query.cursor, timeCursor);
    const rows = await this.runs.list(
      { connectorId: query.connectorId, statuses: query.status ? [query.status] : undefined },
      { limit: query.limit + 1, after: after ? { queuedAt: new Date(after[0]), id: after[1] } : null },
    );
    return toPage(rows, query.limit, toResponse, (row) => [row.queuedAt.toISOString(), row.id]);
  }

  async get(id: string): Promise<RunResponse & { objectErrors: ReturnType<typeof toErrorResponse>[] }> {
    const run = await this.runs.findById(id);
    if (!run) throw notFound('run', id);
    const errors = await this.runs.listObjectErrorsPage(id, { limit: DETAIL_ERRORS });
    return { ...toResponse(run), objectErrors: errors.map(toErrorResponse) };
  }

  async errors(id: string, query: { limit: number; cursor?: string }): Promise<Page<ReturnType<typeof toErrorResponse>>> {
    const run = await this.runs.findById(id);
    if (!run) throw notFound('run', id);
    const after = decodeCursor(query.cursor, timeCursor);
    const rows = await this.runs.listObjectErrorsPage(id, { limit: query.limit + 1, after: after ? { createdAt: new Date(after[0]), id: after[1] } : null });
    return toPage(rows, query.limit, toErrorResponse, (row) => [row.createdAt.toISOString(), row.id]);
  }

  /** Releases the deletes an export run held above its connector's threshold: the run is queued again and the engine sends exactly those deletes. */
  async approveDeletes(id: string, principal: Principal): Promise<RunResponse> {
    const at = new Date();
    const after = await this.transactions.run(async (tx) => {
      const before = await this.runs.findByIdIn(tx, id);
      if (!before) throw notFound('run', id);
      if (!(await this.runs.approveHeldDeletesIn(tx, id, principal.actor, at))) {
        throw new ApiError('RUN_NOT_HELD_FOR_APPROVAL', `run ${id} is ${before.status}, not held for approval; there are no held deletes to approve`);
      }
      const approved = (await this.runs.findByIdIn(tx, id)) as RunView;
      await this.audit.record(tx, [auditEntry(principal, 'run.approve-deletes', { type: 'run', id }, { before: toResponse(before), after: toResponse(approved), runId: id }, at)]);
      return approved;
    });
    return toResponse(after);
  }
}

export function toResponse(run: RunView): RunResponse {
  return {
    id: run.id,
    connectorId: run.connectorId,
    profile: run.profile,
    status: run.status,
    trigger: run.trigger,
    preview: run.preview,
    requestedBy: run.requestedBy,
    engineInstanceId: run.engineInstanceId,
    added: run.added,
    updated: run.updated,
    deleted: run.deleted,
    joined: run.joined,
    projected: run.projected,
    exported: run.exported,
    errors: run.errors,
    heldDeletes: run.heldDeletes,
    recoveries: run.recoveries,
    deletesApprovedBy: run.deletesApprovedBy,
    deletesApprovedAt: iso(run.deletesApprovedAt),
    message: run.message,
    queuedAt: iso(run.queuedAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

function toErrorResponse(error: RunObjectErrorView) {
  return {
    id: error.id,
    csObjectId: error.csObjectId,
    anchor: error.anchor,
    code: error.code,
    message: error.message,
    detail: error.detail,
    createdAt: iso(error.createdAt),
  };
}
