// The development IDE's routes and GET /: what is served in development, and that production
// serves none of it. The IDE's page in a browser is test/browser/ide.browser.ts.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { PLAN_ROLES } from '../../src/auth/roles.js';
import { createTokenVerifier } from '../../src/auth/tokenVerifier.js';
import { ideRouter } from '../../src/server/ideRoute.js';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/testServer.js';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';

async function listen(app: express.Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const mint = (url: string, body: unknown, contentType = 'application/json') => fetch(`${url}/ide/dev-token`, { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(body) });

describe('ideRouter (development)', () => {
  let dist: string;
  let site: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'ide-dist-'));
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>ide</title>');
    const app = express();
    app.use(ideRouter({ config: { JWT_SECRET: TEST_JWT_SECRET, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }, distDir: dist }));
    app.use('/graphql', (_req, res) => res.status(418).json({ passedOn: true }));
    site = await listen(app);
  });
  afterAll(async () => {
    await site.close();
    await rm(dist, { recursive: true, force: true });
  });

  it('serves the page to a browser (text/html) with its CSP, and passes GraphQL clients on', async () => {
    const page = await fetch(`${site.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>ide</title>');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    for (const accept of ['application/json', '*/*', 'application/graphql-response+json, application/json']) {
      const res = await fetch(`${site.url}/graphql?query={__typename}`, { headers: { accept } });
      expect(res.status).toBe(418);
    }
  });

  it('serves the example operations', async () => {
    const res = await fetch(`${site.url}/ide/operations.graphql`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('query WhoAmI');
  });

  it('mints a token the API verifier accepts, for the asked tenant, subject and roles', async () => {
    const res = await mint(site.url, { tenant: 't9', sub: 'ida', roles: ['plan-proposer'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { token: string; tenant: string; sub: string; roles: string[]; expiresAt: string };
    expect(body).toMatchObject({ tenant: 't9', sub: 'ida', roles: ['plan-proposer'] });
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    const principal = await createTokenVerifier({ JWT_SECRET: TEST_JWT_SECRET, JWT_JWKS_URL: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined })(body.token);
    expect(principal).toMatchObject({ tenantId: 't9', sub: 'ida' });
  });

  it('refuses bad requests with the problems named, and anything but JSON', async () => {
    const bad = await mint(site.url, { tenant: '', sub: 'a b', roles: ['plan-aprover'] });
    expect(bad.status).toBe(400);
    const { problems } = (await bad.json()) as { problems: string[] };
    expect(problems).toEqual([
      'tenant: is required',
      'sub: printable ASCII without spaces',
      'roles: unknown role "plan-aprover" (did you mean plan-approver?); valid roles are plan-viewer, plan-proposer, plan-approver, plan-admin',
    ]);
    const form = await mint(site.url, { tenant: 't1', sub: 'a', roles: ['plan-viewer'] }, 'text/plain');
    expect(form.status).toBe(415);
  });

  /** A raw POST with the headers a browser on a rebound name or a proxy would send (fetch would set Host itself). */
  const mintWith = (url: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ tenant: 'victim', sub: 'eve', roles: ['plan-approver'] });
      const req = http.request(`${url}/ide/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('refuses a rebound DNS name (Host or Origin not loopback) and any request through a proxy', async () => {
    const port = new URL(site.url).port;
    expect(await mintWith(site.url, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).toBe(200);
    expect(await mintWith(site.url, { host: `[::1]:${port}` })).toBe(200);
    // DNS rebinding: the browser connects to 127.0.0.1 but names the attacker's host.
    expect(await mintWith(site.url, { host: 'evil.example' })).toBe(404);
    expect(await mintWith(site.url, { host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).toBe(404);
    expect(await mintWith(site.url, { host: `127.0.0.1:${port}`, origin: 'http://evil.example' })).toBe(404);
    expect(await mintWith(site.url, { host: `127.0.0.1:${port}`, origin: 'null' })).toBe(404);
    // A reverse proxy on this host connects from loopback on behalf of anyone.
    expect(await mintWith(site.url, { host: `127.0.0.1:${port}`, 'x-forwarded-for': '203.0.113.9' })).toBe(404);
    expect(await mintWith(site.url, { host: `127.0.0.1:${port}`, forwarded: 'for=203.0.113.9' })).toBe(404);
  });

  it('says whether it mints, and for which roles (the dashboard asks before it offers to)', async () => {
    const res = await fetch(`${site.url}/ide/dev-token`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ roles: [...PLAN_ROLES] });
    expect(PLAN_ROLES).toContain('plan-viewer');
  });

  it('does not mint without JWT_SECRET (a JWKS setup)', async () => {
    const app = express();
    app.use(ideRouter({ config: { JWT_SECRET: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }, distDir: dist }));
    const other = await listen(app);
    try {
      expect((await fetch(`${other.url}/ide/dev-token`)).status).toBe(404);
      expect((await mint(other.url, { tenant: 't1', sub: 'a', roles: ['plan-viewer'] })).status).toBe(404);
    } finally {
      await other.close();
    }
  });

  it('answers 503 with the build command while the IDE is not built', async () => {
    const app = express();
    app.use(ideRouter({ config: { JWT_SECRET: TEST_JWT_SECRET, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }, distDir: join(dist, 'missing') }));
    const other = await listen(app);
    try {
      const res = await fetch(`${other.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run ide:build');
    } finally {
      await other.close();
    }
  });
});

describe.each([
  ['development', true],
  ['production', false],
])('the service with NODE_ENV=%s', (nodeEnv, servesIde) => {
  let server: TestServer;
  beforeAll(async () => {
    // Production requires a ledger signing key and a webhook secret key (any valid ones serve here).
    server = await startTestServer({ NODE_ENV: nodeEnv, LEDGER_SIGNING_KEY: generateSigningKey(), WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') });
  });
  afterAll(async () => {
    await server.close();
  });

  it('GET / leads to the dashboard', async () => {
    const res = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/dashboard/');
  });

  it(servesIde ? 'mounts the IDE routes and the token endpoint' : 'serves no IDE, no assets, no token endpoint', async () => {
    const examples = await fetch(`${server.url}/ide/operations.graphql`);
    expect(examples.status).toBe(servesIde ? 200 : 404);
    const minted = await mint(server.url, { tenant: 't1', sub: 'a', roles: ['plan-viewer'] });
    expect(minted.status).toBe(servesIde ? 200 : 404);
    expect((await fetch(`${server.url}/ide/dev-token`)).status).toBe(servesIde ? 200 : 404);
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    if (servesIde) expect([200, 503]).toContain(page.status); // 503 until `npm run ide:build` ran
    else {
      expect(page.status).toBeGreaterThanOrEqual(400);
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
    }
  });

  it(servesIde ? 'answers introspection without a token (the IDE loads the schema)' : 'refuses introspection', async () => {
    const res = await server.gql<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }');
    if (servesIde) expect(res.data?.__schema.queryType.name).toBe('Query');
    else expect(res.errors?.length).toBeGreaterThan(0);
  });
});
