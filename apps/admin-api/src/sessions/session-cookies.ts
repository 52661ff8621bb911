import type { CookieOptions, Request, Response } from 'express';

export type CookieKind = 'session' | 'sign-in';

/**
 * The two cookies of browser sign-in. With `Secure` they carry the
 * `__Host-` prefix, which browsers only accept from a secure origin, for
 * `Path=/` and without `Domain`: a sibling subdomain cannot plant or
 * shadow them.
 */
export class SessionCookies {
  constructor(private readonly secure: boolean) {}

  name(kind: CookieKind): string {
    const base = kind === 'session' ? 'im_session' : 'im_sign_in';
    return this.secure ? `__Host-${base}` : base;
  }

  /** The cookie's value, undefined when the request has none (or only an empty one). */
  read(request: Request, kind: CookieKind): string | undefined {
    return readCookie(request.headers.cookie, this.name(kind));
  }

  write(response: Response, kind: CookieKind, value: string, expiresAt: Date): void {
    response.cookie(this.name(kind), value, { ...this.options(), maxAge: Math.max(0, expiresAt.getTime() - Date.now()) });
  }

  clear(response: Response, kind: CookieKind): void {
    response.clearCookie(this.name(kind), this.options());
  }

  private options(): CookieOptions {
    // HttpOnly: page scripts never see the session. Lax: sent on the top-level navigation back from the identity provider, not on cross-site posts.
    return { httpOnly: true, secure: this.secure, sameSite: 'lax', path: '/', encode: (value) => value };
  }
}

/** One cookie of a `Cookie` header; key ring tokens are URL-safe, so no decoding is needed (nor wanted). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    const value = pair.slice(at + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}
