import { Injectable } from '@nestjs/common';
import { evaluateRuleSample, validateRuleDefinition } from '@identitymesh/domain';
import type { ConnectorSpaceObjectView, MeshAttribute, MeshObjectView, RuleSample, SyncRuleKind } from '@identitymesh/domain';
import { AuditRepository, ConnectorDefinition, ConnectorRepository, ConnectorSpaceRepository, JsonObject, SyncRuleRepository, SyncRuleSettings, SyncRuleView, Transaction, TransactionRunner } from '@identitymesh/persistence';
import { z } from 'zod';
import { auditEntry } from '../audit/audit-entry';
import type { Principal } from '../auth/principal';
import { iso } from '../common/schemas';
import { toJsonSafe } from '../common/json-safe';
import { ApiError, notFound } from '../http/api-error';
import { decodeCursor, Page, toPage } from '../http/pagination';
import type { RuleBody, RulePreviewBody, RulePreviewResponse, RuleResponse, RuleSampleBody } from './dto/rule.dto';
import { RuleSchemasService } from './rule-schemas.service';

const ruleCursor = z.tuple([z.string().max(32), z.int(), z.guid()]);
const EPOCH = new Date(0).toISOString();

/**
 * Sync rules: every definition is validated the way a sync run compiles it
 * (docs/rules.md) before it is stored, so a bad rule never reaches a run;
 * each change is audited with it and bumps the connectors' rulesVersion.
 */
@Injectable()
export class RulesService {
  constructor(
    private readonly rules: SyncRuleRepository,
    private readonly connectors: ConnectorRepository,
    private readonly connectorSpace: ConnectorSpaceRepository,
    private readonly schemas: RuleSchemasService,
    private readonly audit: AuditRepository,
    private readonly transactions: TransactionRunner,
  ) {}

  async list(query: { limit: number; cursor?: string; connectorId?: string; kind?: SyncRuleKind }): Promise<Page<RuleResponse>> {
    const after = decodeCursor(query.cursor, ruleCursor);
    const rows = await this.rules.list({ connectorId: query.connectorId, kind: query.kind }, { limit: query.limit + 1, after: after ? { kind: after[0], ordinal: after[1], id: after[2] } : null });
    return toPage(rows, query.limit, toResponse, (row) => [row.kind, row.ordinal, row.id]);
  }

  async get(id: string): Promise<RuleResponse> {
    const rule = await this.rules.findView(id);
    if (!rule) throw notFound('rule', id);
    return toResponse(rule);
  }

  async create(body: RuleBody, principal: Principal): Promise<RuleResponse> {
    const settings = await this.validated(body);
    const at = new Date();
    const created = await this.transactions.run(async (tx) => {
      await this.assertConnectorsExist(settings, tx);
      const rule = await this.rules.insertIn(tx, settings, at);
      await this.audit.record(tx, [auditEntry(principal, 'rule.create', { type: 'rule', id: rule.id }, { after: toResponse(rule), ruleId: rule.id }, at)]);
      return rule;
    });
    return toResponse(created);
  }

  async replace(id: string, body: RuleBody, principal: Principal): Promise<RuleResponse> {
    if (!(await this.rules.findView(id))) throw notFound('rule', id);
    const settings = await this.validated(body, id);
    const at = new Date();
    const updated = await this.transactions.run(async (tx) => {
      const before = await this.rules.findView(id, tx);
      if (!before) throw notFound('rule', id);
      await this.assertConnectorsExist(settings, tx);
      const after = (await this.rules.replaceIn(tx, id, settings, at)) as SyncRuleView;
      await this.audit.record(tx, [auditEntry(principal, 'rule.update', { type: 'rule', id }, { before: toResponse(before), after: toResponse(after), ruleId: id }, at)]);
      return after;
    });
    return toResponse(updated);
  }

  async remove(id: string, principal: Principal): Promise<void> {
    const at = new Date();
    await this.transactions.run(async (tx) => {
      const before = await this.rules.findView(id, tx);
      if (!before) throw notFound('rule', id);
      await this.rules.removeIn(tx, id, at);
      await this.audit.record(tx, [auditEntry(principal, 'rule.delete', { type: 'rule', id }, { before: toResponse(before), ruleId: id }, at)]);
    });
  }

  /** Evaluates an unsaved definition against a sample (or a real connector-space object); writes nothing. */
  async preview(body: RulePreviewBody): Promise<RulePreviewResponse> {
    const connector = await this.connectorOf(body.connectorId);
    const schemas = await this.schemas.schemasFor({ kind: body.kind, connector, objectType: body.objectType });
    const sample = await this.sampleOf(body, connector);
    const result = evaluateRuleSample(body.kind, body.definition, sample, schemas);
    return toJsonSafe(result) as RulePreviewResponse;
  }

  /** The body as stored, after the definition passed the rules' own validation against what it may read. */
  private async validated(body: RuleBody, exceptRuleId?: string): Promise<SyncRuleSettings> {
    const connector = await this.connectorOf(body.connectorId);
    const schemas = await this.schemas.schemasFor({ kind: body.kind, connector, objectType: body.objectType }, exceptRuleId);
    validateRuleDefinition(body.kind, body.definition, schemas);
    // Stored as given, not as validated: the engine reads the same text the operator wrote and audited.
    return { kind: body.kind, connectorId: body.connectorId, objectType: body.objectType, name: body.name, ordinal: body.ordinal, definition: body.definition as JsonObject, enabled: body.enabled ?? true };
  }

  private async connectorOf(connectorId: string | null): Promise<ConnectorDefinition | null> {
    if (connectorId === null) return null;
    const connector = await this.connectors.findById(connectorId);
    if (!connector) throw new ApiError('REQUEST_INVALID', `there is no connector ${connectorId}`, { errors: [{ in: 'body', pointer: '/connectorId', problem: 'names no connector' }] });
    return connector;
  }

  /** The rule's connectors exist when it is stored (they may have been deleted since it was validated). */
  private async assertConnectorsExist(settings: SyncRuleSettings, tx: Transaction): Promise<void> {
    const target = settings.kind === 'provisioning' ? settings.definition['targetConnectorId'] : undefined;
    const ids = [settings.connectorId, typeof target === 'string' ? target : null].filter((id): id is string => id !== null);
    for (const id of new Set(ids)) {
      if (!(await this.connectors.findRecord(id, tx))) {
        const pointer = id === settings.connectorId ? '/connectorId' : '/definition/targetConnectorId';
        throw new ApiError('REQUEST_INVALID', `there is no connector ${id}`, { errors: [{ in: 'body', pointer, problem: 'names no connector' }] });
      }
    }
  }

  private async sampleOf(body: RulePreviewBody, connector: ConnectorDefinition | null): Promise<RuleSample> {
    const input: RuleSampleBody = body.sample;
    const sample: RuleSample = {
      joinCandidates: input.joinCandidates ? new Map(Object.entries(input.joinCandidates)) : undefined,
      importReferences: input.importReferences ? new Map(Object.entries(input.importReferences)) : undefined,
      exportReferences: input.exportReferences ? new Map(Object.entries(input.exportReferences)) : undefined,
      precedence: input.precedence,
      takenValues: input.takenValues ? new Map(Object.entries(input.takenValues)) : undefined,
      existingTargets: input.existingTargets,
      adding: input.adding,
      reason: input.reason,
    };
    if (input.cso) {
      sample.cso = {
        connectorId: input.cso.connectorId ?? connector?.id ?? body.connectorId ?? '',
        objectType: input.cso.objectType ?? body.objectType,
        anchor: input.cso.anchor,
        dn: input.cso.dn ?? null,
        attributes: input.cso.attributes,
      };
    } else if (input.csObjectId) {
      sample.cso = await this.realObject(input.csObjectId);
    }
    if (input.mesh) {
      const meshType = typeof body.definition['meshObjectType'] === 'string' ? (body.definition['meshObjectType'] as string) : body.objectType;
      const attributes: Record<string, MeshAttribute> = {};
      for (const [name, value] of Object.entries(input.mesh.attributes)) {
        attributes[name] =
          value !== null && typeof value === 'object' && !Array.isArray(value)
            ? { value: value.value, connectorId: value.connectorId, reference: value.reference, at: EPOCH }
            : { value, connectorId: null, at: EPOCH };
      }
      sample.mesh = { id: input.mesh.id ?? '(sample)', objectType: input.mesh.objectType ?? meshType, attributes } satisfies MeshObjectView;
    }
    return sample;
  }

  private async realObject(id: string): Promise<ConnectorSpaceObjectView> {
    const [found] = await this.transactions.run((tx) => this.connectorSpace.loadByIds(tx, [id]));
    if (!found) throw new ApiError('REQUEST_INVALID', `there is no connector-space object ${id}`, { errors: [{ in: 'body', pointer: '/sample/csObjectId', problem: 'names no connector-space object' }] });
    return {
      id: found.id,
      connectorId: found.connectorId,
      objectType: found.objectType,
      anchor: found.anchor,
      dn: found.distinguishedName,
      attributes: found.attributes as ConnectorSpaceObjectView['attributes'],
    };
  }
}

export function toResponse(rule: SyncRuleView): RuleResponse {
  return {
    id: rule.id,
    kind: rule.kind,
    connectorId: rule.connectorId,
    objectType: rule.objectType,
    name: rule.name,
    ordinal: rule.ordinal,
    enabled: rule.enabled !== false,
    definition: rule.definition as Record<string, unknown>,
    version: rule.version,
    createdAt: iso(rule.createdAt),
    updatedAt: iso(rule.updatedAt),
  };
}
