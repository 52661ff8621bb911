import type { AuditEventInput } from '@identitymesh/persistence';
import type { Principal } from '../auth/principal';

/** Keys whose values are never written to the audit log, at any depth: passwords, secrets, tokens, keys. */
const SECRET_KEY = /pass(word|wd)?$|passphrase|secret|token|credential|private.?key|api.?key|shared.?key/i;
export const REDACTED = '[redacted]';

/**
 * A copy of `value` with every value under a secret-looking key replaced.
 * Connector configs hold only secret references, and the connector factories
 * refuse plain passwords; this is the second line, so nothing that looks
 * like a secret reaches the audit log even if a config carries one.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) copy[key] = SECRET_KEY.test(key) && inner !== null && inner !== undefined ? REDACTED : redactSecrets(inner, depth + 1);
    return copy;
  }
  return value;
}

/** JSON of a value as the audit column stores it (dates as ISO text), secrets redacted. */
function snapshot(value: unknown): AuditEventInput['before'] {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(redactSecrets(value))) as AuditEventInput['before'];
}

/** The audit entry of one change an Admin API caller made. */
export function auditEntry(principal: Principal, action: string, target: { type: string; id: string | null }, change: { before?: unknown; after?: unknown; runId?: string | null; ruleId?: string | null }, at: Date): AuditEventInput {
  return {
    actorType: principal.actorType,
    actor: principal.actor,
    action,
    targetType: target.type,
    targetId: target.id,
    runId: change.runId ?? null,
    ruleId: change.ruleId ?? null,
    before: snapshot(change.before),
    after: snapshot(change.after),
    at,
  };
}
