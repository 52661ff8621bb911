import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { principalOf } from './principal';

/** The authenticated caller of the route, for services that audit or check scope. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext) => principalOf(context.switchToHttp().getRequest<Request>()));
