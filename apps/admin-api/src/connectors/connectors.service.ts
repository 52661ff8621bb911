import { Injectable } from '@nestjs/common';
import { parseSchedule } from '@identitymesh/domain';
import { AuditRepository, ConnectorRecord, ConnectorRepository, ConnectorSettings, isUniqueViolation, JsonObject, RunRepository, TransactionRunner } from '@identitymesh/persistence';
import { z } from 'zod';
import { auditEntry } from '../audit/audit-entry';
import type { Principal } from '../auth/principal';
import { iso } from '../common/schemas';
import { ApiError, notFound } from '../http/api-error';
import { decodeCursor, Page, toPage } from '../http/pagination';
import { RelayConnectionTests } from '../relays/relay-connection-tests.service';
import { ConnectorTypes } from './connector-types.service';
import type { ConnectorBody, ConnectorResponse } from './dto/connector.dto';

const nameCursor = z.tuple([z.string().max(128), z.guid()]);

/** Connectors: CRUD with the type's config check and the schedule check before anything is stored, each change audited with it. */
@Injectable()
export class ConnectorsService {
  constructor(
    private readonly connectors: ConnectorRepository,
    private readonly runs: RunRepository,
    private readonly audit: AuditRepository,
    private readonly transactions: TransactionRunner,
    private readonly types: ConnectorTypes,
    private readonly relayTests: RelayConnectionTests,
  ) {}

  async list(query: { limit: number; cursor?: string }): Promise<Page<ConnectorResponse>> {
    const after = decodeCursor(query.cursor, nameCursor);
    const rows = await this.connectors.listRecords({ limit: query.limit + 1, after: after ? { name: after[0], id: after[1] } : null });
    return toPage(rows, query.limit, toResponse, (row) => [row.name, row.id]);
  }

  async get(id: string): Promise<ConnectorResponse> {
    const row = await this.connectors.findRecord(id);
    if (!row) throw notFound('connector', id);
    return toResponse(row);
  }

  async create(body: ConnectorBody, principal: Principal): Promise<ConnectorResponse> {
    const settings = this.settingsOf(body);
    const at = new Date();
    const created = await this.withNameCheck(body.name, () =>
      this.transactions.run(async (tx) => {
        const row = await this.connectors.insertRecord(tx, settings, at);
        await this.audit.record(tx, [auditEntry(principal, 'connector.create', { type: 'connector', id: row.id }, { after: toResponse(row) }, at)]);
        return row;
      }),
    );
    return toResponse(created);
  }

  async replace(id: string, body: ConnectorBody, principal: Principal): Promise<ConnectorResponse> {
    const settings = this.settingsOf(body);
    const at = new Date();
    const updated = await this.withNameCheck(body.name, () =>
      this.transactions.run(async (tx) => {
        const before = await this.connectors.findRecord(id, tx);
        if (!before) throw notFound('connector', id);
        // The connector space, watermarks and rules were made by the old type; another type would misread all of them.
        if (before.type !== settings.type) {
          throw new ApiError('REQUEST_INVALID', `the type of a connector cannot change (it is ${before.type}); create another connector`, { errors: [{ in: 'body', pointer: '/type', problem: `must stay ${before.type}` }] });
        }
        const after = (await this.connectors.replaceRecord(tx, id, settings, at)) as ConnectorRecord;
        await this.audit.record(tx, [auditEntry(principal, 'connector.update', { type: 'connector', id }, { before: toResponse(before), after: toResponse(after) }, at)]);
        return after;
      }),
    );
    return toResponse(updated);
  }

  async remove(id: string, principal: Principal): Promise<void> {
    const at = new Date();
    await this.transactions.run(async (tx) => {
      const before = await this.connectors.findRecord(id, tx);
      if (!before) throw notFound('connector', id);
      if (await this.runs.hasActiveRun(tx, id)) throw new ApiError('CONNECTOR_BUSY', `connector "${before.name}" has a run queued or running; wait for it to end before deleting the connector`);
      await this.connectors.removeRecord(tx, id);
      await this.audit.record(tx, [auditEntry(principal, 'connector.delete', { type: 'connector', id }, { before: toResponse(before) }, at)]);
    });
  }

  async test(id: string): Promise<{ ok: boolean; detail: string; code: string | null; durationMs: number }> {
    const row = await this.connectors.findRecord(id);
    if (!row) throw notFound('connector', id);
    const started = Date.now();
    // A connector of a relay group is tested where it runs: this host may not even reach its system.
    const result = row.relayGroup ? await this.relayTests.test({ id: row.id, relayGroup: row.relayGroup }) : await this.types.test(row);
    return { ...result, durationMs: Date.now() - started };
  }

  /** Checks what the body's schema cannot: the type's own config rules and the schedule. */
  private settingsOf(body: ConnectorBody): ConnectorSettings {
    this.types.validate(body.type, body.config);
    if (body.schedule) parseSchedule(body.schedule);
    return {
      name: body.name,
      type: body.type,
      description: body.description ?? null,
      config: body.config as JsonObject,
      objectTypes: (body.objectTypes ?? []) as unknown as JsonObject[],
      schedule: (body.schedule ?? null) as JsonObject | null,
      relayGroup: body.relayGroup ?? null,
      batchSize: body.batchSize ?? 500,
      deletionThresholdCount: body.deletionThresholdCount ?? 500,
      deletionThresholdPercent: body.deletionThresholdPercent ?? 10,
      errorThreshold: body.errorThreshold ?? null,
      exportMaxAttempts: body.exportMaxAttempts ?? 5,
      enabled: body.enabled ?? true,
    };
  }

  private async withNameCheck<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError('NAME_TAKEN', `another connector is named ${JSON.stringify(name)}`);
      throw error;
    }
  }
}

export function toResponse(row: ConnectorRecord): ConnectorResponse {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    description: row.description,
    config: row.config,
    objectTypes: row.objectTypes as unknown as ConnectorResponse['objectTypes'],
    schedule: row.schedule,
    relayGroup: row.relayGroup,
    batchSize: row.batchSize,
    deletionThresholdCount: row.deletionThresholdCount,
    deletionThresholdPercent: row.deletionThresholdPercent,
    errorThreshold: row.errorThreshold,
    exportMaxAttempts: row.exportMaxAttempts,
    enabled: row.enabled,
    rulesVersion: row.rulesVersion,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
