import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ApiKeyRecord, ApiKeyRepository, AuditRepository, TransactionRunner } from '@identitymesh/persistence';
import { auditEntry } from '../audit/audit-entry';
import { hashApiKeySecret, newApiKey } from '../auth/api-key-secret';
import type { Permission } from '../auth/permissions';
import type { Principal } from '../auth/principal';
import { iso } from '../common/schemas';
import { ApiError, notFound } from '../http/api-error';
import { decodeCursor, Page, timeCursor, toPage } from '../http/pagination';
import type { ApiKeyResponse, CreatedApiKeyResponse, CreateApiKeyBody } from './dto/api-key.dto';

const DAY_MS = 24 * 3600_000;

/** API keys: made by a caller with `keys.manage`, scoped to at most that caller's permissions, shown once, revocable. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly audit: AuditRepository,
    private readonly transactions: TransactionRunner,
  ) {}

  async create(body: CreateApiKeyBody, principal: Principal): Promise<CreatedApiKeyResponse> {
    const beyond = body.permissions.filter((permission: Permission) => !principal.permissions.has(permission));
    if (beyond.length > 0) throw new ApiError('FORBIDDEN', `a key cannot be given permissions its creator does not hold: ${beyond.join(', ')}`, { details: { permissions: beyond } });
    const { prefix, secret, token } = newApiKey();
    const secretHash = await hashApiKeySecret(secret);
    const at = new Date();
    const record = await this.transactions.run(async (tx) => {
      const key = await this.keys.insert(tx, {
        id: randomUUID(),
        name: body.name,
        prefix,
        secretHash,
        permissions: [...body.permissions],
        createdBy: principal.actor,
        createdAt: at,
        expiresAt: new Date(at.getTime() + body.expiresInDays * DAY_MS),
      });
      await this.audit.record(tx, [auditEntry(principal, 'api-key.create', { type: 'api-key', id: key.id }, { after: toResponse(key) }, at)]);
      return key;
    });
    return { ...toResponse(record), key: token };
  }

  async list(query: { limit: number; cursor?: string }): Promise<Page<ApiKeyResponse>> {
    const after = decodeCursor(query.cursor, timeCursor);
    const rows = await this.keys.list({ limit: query.limit + 1, after: after ? { createdAt: new Date(after[0]), id: after[1] } : null });
    return toPage(rows, query.limit, toResponse, (row) => [row.createdAt.toISOString(), row.id]);
  }

  /** Revokes a key at once for every later request; revoking a revoked key changes nothing. */
  async revoke(id: string, principal: Principal): Promise<ApiKeyResponse> {
    const at = new Date();
    const after = await this.transactions.run(async (tx) => {
      const before = await this.keys.findById(id, tx);
      if (!before) throw notFound('API key', id);
      if (!(await this.keys.revoke(tx, id, at))) return before;
      const revoked = (await this.keys.findById(id, tx)) as ApiKeyRecord;
      await this.audit.record(tx, [auditEntry(principal, 'api-key.revoke', { type: 'api-key', id }, { before: toResponse(before), after: toResponse(revoked) }, at)]);
      return revoked;
    });
    return toResponse(after);
  }
}

/** Never the hash: it is of no use to a caller and would help guessing. */
function toResponse(key: ApiKeyRecord): ApiKeyResponse {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    permissions: key.permissions,
    createdBy: key.createdBy,
    createdAt: iso(key.createdAt),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    lastUsedAt: iso(key.lastUsedAt),
  };
}
