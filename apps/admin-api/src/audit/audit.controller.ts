import { Controller, Get, Query } from '@nestjs/common';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { AuditService } from './audit.service';
import { auditPage, AuditEventResponse, AuditQuery, auditQuery } from './dto/audit-event.dto';

@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiRoute({
    summary: 'The audit log, newest first, filtered by actor, target, action and time',
    tag: 'audit',
    access: { permission: 'audit.read' },
    query: auditQuery,
    responses: { 200: { description: 'One page of audit entries', schema: auditPage } },
  })
  search(@Query() query: AuditQuery): Promise<Page<AuditEventResponse>> {
    return this.audit.search(query);
  }
}
