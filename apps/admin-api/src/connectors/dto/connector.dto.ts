import { z } from 'zod';
import { ATTRIBUTE_TYPES } from '@identitymesh/connector-sdk';
import { displayName, jsonObject } from '../../common/schemas';
import { pageQueryShape, pageSchema } from '../../http/pagination';
import { CONNECTOR_TYPE_NAMES } from '../connector-types.service';

const attributeName = z.string().min(1).max(256);

const attributeSchemaDto = z.strictObject({
  name: attributeName,
  type: z.enum(ATTRIBUTE_TYPES),
  multiValued: z.boolean().optional(),
  required: z.boolean().optional(),
  referenceBy: z.enum(['dn', 'anchor']).optional(),
  readOnly: z.boolean().optional(),
});

/** One object type of the connector's schema, in the connector contract's shape; rules are validated against it. */
export const objectTypeSchemaDto = z
  .strictObject({
    name: z.string().min(1).max(64),
    anchorAttribute: attributeName,
    attributes: z.array(attributeSchemaDto).max(500),
  })
  .meta({ id: 'ObjectTypeSchema' });

/** IM_Connectors' integer columns are 32-bit. */
const count = z.int().min(0).max(1_000_000_000);

/** The body of `POST /api/connectors` and `PUT /api/connectors/{id}`. */
export const connectorBody = z
  .strictObject({
    name: displayName(128),
    type: z.enum(CONNECTOR_TYPE_NAMES),
    description: z.string().max(1024).nullable().optional(),
    config: jsonObject(32_768).meta({ description: "The connector type's settings (see docs/connectors/); secrets only as references, never values" }),
    objectTypes: z
      .array(objectTypeSchemaDto)
      .max(50)
      .superRefine((types, context) => {
        if (Buffer.byteLength(JSON.stringify(types), 'utf8') > 60_000) context.addIssue({ code: 'custom', message: 'must be at most 60000 bytes of JSON' });
      })
      .optional()
      .meta({ description: 'The schema rules are validated against; without it, it is read from the connected system when needed' }),
    schedule: z.record(z.string().max(64), z.json()).nullable().optional().meta({ description: 'Cron or interval and the chain of run profiles (docs/engine.md#scheduling); null: manual runs only' }),
    relayGroup: displayName(128).nullable().optional(),
    batchSize: z.int().min(1).max(10_000).optional(),
    deletionThresholdCount: count.optional(),
    deletionThresholdPercent: z.int().min(0).max(100).optional(),
    errorThreshold: count.nullable().optional(),
    exportMaxAttempts: z.int().min(1).max(100).optional(),
    enabled: z.boolean().optional(),
  })
  .meta({ id: 'ConnectorInput' });
export type ConnectorBody = z.output<typeof connectorBody>;

export const connectorResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    description: z.string().nullable(),
    config: z.record(z.string(), z.unknown()),
    objectTypes: z.array(objectTypeSchemaDto),
    schedule: z.record(z.string(), z.unknown()).nullable(),
    relayGroup: z.string().nullable(),
    batchSize: z.int(),
    deletionThresholdCount: z.int(),
    deletionThresholdPercent: z.int(),
    errorThreshold: z.int().nullable(),
    exportMaxAttempts: z.int(),
    enabled: z.boolean(),
    rulesVersion: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Connector' });
export type ConnectorResponse = z.infer<typeof connectorResponse>;

export const connectorPage = pageSchema(connectorResponse).meta({ id: 'ConnectorPage' });

export const listConnectorsQuery = z.strictObject({ ...pageQueryShape });

export const connectionTestResponse = z
  .object({
    ok: z.boolean(),
    detail: z.string().meta({ description: 'What was checked and found, or why it failed' }),
    code: z.string().nullable().meta({ description: 'The connector error code of a failure (`CONNECTOR_UNREACHABLE`, `CONNECTOR_AUTH_FAILED`, …)' }),
    durationMs: z.int(),
  })
  .meta({ id: 'ConnectionTestResult' });
