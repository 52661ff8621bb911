import { Controller, Get, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { idParams } from '../common/schemas';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { ConnectorObjectsService } from './connector-objects.service';
import {
  connectorObjectDetail,
  ConnectorObjectDetailResponse,
  connectorObjectPage,
  connectorObjectParams,
  ConnectorObjectSummaryResponse,
  ListConnectorObjectsQuery,
  listConnectorObjectsQuery,
} from './dto/connector-object.dto';

@Controller('api/connectors/:id/objects')
export class ConnectorObjectsController {
  constructor(private readonly objects: ConnectorObjectsService) {}

  @Get()
  @ApiRoute({
    summary: 'Search a connector space: by object type, anchor, DN prefix, pending import or export',
    tag: 'connector-objects',
    access: { permission: 'objects.read' },
    params: idParams,
    query: listConnectorObjectsQuery,
    responses: { 200: { description: 'One page of the connector’s staged objects', schema: connectorObjectPage } },
  })
  list(@Param() params: z.output<typeof idParams>, @Query() query: ListConnectorObjectsQuery): Promise<Page<ConnectorObjectSummaryResponse>> {
    return this.objects.search(params.id, query);
  }

  @Get(':objectId')
  @ApiRoute({
    summary: 'One connector-space object: attributes, pending import and export, its export queue items',
    tag: 'connector-objects',
    access: { permission: 'objects.read' },
    params: connectorObjectParams,
    responses: { 200: { description: 'The object', schema: connectorObjectDetail } },
  })
  get(@Param() params: z.output<typeof connectorObjectParams>): Promise<ConnectorObjectDetailResponse> {
    return this.objects.get(params.id, params.objectId);
  }
}
