import { z } from 'zod';
import { RUN_PROFILES } from '@identitymesh/domain';
import { displayName } from '../../common/schemas';

/** An enrollment token lives 15 minutes unless the operator asks for more, and never more than a day. */
export const ENROLLMENT_DEFAULT_MINUTES = 15;
export const ENROLLMENT_MAX_MINUTES = 24 * 60;

export const createEnrollmentBody = z
  .strictObject({
    relayGroup: displayName(128).meta({ description: 'The group the enrolled relay joins: it runs the connectors assigned to this group' }),
    expiresInMinutes: z
      .int()
      .min(1)
      .max(ENROLLMENT_MAX_MINUTES)
      .optional()
      .meta({ description: `How long the token can be used, in minutes (default ${ENROLLMENT_DEFAULT_MINUTES}, at most ${ENROLLMENT_MAX_MINUTES})` }),
  })
  .meta({ id: 'RelayEnrollmentInput' });
export type CreateEnrollmentBody = z.output<typeof createEnrollmentBody>;

export const enrollmentResponse = z
  .object({
    id: z.string(),
    relayGroup: z.string(),
    expiresAt: z.string(),
    token: z.string().meta({ description: 'The one-time enrollment token (`ime_…`), shown only in this answer' }),
  })
  .meta({ id: 'RelayEnrollment' });
export type EnrollmentResponse = z.output<typeof enrollmentResponse>;

export const enrollBody = z
  .strictObject({
    token: z.string().min(1).max(256).meta({ description: 'The enrollment token (`ime_…`) an operator created' }),
    name: displayName(128).meta({ description: 'The relay\'s name, unique among relays' }),
    host: displayName(255).optional(),
    version: displayName(64).optional(),
  })
  .meta({ id: 'RelayEnrollInput' });
export type EnrollBody = z.output<typeof enrollBody>;

export const enrolledResponse = z
  .object({
    relayId: z.string(),
    name: z.string(),
    relayGroup: z.string(),
    credential: z.string().meta({ description: 'The relay\'s own credential (`imr_…`), shown only in this answer; only its hash is stored' }),
  })
  .meta({ id: 'RelayEnrolled' });
export type EnrolledResponse = z.output<typeof enrolledResponse>;

export const relayResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    relayGroup: z.string(),
    host: z.string().nullable(),
    version: z.string().nullable(),
    status: z.enum(['active', 'revoked']),
    connected: z.boolean(),
    connectedSince: z.string().nullable().meta({ description: 'When its oldest open socket connected' }),
    instanceId: z.string().nullable().meta({ description: 'The Admin API instance the relay is connected to' }),
    lastSeenAt: z.string().nullable(),
    enrolledAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'Relay' });
export type RelayResponse = z.output<typeof relayResponse>;

export const RELAY_COMMAND_NAMES = ['ping', 'reload-config', 'run-connector'] as const;

export const relayCommandBody = z
  .strictObject({
    kind: z.enum(RELAY_COMMAND_NAMES),
    connectorId: z.guid('must be an id (a UUID)').optional().meta({ description: 'run-connector: the connector to run; it must be assigned to the relay\'s group' }),
    profile: z.enum(RUN_PROFILES).optional().meta({ description: 'run-connector: the run profile (default full-import)' }),
  })
  .superRefine((body, context) => {
    if (body.kind === 'run-connector') {
      if (!body.connectorId) context.addIssue({ code: 'custom', path: ['connectorId'], message: 'is required for run-connector' });
      return;
    }
    for (const field of ['connectorId', 'profile'] as const) {
      if (body[field] !== undefined) context.addIssue({ code: 'custom', path: [field], message: `is for run-connector only, not ${body.kind}` });
    }
  })
  .meta({ id: 'RelayCommandInput' });
export type RelayCommandBody = z.output<typeof relayCommandBody>;

export const relayCommandResponse = z
  .object({
    kind: z.enum(RELAY_COMMAND_NAMES),
    outcome: z.enum(['ok', 'failed', 'timeout', 'queued']),
    detail: z.string().optional().meta({ description: 'ping and reload-config: what the relay answered' }),
    roundTripMs: z.number().optional().meta({ description: 'ping and reload-config: from sending to the answer' }),
    runId: z.string().optional().meta({ description: 'run-connector: the queued run' }),
  })
  .meta({ id: 'RelayCommandResult' });
export type RelayCommandResponse = z.output<typeof relayCommandResponse>;
