import { z } from 'zod';
import { pageQueryShape, pageSchema } from '../../http/pagination';

/** A name of the sync model (object type, attribute): printable, no wildcards to interpret. */
const modelName = (max: number) => z.string().min(1).max(max).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
const searchText = z.string().min(1).max(255).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

export const listMeshObjectsQuery = z
  .strictObject({
    ...pageQueryShape,
    objectType: modelName(64).optional().meta({ description: 'Only mesh objects of this type (`person`, `group`, …)' }),
    attribute: modelName(128).optional().meta({ description: 'With `value`: mesh objects whose attribute of this name holds the value' }),
    value: searchText.optional().meta({ description: 'With `attribute`: the value, compared exactly but ignoring case (any one value of a multi-valued attribute)' }),
    displayNamePrefix: searchText.optional().meta({ description: 'Mesh objects whose display name starts with this, ignoring case' }),
  })
  .superRefine((query, context) => {
    if ((query.attribute === undefined) !== (query.value === undefined)) {
      context.addIssue({ code: 'custom', path: [query.attribute === undefined ? 'attribute' : 'value'], message: 'attribute and value go together' });
    }
  });
export type ListMeshObjectsQuery = z.output<typeof listMeshObjectsQuery>;

export const meshObjectSummary = z
  .object({
    id: z.string(),
    objectType: z.string(),
    displayName: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MeshObjectSummary' });
export type MeshObjectSummaryResponse = z.infer<typeof meshObjectSummary>;

export const meshObjectPage = pageSchema(meshObjectSummary)
  .meta({
    id: 'MeshObjectPage',
    description: 'Searches read at most 5,000 candidate objects per request; a page can then hold fewer items than `limit` and still have a `nextCursor`',
  });

const named = z.object({ id: z.string(), name: z.string().nullable().meta({ description: 'null when it no longer exists' }) });

export const meshAttributeResponse = z
  .object({
    name: z.string(),
    value: z.unknown().meta({ description: 'One value, a list (multi-valued), or null; for a reference attribute the linked mesh object id(s). Values of attributes whose names look secret are `[redacted]`' }),
    reference: z.boolean(),
    connector: named.nullable().meta({ description: 'The connector whose value won; null when a composer rule computed it' }),
    rule: named.extend({ kind: z.string().nullable() }).nullable().meta({ description: 'The rule that produced the value (an import flow or a composer)' }),
    changedAt: z.string(),
  })
  .meta({ id: 'MeshAttribute' });

export const joinedObjectResponse = z
  .object({
    id: z.string(),
    connector: named,
    objectType: z.string(),
    anchor: z.string(),
    distinguishedName: z.string().nullable(),
    isDisconnector: z.boolean(),
    pendingImport: z.string(),
    pendingExport: z.string().nullable(),
  })
  .meta({ id: 'JoinedConnectorObject' });

export const meshObjectDetail = meshObjectSummary
  .extend({
    attributes: z.array(meshAttributeResponse).meta({ description: 'By name' }),
    connectorObjects: z.array(joinedObjectResponse).meta({ description: 'The connector-space objects joined to it' }),
    references: z
      .array(z.object({ attribute: z.string(), target: z.object({ id: z.string(), objectType: z.string().nullable(), displayName: z.string().nullable() }) }))
      .meta({ description: 'The mesh objects its reference attributes link to' }),
  })
  .meta({ id: 'MeshObject' });
export type MeshObjectDetailResponse = z.infer<typeof meshObjectDetail>;
