import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError } from '../http/api-error';
import { isPublic } from '../http/route-contract';
import { routeContractOf } from '../http/route-metadata';
import { Authenticator } from './authenticator.service';
import { setPrincipal } from './principal';

/**
 * The global guard: every route either is declared public or requires one
 * permission (its contract says which). A route without a contract is
 * refused outright (the app also refuses to start with one), so a forgotten
 * declaration can never open a route.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly authenticator: Authenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const contract = routeContractOf(context.getClass(), context.getHandler());
    if (!contract) throw new ApiError('FORBIDDEN', 'this route declares no permission and is closed');
    if (isPublic(contract.access)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const principal = await this.authenticator.authenticate(request);
    if (!principal.permissions.has(contract.access.permission)) {
      throw new ApiError('FORBIDDEN', `this route requires the permission ${contract.access.permission}, which ${principal.actor} does not hold`, { details: { permission: contract.access.permission } });
    }
    if (principal.session) await this.authenticator.renewSession(principal.session, context.switchToHttp().getResponse<Response>());
    setPrincipal(request, principal);
    return true;
  }
}
