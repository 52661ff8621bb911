import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { idParams } from '../common/schemas';
import type { Page } from '../http/pagination';
import { ApiRoute } from '../http/route-contract';
import { listRulesQuery, RuleBody, ruleBody, rulePage, RulePreviewBody, rulePreviewBody, rulePreviewResponse, RulePreviewResponse, RuleResponse, ruleResponse } from './dto/rule.dto';
import { RulesService } from './rules.service';

@Controller('api/rules')
export class RulesController {
  constructor(private readonly rules: RulesService) {}

  @Get()
  @ApiRoute({
    summary: 'List sync rules in evaluation order (kind, ordinal)',
    tag: 'rules',
    access: { permission: 'rules.read' },
    query: listRulesQuery,
    responses: { 200: { description: 'One page of rules', schema: rulePage } },
  })
  list(@Query() query: z.output<typeof listRulesQuery>): Promise<Page<RuleResponse>> {
    return this.rules.list(query);
  }

  @Post()
  @ApiRoute({
    summary: 'Create a sync rule',
    description: "The definition is validated before it is stored: its shape (unknown fields refused) and every expression against the connector's schema and the mesh attributes (docs/rules.md). 422 with the field and position otherwise.",
    tag: 'rules',
    access: { permission: 'rules.write' },
    body: ruleBody,
    responses: { 201: { description: 'The rule as stored', schema: ruleResponse } },
  })
  create(@Body() body: RuleBody, @CurrentPrincipal() principal: Principal): Promise<RuleResponse> {
    return this.rules.create(body, principal);
  }

  @Post('preview')
  @HttpCode(200)
  @ApiRoute({
    summary: 'Evaluate a rule definition against a sample object, writing nothing',
    description: 'The sample is given in full or names a real connector-space object (`csObjectId`). A definition that does not validate, or fails for the sample, comes back with `ok: false` and its coded error.',
    tag: 'rules',
    access: { permission: 'rules.read' },
    body: rulePreviewBody,
    responses: { 200: { description: 'What the rule would do', schema: rulePreviewResponse } },
  })
  preview(@Body() body: RulePreviewBody): Promise<RulePreviewResponse> {
    return this.rules.preview(body);
  }

  @Get(':id')
  @ApiRoute({
    summary: 'One sync rule',
    tag: 'rules',
    access: { permission: 'rules.read' },
    params: idParams,
    responses: { 200: { description: 'The rule', schema: ruleResponse } },
  })
  get(@Param() params: z.output<typeof idParams>): Promise<RuleResponse> {
    return this.rules.get(params.id);
  }

  @Put(':id')
  @ApiRoute({
    summary: 'Replace a sync rule',
    description: 'Validated as on create; the version goes up by one and the next sync run uses it.',
    tag: 'rules',
    access: { permission: 'rules.write' },
    params: idParams,
    body: ruleBody,
    responses: { 200: { description: 'The rule as stored', schema: ruleResponse } },
  })
  replace(@Param() params: z.output<typeof idParams>, @Body() body: RuleBody, @CurrentPrincipal() principal: Principal): Promise<RuleResponse> {
    return this.rules.replace(params.id, body, principal);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({
    summary: 'Delete a sync rule',
    tag: 'rules',
    access: { permission: 'rules.write' },
    params: idParams,
    responses: { 204: { description: 'Deleted' } },
  })
  remove(@Param() params: z.output<typeof idParams>, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.rules.remove(params.id, principal);
  }
}
