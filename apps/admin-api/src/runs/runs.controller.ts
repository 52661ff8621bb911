import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { idParams } from '../common/schemas';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { listRunErrorsQuery, listRunsQuery, runDetailResponse, runErrorPage, runPage, RunResponse, runResponse, TriggerRunBody, triggerRunBody } from './dto/run.dto';
import { RunsService } from './runs.service';

@Controller('api')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post('connectors/:id/runs')
  @HttpCode(202)
  @ApiRoute({
    summary: 'Queue a run of a connector',
    description: 'The run is queued in IM_Runs and taken by the active engine at its next poll, after the runs of the connector queued before it.',
    tag: 'runs',
    access: { permission: 'runs.trigger' },
    params: idParams,
    body: triggerRunBody,
    responses: { 202: { description: 'The queued run', schema: runResponse } },
  })
  trigger(@Param() params: z.output<typeof idParams>, @Body() body: TriggerRunBody, @CurrentPrincipal() principal: Principal): Promise<RunResponse> {
    return this.runs.trigger(params.id, body, principal);
  }

  @Get('runs')
  @ApiRoute({
    summary: 'Run history, newest first',
    tag: 'runs',
    access: { permission: 'runs.read' },
    query: listRunsQuery,
    responses: { 200: { description: 'One page of runs with their counters', schema: runPage } },
  })
  list(@Query() query: z.output<typeof listRunsQuery>): Promise<Page<RunResponse>> {
    return this.runs.list(query);
  }

  @Get('runs/:id')
  @ApiRoute({
    summary: 'One run with its counters and per-object errors',
    tag: 'runs',
    access: { permission: 'runs.read' },
    params: idParams,
    responses: { 200: { description: 'The run', schema: runDetailResponse } },
  })
  get(@Param() params: z.output<typeof idParams>): Promise<z.infer<typeof runDetailResponse>> {
    return this.runs.get(params.id);
  }

  @Get('runs/:id/errors')
  @ApiRoute({
    summary: 'The per-object errors of a run, in the order they were recorded',
    tag: 'runs',
    access: { permission: 'runs.read' },
    params: idParams,
    query: listRunErrorsQuery,
    responses: { 200: { description: 'One page of errors', schema: runErrorPage } },
  })
  errors(@Param() params: z.output<typeof idParams>, @Query() query: z.output<typeof listRunErrorsQuery>): Promise<z.infer<typeof runErrorPage>> {
    return this.runs.errors(params.id, query);
  }

  @Post('runs/:id/approve-deletes')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Release the deletes an export run held above the deletion threshold',
    description: 'The run is queued again; when an engine runs it, exactly the deletes it held up to this approval are sent. 409 when the run is not held for approval.',
    tag: 'runs',
    access: { permission: 'runs.approve' },
    params: idParams,
    responses: { 200: { description: 'The run, queued again', schema: runResponse } },
  })
  approveDeletes(@Param() params: z.output<typeof idParams>, @CurrentPrincipal() principal: Principal): Promise<RunResponse> {
    return this.runs.approveDeletes(params.id, principal);
  }
}
