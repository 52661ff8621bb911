import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { idParams } from '../common/schemas';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { ConnectorsService } from './connectors.service';
import { connectionTestResponse, ConnectorBody, connectorBody, connectorPage, ConnectorResponse, connectorResponse, listConnectorsQuery } from './dto/connector.dto';

@Controller('api/connectors')
export class ConnectorsController {
  constructor(private readonly connectors: ConnectorsService) {}

  @Get()
  @ApiRoute({
    summary: 'List connectors by name',
    tag: 'connectors',
    access: { permission: 'connectors.read' },
    query: listConnectorsQuery,
    responses: { 200: { description: 'One page of connectors', schema: connectorPage } },
  })
  list(@Query() query: z.output<typeof listConnectorsQuery>): Promise<Page<ConnectorResponse>> {
    return this.connectors.list(query);
  }

  @Post()
  @ApiRoute({
    summary: 'Create a connector',
    description: "The config is checked by the connector type (the engine's own check) and the schedule by the scheduler's rules before anything is stored.",
    tag: 'connectors',
    access: { permission: 'connectors.write' },
    body: connectorBody,
    responses: { 201: { description: 'The connector as stored', schema: connectorResponse } },
  })
  create(@Body() body: ConnectorBody, @CurrentPrincipal() principal: Principal): Promise<ConnectorResponse> {
    return this.connectors.create(body, principal);
  }

  @Get(':id')
  @ApiRoute({
    summary: 'One connector',
    tag: 'connectors',
    access: { permission: 'connectors.read' },
    params: idParams,
    responses: { 200: { description: 'The connector', schema: connectorResponse } },
  })
  get(@Param() params: z.output<typeof idParams>): Promise<ConnectorResponse> {
    return this.connectors.get(params.id);
  }

  @Put(':id')
  @ApiRoute({
    summary: 'Replace a connector’s settings',
    description: 'Every field is set as given (omitted optional fields take their defaults); the type cannot change.',
    tag: 'connectors',
    access: { permission: 'connectors.write' },
    params: idParams,
    body: connectorBody,
    responses: { 200: { description: 'The connector as stored', schema: connectorResponse } },
  })
  replace(@Param() params: z.output<typeof idParams>, @Body() body: ConnectorBody, @CurrentPrincipal() principal: Principal): Promise<ConnectorResponse> {
    return this.connectors.replace(params.id, body, principal);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({
    summary: 'Delete a connector with its rules, runs and connector space',
    description: 'Refused (409) while the connector has a run queued or running.',
    tag: 'connectors',
    access: { permission: 'connectors.write' },
    params: idParams,
    responses: { 204: { description: 'Deleted' } },
  })
  remove(@Param() params: z.output<typeof idParams>, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.connectors.remove(params.id, principal);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Test the connection to the connected system',
    description: 'Opens the connector as a run would (secret references resolved) and asks the system; a failure is reported in the answer, not as an error. Changes nothing.',
    tag: 'connectors',
    access: { permission: 'connectors.write' },
    params: idParams,
    responses: { 200: { description: 'What the test found', schema: connectionTestResponse } },
  })
  test(@Param() params: z.output<typeof idParams>): Promise<z.infer<typeof connectionTestResponse>> {
    return this.connectors.test(params.id);
  }
}
