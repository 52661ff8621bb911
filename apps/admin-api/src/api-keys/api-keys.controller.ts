import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { idParams } from '../common/schemas';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { ApiKeysService } from './api-keys.service';
import { apiKeyPage, ApiKeyResponse, apiKeyResponse, CreateApiKeyBody, createApiKeyBody, createdApiKeyResponse, CreatedApiKeyResponse, listApiKeysQuery } from './dto/api-key.dto';

@Controller('api/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiRoute({
    summary: 'Create an API key',
    description: 'The answer carries the key itself, once; only its hash is stored. The key may hold at most the permissions of its creator.',
    tag: 'api-keys',
    access: { permission: 'keys.manage' },
    body: createApiKeyBody,
    responses: { 201: { description: 'The key, with its secret shown this once', schema: createdApiKeyResponse } },
  })
  create(@Body() body: CreateApiKeyBody, @CurrentPrincipal() principal: Principal): Promise<CreatedApiKeyResponse> {
    return this.keys.create(body, principal);
  }

  @Get()
  @ApiRoute({
    summary: 'List API keys, newest first (never their secrets)',
    tag: 'api-keys',
    access: { permission: 'keys.manage' },
    query: listApiKeysQuery,
    responses: { 200: { description: 'One page of keys', schema: apiKeyPage } },
  })
  list(@Query() query: z.output<typeof listApiKeysQuery>): Promise<Page<ApiKeyResponse>> {
    return this.keys.list(query);
  }

  @Delete(':id')
  @ApiRoute({
    summary: 'Revoke an API key',
    description: 'The key is refused from the next request on; the row stays for the audit trail.',
    tag: 'api-keys',
    access: { permission: 'keys.manage' },
    params: idParams,
    responses: { 200: { description: 'The revoked key', schema: apiKeyResponse } },
  })
  revoke(@Param() params: z.output<typeof idParams>, @CurrentPrincipal() principal: Principal): Promise<ApiKeyResponse> {
    return this.keys.revoke(params.id, principal);
  }
}
