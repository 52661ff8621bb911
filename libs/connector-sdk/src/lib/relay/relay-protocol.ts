/**
 * The relay protocol: what travels between the hub (in the Admin API), relay
 * agents and the engine over socket.io. It lives beside the connector
 * contract because what it carries is connector work: import batches,
 * export changes and their per-object results, in the contract's own shapes.
 *
 * Every message a peer receives is parsed with these schemas before it is
 * used; a message that does not parse is refused with MESSAGE_INVALID and
 * changes nothing.
 */
import { z } from 'zod';
import { CONNECTOR_ERROR_CODES } from '../connector';
import type { ConnectionTestResult, ExportChange, ExportResult, ImportChange, ImportObjectError } from '../connector';

/** The socket.io namespace of the hub on the Admin API's HTTP server (default socket.io path `/socket.io`). */
export const HUB_NAMESPACE = '/hub';

/** Largest message the hub accepts: an import batch of 500 directory entries stays well below it. */
export const HUB_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** A relay's own credential: `imr_<relay id>_<43 base64url characters>`; only a hash is stored. */
export const RELAY_CREDENTIAL_PREFIX = 'imr_';
/** A one-time enrollment token: `ime_<enrollment id>_<43 base64url characters>`; only a hash is stored. */
export const ENROLLMENT_TOKEN_PREFIX = 'ime_';

/** Event names. Hub → peer events are notifications; peer → hub events are answered through the socket.io acknowledgement. */
export const HUB_EVENTS = {
  /** hub → relay: work for your group is waiting; pull it. No payload. */
  workAvailable: 'work:available',
  /** hub → relay, acknowledged: an operator's command (RelayCommand → RelayCommandReply). */
  command: 'relay:command',
  /** hub → relay: this relay was revoked; the hub disconnects it right after. */
  revoked: 'relay:revoked',
  /** relay → hub: WorkPullRequest → WorkPullReply. Claims work of the relay's group; replays work already delivered to it. */
  workPull: 'work:pull',
  /** relay → hub: WorkStartedMessage → HubAck. */
  workStarted: 'work:started',
  /** relay → hub: ImportBatchMessage → HubAck, sent only once the previous batch was acknowledged (backpressure). */
  importBatch: 'import:batch',
  /** relay → hub: WorkResultMessage → HubAck. */
  workResult: 'work:result',
  /** engine → hub: EngineWorkEnqueued → HubAck. The hub tells the group's relays at once instead of at its next poll. */
  workEnqueued: 'work:enqueued',
  /** hub → engines: WorkProgress. An item got a new staged import batch or finished; look at it in SQL now instead of at the next poll. */
  workProgress: 'work:progress',
} as const;

/** Why the hub refused a handshake or a message. */
export const HUB_ERROR_CODES = [
  /** The handshake carried no credential, or one the hub does not accept. */
  'HUB_UNAUTHENTICATED',
  /** The relay was revoked: it is disconnected and may not come back. */
  'RELAY_REVOKED',
  /** The message did not parse against its schema. */
  'MESSAGE_INVALID',
  /** The work item is not claimed by this relay (another relay's, or not claimed at all). */
  'WORK_NOT_YOURS',
  /** The work item is finished, expired or was given to another attempt: stop working on it. */
  'WORK_CLOSED',
  /** The hub could not reach its database; send the same message again later. */
  'HUB_UNAVAILABLE',
] as const;
export type HubErrorCode = (typeof HUB_ERROR_CODES)[number];

export type HubAck = { ok: true } | { ok: false; code: HubErrorCode; message: string };

/** `auth` of the socket.io handshake. */
export const hubHandshakeAuthSchema = z.object({
  /** A relay credential (`imr_…`) or an engine's key-ring token. */
  token: z.string().min(1).max(4096),
  /** What the relay reports about itself; shown by `GET /api/relays`. */
  host: z.string().max(255).optional(),
  version: z.string().max(64).optional(),
});
export type HubHandshakeAuth = z.infer<typeof hubHandshakeAuthSchema>;

const id = z.string().min(1).max(64);
const attributeValue = z.union([z.string(), z.number(), z.boolean()]);
const attributes = z.record(z.string(), z.array(attributeValue));
const errorCode = z.enum(CONNECTOR_ERROR_CODES);

const importChangeSchema: z.ZodType<ImportChange> = z.union([
  z.object({ kind: z.literal('upsert'), objectType: z.string(), anchor: z.string(), dn: z.string().optional(), attributes }),
  z.object({ kind: z.literal('delete'), objectType: z.string(), anchor: z.string(), dn: z.string().optional() }),
]);
const importObjectErrorSchema: z.ZodType<ImportObjectError> = z.object({
  objectType: z.string().optional(),
  anchor: z.string().optional(),
  position: z.string(),
  code: errorCode,
  message: z.string(),
});
const attributeChange = z.object({ op: z.enum(['replace', 'add', 'remove']), values: z.array(attributeValue) });
const exportChangeSchema: z.ZodType<ExportChange> = z.object({
  id: z.string(),
  kind: z.enum(['add', 'update', 'delete', 'rename']),
  objectType: z.string(),
  anchor: z.string().optional(),
  dn: z.string().optional(),
  newDn: z.string().optional(),
  attributes: z.record(z.string(), attributeChange).optional(),
});
const exportResultSchema: z.ZodType<ExportResult> = z.object({
  id: z.string(),
  outcome: z.enum(['applied', 'already-applied', 'failed']),
  anchor: z.string().optional(),
  error: z.object({ code: errorCode, message: z.string(), retryable: z.boolean() }).optional(),
});
const connectionTestResultSchema: z.ZodType<ConnectionTestResult> = z.object({ ok: z.boolean(), detail: z.string() });
const failure = z.object({ code: errorCode, message: z.string().max(4000), retryable: z.boolean() });

export const workPullRequestSchema = z.object({ max: z.number().int().min(1).max(16) });
export type WorkPullRequest = z.infer<typeof workPullRequestSchema>;

/**
 * One piece of work as a relay receives it. `attempt` counts deliveries of
 * the item: every message about it carries the attempt it belongs to, so a
 * relay that lost its claim (it was offline too long and another relay took
 * over) is told WORK_CLOSED instead of mixing two attempts' batches.
 */
export const relayWorkOrderSchema = z.object({
  id,
  kind: z.enum(['import', 'export', 'test-connection']),
  attempt: z.number().int().min(1),
  /** ISO-8601: past it, results are refused and the engine gives up on the item. */
  deadlineAt: z.string(),
  /** The connector as the engine runs it: its type and config, secret references unresolved (they resolve on the relay's host). */
  connector: z.object({ id, name: z.string(), type: z.string(), config: z.unknown() }),
  import: z
    .object({
      mode: z.enum(['full', 'delta']),
      watermark: z.string().optional(),
      batchSize: z.number().int().min(1).max(10_000),
      /** The sequence number of the first batch this attempt sends; batches before it reached the hub in earlier attempts. */
      nextSeq: z.number().int().min(1),
    })
    .optional(),
  export: z.object({ changes: z.array(exportChangeSchema) }).optional(),
});
export type RelayWorkOrder = z.infer<typeof relayWorkOrderSchema>;

export const workPullReplySchema = z.object({ items: z.array(relayWorkOrderSchema) });
export type WorkPullReply = z.infer<typeof workPullReplySchema>;

export const workStartedMessageSchema = z.object({ itemId: id, attempt: z.number().int().min(1) });
export type WorkStartedMessage = z.infer<typeof workStartedMessageSchema>;

/**
 * One import batch, numbered from 1 over the whole item (a later attempt
 * goes on from its order's `nextSeq`). The hub stores it once: the same
 * (item, seq) sent again is acknowledged and ignored. `last` marks the end
 * of the stream; the last batch may carry no changes.
 */
export const importBatchMessageSchema = z.object({
  itemId: id,
  attempt: z.number().int().min(1),
  seq: z.number().int().min(1),
  changes: z.array(importChangeSchema),
  errors: z.array(importObjectErrorSchema),
  watermark: z.string().optional(),
  last: z.boolean(),
});
export type ImportBatchMessage = z.infer<typeof importBatchMessageSchema>;

/** The end of an item: its result, or why it failed as a whole. An import's result is its batches; `done` only closes it. */
export const workResultMessageSchema = z.object({
  itemId: id,
  attempt: z.number().int().min(1),
  status: z.enum(['done', 'failed']),
  export: z.object({ results: z.array(exportResultSchema) }).optional(),
  testConnection: connectionTestResultSchema.optional(),
  error: failure.optional(),
});
export type WorkResultMessage = z.infer<typeof workResultMessageSchema>;

export const RELAY_COMMAND_KINDS = ['ping', 'reload-config'] as const;
export type RelayCommandKind = (typeof RELAY_COMMAND_KINDS)[number];
export const relayCommandSchema = z.object({ kind: z.enum(RELAY_COMMAND_KINDS), sentAt: z.string() });
export type RelayCommand = z.infer<typeof relayCommandSchema>;
export const relayCommandReplySchema = z.object({ ok: z.boolean(), detail: z.string().max(4000) });
export type RelayCommandReply = z.infer<typeof relayCommandReplySchema>;

export const engineWorkEnqueuedSchema = z.object({ relayGroup: z.string().min(1).max(128) });
export type EngineWorkEnqueued = z.infer<typeof engineWorkEnqueuedSchema>;

/**
 * A wake-up, not a result: the hub staged an import batch of the item (not
 * a duplicate) or completed it (not a repeat). SQL stays the truth, so the
 * message names only the item and the engine reads the rest from the work
 * queue. Engines must not depend on it: it is sent by the instance that
 * took the relay's message to the engines connected there, and it is lost
 * while an engine is disconnected, so an engine keeps polling as well.
 */
export const workProgressSchema = z.object({ itemId: id });
export type WorkProgress = z.infer<typeof workProgressSchema>;

/** Parses a received message; undefined when it does not match, so the receiver answers MESSAGE_INVALID. */
export function parseHubMessage<T>(schema: z.ZodType<T>, message: unknown): { ok: true; value: T } | { ok: false; message: string } {
  const parsed = schema.safeParse(message);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, message: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
}

/** Relays reconnect with exponential backoff and jitter: the first try within a second, then doubling, capped at 30 s. */
export interface ReconnectPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  /** The share of each delay that is random, 0 to 1. */
  jitter: number;
}
export const RECONNECT_POLICY: Readonly<ReconnectPolicy> = { firstDelayMs: 1_000, maxDelayMs: 30_000, jitter: 0.5 };

/**
 * The wait before reconnect attempt `attempt` (0 for the first): the
 * exponential delay, of which the last `jitter` share is random, so many
 * relays dropped at once by a restarted hub do not return in one wave.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random, policy: Readonly<ReconnectPolicy> = RECONNECT_POLICY): number {
  const exponential = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(exponential * (1 - policy.jitter) + exponential * policy.jitter * random());
}
