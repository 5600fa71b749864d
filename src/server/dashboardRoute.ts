import express, { type Router } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectRoot } from '../config/projectRoot.js';

/**
 * A strict policy for the dashboard's pages: its own scripts and styles only (no inline code,
 * no CDN), requests only to this origin (POST /graphql), never framed.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the dashboard's built static assets (dashboard/dist) at /dashboard. */
export function dashboardRouter(distDir: string = join(findProjectRoot(), 'dashboard', 'dist')): Router {
  const router = express.Router();
  router.use((req, res, next) => {
    // The page loads its assets by relative URL, so it must be served as /dashboard/ (with the slash).
    if (req.originalUrl === '/dashboard' || req.originalUrl.startsWith('/dashboard?')) {
      res.redirect(301, `/dashboard/${req.originalUrl.slice('/dashboard'.length)}`);
      return;
    }
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  router.use(
    express.static(distDir, {
      index: 'index.html',
      fallthrough: true,
      redirect: false,
      // File names carry no content hash: always revalidate (cheap, thanks to ETag / Last-Modified).
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  router.get('/', (_req, res) => {
    if (existsSync(join(distDir, 'index.html'))) {
      res.status(404).end();
      return;
    }
    res.status(503).type('text/plain').send('The dashboard is not built. Run `npm run dashboard:build` (or `npm run build`), then reload.\n');
  });
  return router;
}
