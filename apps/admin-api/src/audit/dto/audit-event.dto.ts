import { z } from 'zod';
import { AUDIT_ACTOR_TYPES } from '@identitymesh/domain';
import { isoTime } from '../../common/schemas';
import { pageQueryShape, pageSchema } from '../../http/pagination';

export const auditEventResponse = z
  .object({
    id: z.string(),
    at: z.string(),
    actorType: z.enum(AUDIT_ACTOR_TYPES),
    actor: z.string(),
    action: z.string().meta({ description: '`connector.create`, `rule.update`, `run.trigger`, `run.approve-deletes`, `api-key.revoke`, …' }),
    targetType: z.string(),
    targetId: z.string().nullable(),
    runId: z.string().nullable(),
    ruleId: z.string().nullable(),
    before: z.unknown().meta({ description: 'The target before the change, secrets redacted' }),
    after: z.unknown().meta({ description: 'The target after the change, secrets redacted' }),
    correlationId: z.string().nullable(),
  })
  .meta({ id: 'AuditEvent' });
export type AuditEventResponse = z.infer<typeof auditEventResponse>;

export const auditPage = pageSchema(auditEventResponse).meta({ id: 'AuditEventPage' });

export const auditQuery = z
  .strictObject({
    ...pageQueryShape,
    actor: z.string().min(1).max(255).optional().meta({ description: 'Exactly this actor (`jdoe`, `api-key:3f9a…`)' }),
    targetType: z.string().min(1).max(64).optional().meta({ description: '`connector`, `rule`, `run`, `api-key`, …' }),
    targetId: z.string().min(1).max(255).optional(),
    action: z.string().min(1).max(128).optional(),
    from: isoTime.optional().meta({ description: 'Entries at or after this time' }),
    to: isoTime.optional().meta({ description: 'Entries before this time' }),
  })
  .meta({ id: 'AuditQuery' });
export type AuditQuery = z.output<typeof auditQuery>;
