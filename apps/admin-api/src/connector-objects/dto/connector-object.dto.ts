import { z } from 'zod';
import { EXPORT_OPERATIONS, EXPORT_STATUSES, PENDING_IMPORTS } from '@identitymesh/domain';
import { pageQueryShape, pageSchema } from '../../http/pagination';

const text = (max: number) => z.string().min(1).max(max).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

export const connectorObjectParams = z.strictObject({ id: z.guid('must be an id (a UUID)'), objectId: z.guid('must be an id (a UUID)') });

export const listConnectorObjectsQuery = z.strictObject({
  ...pageQueryShape,
  objectType: text(64).optional().meta({ description: 'Only objects of this connector object type' }),
  anchor: text(255).optional().meta({ description: 'Exactly this anchor' }),
  dnPrefix: text(1024).optional().meta({ description: 'Objects whose distinguished name starts with this, ignoring case' }),
  pendingImport: z.enum([...PENDING_IMPORTS, 'any']).optional().meta({ description: 'Objects with this pending import; `any` for every object the next sync still has to apply' }),
  pendingExport: z.enum([...EXPORT_OPERATIONS, 'any', 'none']).optional().meta({ description: 'Objects with this pending export; `any` for every one with an export queued, `none` for those without' }),
});
export type ListConnectorObjectsQuery = z.output<typeof listConnectorObjectsQuery>;

export const connectorObjectSummary = z
  .object({
    id: z.string(),
    connectorId: z.string(),
    objectType: z.string(),
    anchor: z.string(),
    distinguishedName: z.string().nullable(),
    meshObjectId: z.string().nullable().meta({ description: 'The mesh object it is joined to' }),
    isDisconnector: z.boolean().meta({ description: 'Outside the connector’s scoping filter when the sync last looked' }),
    pendingImport: z.enum(PENDING_IMPORTS),
    pendingExport: z.enum(EXPORT_OPERATIONS).nullable(),
    lastRunId: z.string().nullable(),
  })
  .meta({ id: 'ConnectorObjectSummary' });
export type ConnectorObjectSummaryResponse = z.infer<typeof connectorObjectSummary>;

export const connectorObjectPage = pageSchema(connectorObjectSummary).meta({
  id: 'ConnectorObjectPage',
  description: 'In (object type, anchor) order. A DN prefix search reads at most 5,000 candidate objects per request; a page can then hold fewer items than `limit` and still have a `nextCursor`',
});

export const exportItemResponse = z
  .object({
    id: z.string().meta({ description: 'The export’s stable id, handed to the connector with every attempt' }),
    operation: z.enum(EXPORT_OPERATIONS),
    status: z.enum(EXPORT_STATUSES),
    attributes: z.array(z.string()).meta({ description: 'The attributes the change sets (not their values)' }),
    attempts: z.int(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    runId: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ExportQueueItem' });

export const connectorObjectDetail = connectorObjectSummary
  .extend({
    attributes: z.record(z.string(), z.unknown()).meta({ description: 'As last imported (or provisioned); values under secret-looking names are `[redacted]`' }),
    references: z.array(z.object({ attribute: z.string(), targetKey: z.string(), targetObjectId: z.string().nullable() })).meta({ description: 'Reference values as the system gave them, and the object each resolved to' }),
    exports: z.array(exportItemResponse).meta({ description: 'The export queue items of the object, newest first (at most 100)' }),
  })
  .meta({ id: 'ConnectorObject' });
export type ConnectorObjectDetailResponse = z.infer<typeof connectorObjectDetail>;
