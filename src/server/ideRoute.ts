import express, { type Request, type Router } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mintDevToken, parseDevTokenRequest } from '../auth/devToken.js';
import { PLAN_ROLES } from '../auth/roles.js';
import { isLoopbackHost, type AppConfig } from '../config/env.js';
import { findProjectRoot } from '../config/projectRoot.js';
import { pageContentSecurityPolicy, setPageSecurityHeaders } from './pageSecurity.js';

/** Lifetime of a token the IDE mints: a working day. */
const IDE_TOKEN_TTL_SECONDS = 8 * 3600;

/**
 * The IDE's page policy: its own scripts, styles, fonts and workers only (no CDN). Monaco writes
 * its styles into <style> elements at run time, hence 'unsafe-inline' for styles, and GraphiQL
 * inlines its fonts as data: URLs (scripts stay 'self').
 */
const CONTENT_SECURITY_POLICY = pageContentSecurityPolicy(["script-src 'self'", "worker-src 'self'", "style-src 'self' 'unsafe-inline'", "font-src 'self' data:"]);

export interface IdeRouterOptions {
  config: Pick<AppConfig, 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>;
  /** The built IDE (scripts/ide-build.mjs). */
  distDir?: string;
  /** The example operations shown as tabs. */
  examplesFile?: string;
}

/** A browser asking for a page (not a GraphQL client asking for JSON). */
function wantsPage(req: Request): boolean {
  return req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * A request a person on this machine sent to this service directly. The socket's address alone
 * is not enough: a reverse proxy on this host connects from loopback for anyone (so any
 * forwarding header turns minting off), and a page on a rebound DNS name reaches loopback from
 * the browser (so Host, and Origin when sent, must name loopback too).
 */
function fromThisMachine(req: Request): boolean {
  if (!isLoopbackHost(req.socket.remoteAddress ?? '')) return false;
  if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined || req.headers['x-real-ip'] !== undefined) return false;
  if (!isLoopbackHost(hostnameOf(req.headers.host))) return false;
  const origin = req.headers.origin;
  return origin === undefined || (URL.canParse(origin) && isLoopbackHost(new URL(origin).hostname));
}

/** The name part of a Host header ("localhost:4000" -> "localhost", "[::1]:4000" -> "::1"). */
function hostnameOf(host: string | undefined): string {
  if (!host || !URL.canParse(`http://${host}`)) return '';
  return new URL(`http://${host}`).hostname;
}

/**
 * The development GraphQL IDE (mounted only when NODE_ENV=development): `GET /graphql` from a
 * browser serves the bundled GraphiQL (ide/dist), `/ide/*` its assets and example operations,
 * and `POST /ide/dev-token` mints a development token like `npm run token` does (for requests
 * from this machine: loopback socket, Host and Origin, no proxy in between; and only when tokens
 * are HS256 with JWT_SECRET; `GET` tells whether it does). The IDE's token bar and the
 * dashboard's token panel use it.
 */
export function ideRouter({ config, distDir = join(findProjectRoot(), 'ide', 'dist'), examplesFile = join(findProjectRoot(), 'docs', 'operations.graphql') }: IdeRouterOptions): Router {
  const router = express.Router();
  const security = (res: express.Response) => {
    setPageSecurityHeaders(res, CONTENT_SECURITY_POLICY);
    res.setHeader('Cache-Control', 'no-cache');
  };

  router.get('/graphql', (req, res, next) => {
    if (!wantsPage(req)) {
      next();
      return;
    }
    security(res);
    const page = join(distDir, 'index.html');
    if (!existsSync(page)) {
      res.status(503).type('text/plain').send('The GraphQL IDE is not built. Run `npm run ide:build` (or `npm run build`), then reload.\n');
      return;
    }
    res.sendFile(page);
  });

  router.get('/ide/operations.graphql', (_req, res) => {
    security(res);
    res.type('text/plain').sendFile(examplesFile);
  });

  /** The secret to mint with when this request may mint; otherwise null, answered 404 (as if there were no such endpoint). */
  const mintingSecret = (req: Request, res: express.Response): string | null => {
    if (config.JWT_SECRET && fromThisMachine(req)) return config.JWT_SECRET;
    res.status(404).json({ message: 'development tokens are minted only for this machine, with JWT_SECRET (HS256)' });
    return null;
  };

  // Whether tokens are minted here, and for which roles: the dashboard asks before it offers to.
  router.get('/ide/dev-token', (req, res) => {
    if (!mintingSecret(req, res)) return;
    res.setHeader('Cache-Control', 'no-store');
    res.json({ roles: PLAN_ROLES });
  });

  router.post('/ide/dev-token', express.json({ limit: '4kb' }), (req, res, next) => {
    const secret = mintingSecret(req, res);
    if (!secret) return;
    // JSON only: a cross-site form post cannot send it without a CORS preflight, which fails.
    if (!req.is('application/json')) {
      res.status(415).json({ message: 'send application/json' });
      return;
    }
    const body = (req.body ?? {}) as { tenant?: unknown; roles?: unknown; sub?: unknown };
    const parsed = parseDevTokenRequest({ tenant: body.tenant, roles: body.roles, sub: body.sub, ttlSeconds: IDE_TOKEN_TTL_SECONDS });
    if (!parsed.ok) {
      res.status(400).json({ problems: parsed.problems });
      return;
    }
    const { request } = parsed;
    mintDevToken({ secret, tenantId: request.tenantId, roles: request.roles, sub: request.sub, ttlSeconds: request.ttlSeconds, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE })
      .then((token) => {
        res.setHeader('Cache-Control', 'no-store');
        res.json({ token, tenant: request.tenantId, sub: request.sub, roles: request.roles, expiresAt: new Date(Date.now() + request.ttlSeconds * 1000).toISOString() });
      })
      .catch(next);
  });

  router.use(
    '/ide',
    (_req, res, next) => {
      security(res);
      next();
    },
    express.static(distDir, { index: false, redirect: false, fallthrough: true, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }),
  );
  return router;
}
