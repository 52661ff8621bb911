import { Injectable } from '@nestjs/common';
import { AuditEventEntity, AuditRepository } from '@identitymesh/persistence';
import { ApiError } from '../http/api-error';
import { decodeCursor, Page, timeCursor, toPage } from '../http/pagination';
import type { AuditEventResponse, AuditQuery } from './dto/audit-event.dto';

@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  async search(query: AuditQuery): Promise<Page<AuditEventResponse>> {
    const from = query.from ? new Date(query.from) : undefined;
    const to = query.to ? new Date(query.to) : undefined;
    if (from && to && from.getTime() > to.getTime()) throw new ApiError('REQUEST_INVALID', 'from must not be after to', { errors: [{ in: 'query', pointer: '/from', problem: 'must not be after to' }] });
    const after = decodeCursor(query.cursor, timeCursor);
    const rows = await this.audit.search(
      { actor: query.actor, targetType: query.targetType, targetId: query.targetId, action: query.action, from, to },
      { limit: query.limit + 1, after: after ? { at: new Date(after[0]), id: after[1] } : null },
    );
    return toPage(rows, query.limit, toResponse, (row) => [row.at.toISOString(), row.id]);
  }
}

function toResponse(row: AuditEventEntity): AuditEventResponse {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actorType: row.actorType,
    actor: row.actor,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    runId: row.runId,
    ruleId: row.ruleId,
    before: row.before,
    after: row.after,
    correlationId: row.correlationId,
  };
}
