import { z } from 'zod';
import { RUN_PROFILES, RUN_STATUSES } from '@identitymesh/domain';
import { pageQueryShape, pageSchema } from '../../http/pagination';

/** Profiles whose dry run the engine supports (an import has nothing to preview without staging). */
export const PREVIEW_PROFILES = ['full-sync', 'delta-sync', 'export'] as const;

export const triggerRunBody = z
  .strictObject({
    profile: z.enum(RUN_PROFILES),
    preview: z.boolean().optional().meta({ description: 'A dry run: computes and reports every change and writes none (full-sync, delta-sync, export)' }),
  })
  .superRefine((body, context) => {
    if (body.preview && !(PREVIEW_PROFILES as readonly string[]).includes(body.profile)) {
      context.addIssue({ code: 'custom', path: ['preview'], message: `a preview run is possible for ${PREVIEW_PROFILES.join(', ')} only` });
    }
  })
  .meta({ id: 'TriggerRunInput' });
export type TriggerRunBody = z.output<typeof triggerRunBody>;

export const runObjectErrorResponse = z
  .object({
    id: z.string(),
    csObjectId: z.string().nullable(),
    anchor: z.string().nullable(),
    code: z.string(),
    message: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'RunObjectError' });

export const runResponse = z
  .object({
    id: z.string(),
    connectorId: z.string(),
    profile: z.enum(RUN_PROFILES),
    status: z.enum(RUN_STATUSES),
    trigger: z.string(),
    preview: z.boolean(),
    requestedBy: z.string().nullable(),
    engineInstanceId: z.string().nullable(),
    added: z.int(),
    updated: z.int(),
    deleted: z.int(),
    joined: z.int(),
    projected: z.int(),
    exported: z.int(),
    errors: z.int().meta({ description: 'Objects that failed; each is listed in the per-object errors' }),
    heldDeletes: z.int().meta({ description: 'Deletes held by the deletion threshold, waiting for an approval' }),
    recoveries: z.int(),
    deletesApprovedBy: z.string().nullable(),
    deletesApprovedAt: z.string().nullable(),
    message: z.string().nullable(),
    queuedAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Run' });
export type RunResponse = z.infer<typeof runResponse>;

export const runDetailResponse = runResponse
  .extend({
    objectErrors: z.array(runObjectErrorResponse).meta({ description: 'The first 100 per-object errors; GET /api/runs/{id}/errors pages through all of them' }),
  })
  .meta({ id: 'RunDetail' });

export const runPage = pageSchema(runResponse).meta({ id: 'RunPage' });
export const runErrorPage = pageSchema(runObjectErrorResponse).meta({ id: 'RunObjectErrorPage' });

export const listRunsQuery = z.strictObject({
  ...pageQueryShape,
  connectorId: z.guid().optional(),
  status: z.enum(RUN_STATUSES).optional(),
});

export const listRunErrorsQuery = z.strictObject({ ...pageQueryShape });
