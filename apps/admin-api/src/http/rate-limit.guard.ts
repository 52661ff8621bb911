import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { principalOf } from '../auth/principal';
import { ApiError } from './api-error';
import type { RouteContract } from './route-contract';
import { routeContractOf } from './route-metadata';

/**
 * Enforces a route's declared `rateLimit` per caller. Applied to a handler
 * with `@UseGuards(RateLimitGuard)`; handler guards run after the global
 * AuthGuard, so only callers that signed in and hold the route's permission
 * are counted, under their audited name (one operator's bearer token and
 * browser session share one budget).
 *
 * The counters live in this process (rate-limiter-flexible's memory store).
 * Its Redis store has the same interface, which is how cluster mode will
 * share the budget across instances.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const contract = routeContractOf(context.getClass(), context.getHandler());
    if (!contract?.rateLimit) return true;
    const principal = principalOf(context.switchToHttp().getRequest<Request>());
    const limiter = this.limiterOf(`${context.getClass().name}.${context.getHandler().name}`, contract.rateLimit);
    try {
      await limiter.consume(`${principal.actorType}:${principal.actor}`);
    } catch (refusal) {
      // The store rejects with a RateLimiterRes when the budget is spent; anything else is a failure of the store itself.
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw new ApiError('RATE_LIMITED', `this route takes at most ${contract.rateLimit.requests} requests in ${contract.rateLimit.perSeconds} seconds from one caller; try again in ${seconds} s`, {
        headers: { 'Retry-After': String(seconds) },
        details: { limit: contract.rateLimit.requests, perSeconds: contract.rateLimit.perSeconds, retryAfterSeconds: seconds },
      });
    }
    return true;
  }

  private limiterOf(route: string, limit: NonNullable<RouteContract['rateLimit']>): RateLimiterAbstract {
    let limiter = this.limiters.get(route);
    if (!limiter) {
      limiter = new RateLimiterMemory({ keyPrefix: route, points: limit.requests, duration: limit.perSeconds });
      this.limiters.set(route, limiter);
    }
    return limiter;
  }
}
