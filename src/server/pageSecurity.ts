import type { Response } from 'express';

/**
 * A page's Content-Security-Policy: what it may load of its own (`own`: scripts, styles, …) on
 * top of what every page here says: nothing by default, images and requests from this origin
 * only, no <base>, no form posts, never framed.
 */
export function pageContentSecurityPolicy(own: readonly string[]): string {
  return ["default-src 'none'", ...own, "img-src 'self' data:", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ');
}

/** The headers every page and asset of ours carries: its policy, no MIME sniffing, no referrer. */
export function setPageSecurityHeaders(res: Response, contentSecurityPolicy: string): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}
