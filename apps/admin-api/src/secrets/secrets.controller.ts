import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { listSecretsQuery, PutSecretBody, putSecretBody, secretPage, secretParams, SecretResponse, secretResponse } from './dto/secret.dto';
import { SecretsService } from './secrets.service';

@Controller('api/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Put(':ref')
  @ApiRoute({
    summary: 'Store a secret (a new version when the reference exists)',
    description:
      'Stores the value through the secret store the engine and secretscli use (`IM_SECRETS_*`). The value is never returned by any route, logged or audited; the answer and the audit entry describe the secret (reference, provider, key, version). A reference holds `/`: send each as `%2F`.',
    tag: 'secrets',
    access: { permission: 'secrets.write' },
    params: secretParams,
    body: putSecretBody,
    responses: { 200: { description: 'The stored secret, without its value', schema: secretResponse } },
  })
  put(@Param() params: z.output<typeof secretParams>, @Body() body: PutSecretBody, @CurrentPrincipal() principal: Principal): Promise<SecretResponse> {
    return this.secrets.put(params.ref, body.value, principal);
  }

  @Get()
  @ApiRoute({
    summary: 'The stored secrets by reference: provider, key, version, times (never a value)',
    description: 'Requires `connectors.read`: whoever reads connector configurations sees these references there already.',
    tag: 'secrets',
    access: { permission: 'connectors.read' },
    query: listSecretsQuery,
    responses: { 200: { description: 'One page of secrets in reference order', schema: secretPage } },
  })
  list(@Query() query: z.output<typeof listSecretsQuery>): Promise<Page<SecretResponse>> {
    return this.secrets.list(query);
  }
}
