import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ConnectorRepository, ConnectorSpaceRepository, MeshObjectSummary, MeshRepository, SyncRuleRepository } from '@identitymesh/persistence';
import { redactSecrets } from '../audit/audit-entry';
import { iso } from '../common/schemas';
import { notFound } from '../http/api-error';
import { decodeCursor, encodeCursor, Page } from '../http/pagination';
import type { ListMeshObjectsQuery, MeshObjectDetailResponse, MeshObjectSummaryResponse } from './dto/mesh-object.dto';

/** A mesh search's cursor: the id the next page starts after. */
const meshCursor = z.tuple([z.literal('mesh'), z.guid()]);

/**
 * Mesh objects for operators: search, and one object with where each of
 * its values came from. Every read is a handful of set-based queries,
 * however many attributes, joined objects or references the object has.
 */
@Injectable()
export class MeshObjectsService {
  constructor(
    private readonly mesh: MeshRepository,
    private readonly connectorSpace: ConnectorSpaceRepository,
    private readonly connectors: ConnectorRepository,
    private readonly rules: SyncRuleRepository,
  ) {}

  async search(query: ListMeshObjectsQuery): Promise<Page<MeshObjectSummaryResponse>> {
    const after = decodeCursor(query.cursor, meshCursor);
    const page = await this.mesh.search(
      {
        objectType: query.objectType,
        displayNamePrefix: query.displayNamePrefix,
        attribute: query.attribute !== undefined && query.value !== undefined ? { name: query.attribute, value: query.value } : undefined,
      },
      { limit: query.limit, afterId: after ? after[1] : null },
    );
    return { items: page.items.map(toSummary), nextCursor: page.nextAfterId === null ? null : encodeCursor(['mesh', page.nextAfterId]) };
  }

  async get(id: string): Promise<MeshObjectDetailResponse> {
    const [record, summary] = await Promise.all([this.mesh.findById(id), this.mesh.findSummaries([id])]);
    if (!record || summary.length === 0) throw notFound('mesh object', id);
    const attributes = Object.entries(record.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const referenceTargets = attributes.flatMap(([name, attribute]) => (attribute.reference ? toIds(attribute.value).map((target) => ({ attribute: name, target })) : []));
    const joined = await this.connectorSpace.findLinked([id]);
    const [connectors, rules, targets] = await Promise.all([
      this.connectors.findByIds([...attributes.map(([, a]) => a.connectorId), ...joined.map((o) => o.connectorId)].filter((c): c is string => typeof c === 'string')),
      this.rules.namesOf(attributes.map(([, a]) => a.ruleId).filter((r): r is string => typeof r === 'string')),
      this.mesh.findSummaries(referenceTargets.map((r) => r.target)),
    ]);
    const connectorNames = new Map(connectors.map((c) => [c.id, c.name]));
    const ruleNames = new Map(rules.map((r) => [r.id, r]));
    const targetSummaries = new Map(targets.map((t) => [t.id, t]));
    return {
      ...toSummary(summary[0]),
      attributes: attributes.map(([name, attribute]) => ({
        name,
        value: attribute.reference ? attribute.value : redactedValue(name, attribute.value),
        reference: attribute.reference === true,
        connector: attribute.connectorId ? { id: attribute.connectorId, name: connectorNames.get(attribute.connectorId) ?? null } : null,
        rule: attribute.ruleId ? { id: attribute.ruleId, name: ruleNames.get(attribute.ruleId)?.name ?? null, kind: ruleNames.get(attribute.ruleId)?.kind ?? null } : null,
        changedAt: attribute.at,
      })),
      connectorObjects: joined.map((object) => ({
        id: object.id,
        connector: { id: object.connectorId, name: connectorNames.get(object.connectorId) ?? null },
        objectType: object.objectType,
        anchor: object.anchor,
        distinguishedName: object.distinguishedName,
        isDisconnector: object.isDisconnector,
        pendingImport: object.pendingImport,
        pendingExport: object.pendingExport,
      })),
      references: referenceTargets.map(({ attribute, target }) => {
        const found = targetSummaries.get(target);
        return { attribute, target: { id: target, objectType: found?.objectType ?? null, displayName: found?.displayName ?? null } };
      }),
    };
  }
}

function toSummary(object: MeshObjectSummary): MeshObjectSummaryResponse {
  return { id: object.id, objectType: object.objectType, displayName: object.displayName, createdAt: iso(object.createdAt), updatedAt: iso(object.updatedAt) };
}

/** Attribute values follow the audit log's rule: a value under a secret-looking name (a password hash flowing through the mesh) is not shown. */
export function redactedValue(name: string, value: unknown): unknown {
  return (redactSecrets({ [name]: value }) as Record<string, unknown>)[name];
}

function toIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}
