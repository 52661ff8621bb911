import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { idParams } from '../common/schemas';
import { ApiRoute } from '../http/route-contract';
import {
  createEnrollmentBody,
  CreateEnrollmentBody,
  enrollBody,
  EnrollBody,
  enrolledResponse,
  EnrolledResponse,
  enrollmentResponse,
  EnrollmentResponse,
  relayCommandBody,
  RelayCommandBody,
  relayCommandResponse,
  RelayCommandResponse,
  relayResponse,
  RelayResponse,
} from './dto/relay.dto';
import { EnrollRateLimitGuard } from './enroll-rate-limit.guard';
import { RelayCommandsService } from './relay-commands.service';
import { RelaysService } from './relays.service';

@Controller('api/relays')
export class RelaysController {
  constructor(
    private readonly relays: RelaysService,
    private readonly commands: RelayCommandsService,
  ) {}

  @Post('enrollments')
  @ApiRoute({
    summary: 'Create a one-time enrollment token for a new relay of a group',
    description: 'The answer carries the token itself, once; only its hash is stored. A relay agent trades it for its own credential (`POST /api/relays/enroll`) within its lifetime (15 minutes unless `expiresInMinutes` says otherwise, at most a day).',
    tag: 'relays',
    access: { permission: 'relays.manage' },
    body: createEnrollmentBody,
    responses: { 201: { description: 'The enrollment, with its token shown this once', schema: enrollmentResponse } },
  })
  createEnrollment(@Body() body: CreateEnrollmentBody, @CurrentPrincipal() principal: Principal): Promise<EnrollmentResponse> {
    return this.relays.createEnrollment(body, principal);
  }

  @Post('enroll')
  @UseGuards(EnrollRateLimitGuard)
  @ApiRoute({
    summary: 'Trade an enrollment token for a relay credential',
    description:
      'Called by the relay agent on its first start. The token is used up by a successful call; the answer carries the relay\'s own credential (`imr_…`) once. An unknown, used or expired token is refused with 401; a name another relay has with 409 (the token stays usable). Rate limited per network address.',
    tag: 'relays',
    access: { public: 'a relay has no credential yet: the one-time enrollment token in the body is the credential' },
    body: enrollBody,
    rateLimit: { requests: 30, perSeconds: 60 },
    responses: { 201: { description: 'The enrolled relay and its credential, shown this once', schema: enrolledResponse } },
  })
  enroll(@Body() body: EnrollBody): Promise<EnrolledResponse> {
    return this.relays.enroll(body);
  }

  @Get()
  @ApiRoute({
    summary: 'List the relays, with whether and where each is connected',
    tag: 'relays',
    access: { permission: 'relays.manage' },
    responses: { 200: { description: 'Every enrolled relay, by name', schema: z.object({ items: z.array(relayResponse) }) } },
  })
  async list(): Promise<{ items: RelayResponse[] }> {
    return { items: await this.relays.list() };
  }

  @Get(':id')
  @ApiRoute({
    summary: 'One relay',
    tag: 'relays',
    access: { permission: 'relays.manage' },
    params: idParams,
    responses: { 200: { description: 'The relay', schema: relayResponse } },
  })
  get(@Param() params: z.output<typeof idParams>): Promise<RelayResponse> {
    return this.relays.get(params.id);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Revoke a relay',
    description: 'The relay is told so and disconnected at once; its credential is refused from then on. Its work items stay in the queue for the other relays of its group.',
    tag: 'relays',
    access: { permission: 'relays.manage' },
    params: idParams,
    responses: { 200: { description: 'The revoked relay', schema: relayResponse } },
  })
  revoke(@Param() params: z.output<typeof idParams>, @CurrentPrincipal() principal: Principal): Promise<RelayResponse> {
    return this.relays.revoke(params.id, principal);
  }

  @Post(':id/commands')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Send a command to a relay',
    description:
      '`ping` and `reload-config` go to the connected relay and wait up to 10 s for its answer (`outcome` `ok`, `failed` or `timeout`, with `detail` and `roundTripMs`); 409 when the relay is not connected. `run-connector` queues a run of `connectorId`, which must be assigned to the relay\'s group (`outcome` `queued`, `runId`).',
    tag: 'relays',
    access: { permission: 'relays.manage' },
    params: idParams,
    body: relayCommandBody,
    responses: { 200: { description: 'What came of the command', schema: relayCommandResponse } },
  })
  command(@Param() params: z.output<typeof idParams>, @Body() body: RelayCommandBody, @CurrentPrincipal() principal: Principal): Promise<RelayCommandResponse> {
    return this.commands.send(params.id, body, principal);
  }
}
