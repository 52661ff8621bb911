import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../http/api-error';
import { routeContractOf } from '../http/route-metadata';

/**
 * The rate limit of `POST /api/relays/enroll`, declared in its contract.
 * RateLimitGuard counts per signed-in caller; this route is public (the
 * token is the credential), so callers are counted by network address
 * instead, which bounds guessing and the scrypt work each attempt costs.
 * Same store as RateLimitGuard (rate-limiter-flexible's memory store).
 */
@Injectable()
export class EnrollRateLimitGuard implements CanActivate {
  private limiter: RateLimiterMemory | null = null;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const limit = routeContractOf(context.getClass(), context.getHandler())?.rateLimit;
    if (!limit) return true;
    this.limiter ??= new RateLimiterMemory({ keyPrefix: 'relay-enroll', points: limit.requests, duration: limit.perSeconds });
    const request = context.switchToHttp().getRequest<Request>();
    try {
      await this.limiter.consume(request.ip ?? request.socket.remoteAddress ?? 'unknown');
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw new ApiError('RATE_LIMITED', `enrollment takes at most ${limit.requests} requests in ${limit.perSeconds} seconds from one address; try again in ${seconds} s`, {
        headers: { 'Retry-After': String(seconds) },
        details: { limit: limit.requests, perSeconds: limit.perSeconds, retryAfterSeconds: seconds },
      });
    }
    return true;
  }
}
