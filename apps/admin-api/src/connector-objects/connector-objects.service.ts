import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ConnectorRepository, ConnectorSpaceObjectView, ConnectorSpaceRepository, ExportItemView, ExportQueueRepository } from '@identitymesh/persistence';
import { redactSecrets } from '../audit/audit-entry';
import { iso } from '../common/schemas';
import { notFound } from '../http/api-error';
import { decodeCursor, encodeCursor, Page } from '../http/pagination';
import type { ConnectorObjectDetailResponse, ConnectorObjectSummaryResponse, ListConnectorObjectsQuery } from './dto/connector-object.dto';

/** A connector space search's cursor: the (object type, anchor) the next page starts after. */
const spaceCursor = z.tuple([z.literal('cs'), z.string().max(64), z.string().max(255)]);

/** How many export queue items the detail of one object shows; an object's chain is normally one or two. */
const DETAIL_EXPORTS = 100;

/** A connector's staged objects (its connector space) for operators: search, and one object with its export queue items. */
@Injectable()
export class ConnectorObjectsService {
  constructor(
    private readonly connectors: ConnectorRepository,
    private readonly connectorSpace: ConnectorSpaceRepository,
    private readonly exportQueue: ExportQueueRepository,
  ) {}

  async search(connectorId: string, query: ListConnectorObjectsQuery): Promise<Page<ConnectorObjectSummaryResponse>> {
    const after = decodeCursor(query.cursor, spaceCursor);
    if (!(await this.connectors.findById(connectorId))) throw notFound('connector', connectorId);
    const page = await this.connectorSpace.search(
      connectorId,
      { objectType: query.objectType, anchor: query.anchor, dnPrefix: query.dnPrefix, pendingImport: query.pendingImport, pendingExport: query.pendingExport },
      { limit: query.limit, after: after ? { objectType: after[1], anchor: after[2] } : null },
    );
    return { items: page.items.map(toSummary), nextCursor: page.next ? encodeCursor(['cs', page.next.objectType, page.next.anchor]) : null };
  }

  async get(connectorId: string, objectId: string): Promise<ConnectorObjectDetailResponse> {
    const object = await this.connectorSpace.findInConnector(connectorId, objectId);
    if (!object) {
      throw (await this.connectors.findById(connectorId)) ? notFound('object of this connector', objectId) : notFound('connector', connectorId);
    }
    const [references, exports] = await Promise.all([this.connectorSpace.referencesOf(objectId), this.exportQueue.listForObject(objectId, DETAIL_EXPORTS)]);
    return {
      ...toSummary(object),
      attributes: redactSecrets(object.attributes) as Record<string, unknown>,
      references: references.map((r) => ({ attribute: r.attributeName, targetKey: r.targetKey, targetObjectId: r.targetCsObjectId })),
      exports: exports.map(toExportItem),
    };
  }
}

function toSummary(object: ConnectorSpaceObjectView): ConnectorObjectSummaryResponse {
  return {
    id: object.id,
    connectorId: object.connectorId,
    objectType: object.objectType,
    anchor: object.anchor,
    distinguishedName: object.distinguishedName,
    meshObjectId: object.meshObjectId,
    isDisconnector: object.isDisconnector,
    pendingImport: object.pendingImport,
    pendingExport: object.pendingExport,
    lastRunId: object.lastRunId,
  };
}

/** An export as operators follow it: what and how it went, not the values it carries (they may include a new password). */
function toExportItem(item: ExportItemView): ConnectorObjectDetailResponse['exports'][number] {
  return {
    id: item.id,
    operation: item.operation,
    status: item.status,
    attributes: Object.keys(item.change?.attributes ?? {}).sort(),
    attempts: item.attempts,
    lastError: item.lastError,
    nextAttemptAt: iso(item.nextAttemptAt),
    lastAttemptAt: iso(item.lastAttemptAt),
    runId: item.runId,
    createdAt: iso(item.createdAt),
    updatedAt: iso(item.updatedAt),
  };
}
