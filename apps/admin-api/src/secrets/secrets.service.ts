import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AuditRepository, SecretRepository, TransactionRunner } from '@identitymesh/persistence';
import { DomainError } from '@identitymesh/domain';
import { SecretDescription, SecretProviders, SecretStore } from '@identitymesh/secrets';
import { auditEntry, REDACTED } from '../audit/audit-entry';
import type { Principal } from '../auth/principal';
import { iso } from '../common/schemas';
import { AdminApiConfig } from '../config/admin-api.config';
import { decodeCursor, Page, toPage } from '../http/pagination';
import type { SecretResponse } from './dto/secret.dto';

const secretCursor = z.tuple([z.literal('secret'), z.string().max(255)]);

/**
 * Secrets set over the API, through the same SecretStore and `IM_SECRETS_*`
 * settings as the engine and secretscli, so a value stored here opens there.
 * Values go into the store and nowhere else: answers and audit entries
 * carry the description only.
 */
@Injectable()
export class SecretsService {
  private readonly providers: SecretProviders;

  constructor(
    config: AdminApiConfig,
    private readonly records: SecretRepository,
    private readonly audit: AuditRepository,
    private readonly transactions: TransactionRunner,
  ) {
    this.providers = new SecretProviders(config.secrets);
  }

  async put(reference: string, value: string, principal: Principal): Promise<SecretResponse> {
    const at = new Date();
    const saved = await this.transactions.run(async (tx) => {
      // The store reads and writes inside the transaction, so the secret and its audit entry commit together.
      const store = new SecretStore(this.records.within(tx), this.providers, () => at);
      const before = await store.describe(reference).catch((error: unknown) => {
        if (error instanceof DomainError && error.code === 'SECRET_NOT_FOUND') return null;
        throw error;
      });
      const stored = await store.set(reference, value);
      await this.audit.record(tx, [
        auditEntry(principal, before ? 'secret.rotate' : 'secret.create', { type: 'secret', id: reference }, { before: before && toResponse(before), after: { ...toResponse(stored), value: REDACTED } }, at),
      ]);
      return stored;
    });
    return toResponse(saved);
  }

  /** Secrets are few (one per connected credential), so the list is read whole and paged here. */
  async list(query: { limit: number; cursor?: string }): Promise<Page<SecretResponse>> {
    const after = decodeCursor(query.cursor, secretCursor);
    // Sorted here, not by the database: the cursor compares in this order, which collations would not all agree with.
    const all = (await new SecretStore(this.records, this.providers).list()).sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
    const rest = after ? all.filter((secret) => secret.reference > after[1]) : all;
    return toPage(rest.slice(0, query.limit + 1), query.limit, toResponse, (secret) => ['secret', secret.reference]);
  }
}

function toResponse(secret: SecretDescription): SecretResponse {
  return { reference: secret.reference, provider: secret.provider, keyId: secret.keyId, version: secret.version, createdAt: iso(secret.createdAt), rotatedAt: iso(secret.rotatedAt) };
}
