import { Controller, Get, HttpCode, Inject, Post, Query, Redirect, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiRoute } from '../http/route-contract';
import { BROWSER_SESSIONS, BrowserSessions } from './browser-sessions';
import { CallbackQuery, callbackQuery, SessionResponse, sessionResponse } from './dto/session.dto';
import { SessionsService } from './sessions.service';

/**
 * Browser sign-in. These routes are public because a browser reaches them
 * before it holds a credential (or to give one up); each checks the
 * cookies it is about itself.
 */
@Controller('auth')
export class SessionsController {
  constructor(
    private readonly service: SessionsService,
    @Inject(BROWSER_SESSIONS) private readonly sessions: BrowserSessions | null,
  ) {}

  @Get('login')
  @Redirect()
  @ApiRoute({
    summary: 'Start browser sign-in at the identity provider',
    description: 'Redirects to the issuer’s authorization endpoint (authorization code flow with PKCE S256, state and nonce) and sets a short-lived sign-in cookie. 404 when browser sign-in is not configured.',
    tag: 'sessions',
    access: { public: 'a browser starts signing in here, before it holds any credential' },
    responses: { 302: { description: 'To the identity provider' } },
  })
  async login(@Res({ passthrough: true }) response: Response): Promise<{ url: string; statusCode: number }> {
    noStore(response);
    const step = await this.service.startSignIn();
    this.sessions?.cookies.write(response, 'sign-in', step.token, step.expiresAt);
    return { url: step.location, statusCode: 302 };
  }

  @Get('callback')
  @Redirect()
  @ApiRoute({
    summary: 'Complete browser sign-in (the redirect URI)',
    description: 'Checks the state against the sign-in cookie, exchanges the code with the PKCE verifier, checks the ID token, sets the session cookie and redirects to the landing path.',
    tag: 'sessions',
    access: { public: 'the identity provider sends the browser here with the authorization code; the sign-in cookie and the state prove it is this browser’s sign-in' },
    query: callbackQuery,
    responses: { 302: { description: 'Signed in: to the landing path (IM_SESSION_LANDING_PATH)' } },
  })
  async callback(@Query() query: CallbackQuery, @Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<{ url: string; statusCode: number }> {
    noStore(response);
    const cookies = this.sessions?.cookies;
    // Whatever the outcome, this sign-in is over: a failed one starts again from /auth/login.
    cookies?.clear(response, 'sign-in');
    const step = await this.service.completeSignIn(query, cookies?.read(request, 'sign-in'));
    cookies?.write(response, 'session', step.token, step.expiresAt);
    return { url: step.location, statusCode: 302 };
  }

  @Get('session')
  @ApiRoute({
    summary: 'Who is signed in in this browser, and the CSRF token of the session',
    description: '`authenticated: false` without a session cookie; 401 for a cookie that is not valid (ended, altered, or its key revoked).',
    tag: 'sessions',
    access: { public: 'it describes the caller’s own session cookie, and answers only `authenticated: false` without one' },
    responses: { 200: { description: 'The session, or that there is none', schema: sessionResponse } },
  })
  async session(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<SessionResponse> {
    noStore(response);
    return this.service.describe(this.sessions?.cookies.read(request, 'session'));
  }

  @Post('logout')
  @HttpCode(204)
  @ApiRoute({
    summary: 'Sign out: clear the session cookie',
    description: 'Requires `X-CSRF-Token` while the session is valid. Ends the session in this browser only: the identity provider’s own session stays.',
    tag: 'sessions',
    access: { public: 'it only clears the caller’s own session cookie, and requires the session’s CSRF token to do so' },
    responses: { 204: { description: 'Signed out (or there was no session)' } },
  })
  async logout(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<void> {
    noStore(response);
    const cleared = await this.service.signOut(this.sessions?.cookies.read(request, 'session'), request.headers['x-csrf-token']);
    if (cleared) this.sessions?.cookies.clear(response, 'session');
  }
}

/** Answers of these routes carry sessions and CSRF tokens: no cache may keep them. */
function noStore(response: Response): void {
  response.setHeader('Cache-Control', 'no-store');
}
