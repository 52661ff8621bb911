import { z } from 'zod';
import { SYNC_RULE_KINDS } from '@identitymesh/domain';
import { displayName, jsonObject } from '../../common/schemas';
import { pageQueryShape, pageSchema } from '../../http/pagination';

const objectType = z.string().min(1).max(64);

/** The body of `POST /api/rules` and `PUT /api/rules/{id}`; the definition is checked by the rules' own validation (docs/rules.md). */
export const ruleBody = z
  .strictObject({
    kind: z.enum(SYNC_RULE_KINDS),
    connectorId: z.guid().nullable().meta({ description: 'The connector the rule reads or writes (the target for provisioning); null for composer rules' }),
    objectType: objectType.meta({ description: "The connector's object type, or the mesh object type for composer and provisioning rules" }),
    name: displayName(255),
    ordinal: z.int().min(0).max(1_000_000),
    definition: jsonObject(32_768).meta({ description: 'The kind-specific definition (docs/rules.md)' }),
    enabled: z.boolean().optional(),
  })
  .superRefine((rule, context) => {
    if (rule.kind === 'composer' && rule.connectorId !== null) context.addIssue({ code: 'custom', path: ['connectorId'], message: 'must be null for a composer rule' });
    if (rule.kind !== 'composer' && rule.connectorId === null) context.addIssue({ code: 'custom', path: ['connectorId'], message: `is required for a ${rule.kind} rule` });
  })
  .meta({ id: 'RuleInput' });
export type RuleBody = z.output<typeof ruleBody>;

export const ruleResponse = z
  .object({
    id: z.string(),
    kind: z.enum(SYNC_RULE_KINDS),
    connectorId: z.string().nullable(),
    objectType: z.string(),
    name: z.string(),
    ordinal: z.int(),
    enabled: z.boolean(),
    definition: z.record(z.string(), z.unknown()),
    version: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Rule' });
export type RuleResponse = z.infer<typeof ruleResponse>;

export const rulePage = pageSchema(ruleResponse).meta({ id: 'RulePage' });

export const listRulesQuery = z.strictObject({
  ...pageQueryShape,
  connectorId: z.guid().optional(),
  kind: z.enum(SYNC_RULE_KINDS).optional(),
});

const scalar = z.union([z.string().max(16_384), z.number(), z.boolean()]);
const attributeName = z.string().min(1).max(256);
/** Bounded maps: the body limit bounds them too, but a clear message is better than a generic one. */
function boundedRecord<V extends z.ZodType>(value: V, max: number) {
  return z.record(z.string().max(512), value).refine((record) => Object.keys(record).length <= max, `must have at most ${max} entries`);
}

const sampleCso = z.strictObject({
  connectorId: z.string().min(1).max(64).optional().meta({ description: "Default: the rule's connector" }),
  objectType: objectType.optional().meta({ description: "Default: the rule's object type" }),
  anchor: z.string().min(1).max(255),
  dn: z.string().max(1024).nullable().optional(),
  attributes: boundedRecord(z.array(scalar).max(1000), 500),
});

const meshValue = z.union([scalar, z.array(scalar).max(1000), z.null()]);
const sampleMesh = z.strictObject({
  id: z.string().min(1).max(64).optional(),
  objectType: objectType.optional().meta({ description: "Default: the rule's object type (composer, provisioning) or the join's mesh object type" }),
  attributes: boundedRecord(
    z.union([meshValue, z.strictObject({ value: meshValue, connectorId: z.string().max(64).nullable(), reference: z.boolean().optional() })]),
    500,
  ).meta({ description: 'Values by attribute, or `{ value, connectorId }` to say which source holds one' }),
});

export const ruleSample = z
  .strictObject({
    cso: sampleCso.optional().meta({ description: 'The connector-space object, given in full' }),
    csObjectId: z.guid().optional().meta({ description: 'Or: a real connector-space object, by id' }),
    mesh: sampleMesh.optional(),
    joinCandidates: boundedRecord(z.array(z.string().max(64)).max(100), 100).optional(),
    importReferences: boundedRecord(z.string().max(64), 1000).optional(),
    exportReferences: boundedRecord(z.string().max(1024), 1000).optional(),
    precedence: z.array(z.strictObject({ objectType, attributeName, connectorId: z.string().max(64), rank: z.int().min(-1_000_000).max(1_000_000) })).max(500).optional(),
    takenValues: boundedRecord(z.string().max(64), 1000).optional(),
    existingTargets: z
      .array(z.strictObject({ connectorId: z.string().max(64), objectType, csoId: z.string().max(64).optional(), anchor: z.string().max(255).optional(), dn: z.string().max(1024).nullable().optional() }))
      .max(100)
      .optional(),
    adding: z.boolean().optional(),
    reason: z.enum(['out-of-scope', 'mesh-object-deleted']).optional(),
  })
  .refine((sample) => !(sample.cso && sample.csObjectId), { message: 'give cso or csObjectId, not both', path: ['csObjectId'] })
  .meta({ id: 'RuleSample' });
export type RuleSampleBody = z.output<typeof ruleSample>;

export const rulePreviewBody = z
  .strictObject({
    kind: z.enum(SYNC_RULE_KINDS),
    connectorId: z.guid().nullable(),
    objectType,
    definition: jsonObject(32_768),
    sample: ruleSample,
  })
  .meta({ id: 'RulePreviewInput' });
export type RulePreviewBody = z.output<typeof rulePreviewBody>;

export const rulePreviewResponse = z
  .object({
    ok: z.boolean(),
    kind: z.enum(SYNC_RULE_KINDS),
    outcome: z.string().optional().meta({ description: 'The decision in a word: in-scope, joined, project, changed, composed, provision, disable, …' }),
    values: z.record(z.string(), z.unknown()).optional(),
    detail: z.record(z.string(), z.unknown()).optional(),
    error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) }).optional().meta({ description: 'Why the rule did not validate or failed for the sample' }),
  })
  .meta({ id: 'RulePreview' });
export type RulePreviewResponse = z.infer<typeof rulePreviewResponse>;
