import express, { type Router } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectRoot } from '../config/projectRoot.js';
import { pageContentSecurityPolicy, setPageSecurityHeaders } from './pageSecurity.js';

/** The dashboard's own scripts and styles only (no inline code, no CDN); it posts only to this origin's /graphql. */
const CONTENT_SECURITY_POLICY = pageContentSecurityPolicy(["script-src 'self'", "style-src 'self'"]);

/** Serves the dashboard's built static assets (dashboard/dist) at /dashboard. */
export function dashboardRouter(distDir: string = join(findProjectRoot(), 'dashboard', 'dist')): Router {
  const router = express.Router();
  router.use((req, res, next) => {
    // The page loads its assets by relative URL, so it must be served as /dashboard/ (with the slash).
    if (req.originalUrl === '/dashboard' || req.originalUrl.startsWith('/dashboard?')) {
      res.redirect(301, `/dashboard/${req.originalUrl.slice('/dashboard'.length)}`);
      return;
    }
    setPageSecurityHeaders(res, CONTENT_SECURITY_POLICY);
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
