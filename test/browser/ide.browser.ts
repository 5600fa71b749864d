// The development GraphQL IDE in a real browser (Debian chromium through playwright-core), with
// every request that is not to 127.0.0.1 aborted and recorded: the IDE must render, load the
// schema (with and without a token), and run the examples with a token it mints itself, all from
// this service. Run with `npm run test:browser` (it builds the IDE first). Screenshots go to
// test-artifacts/ide/.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { assert, BrowserTestRig, expectTextWithin, log, prepareRun, ROOT, runBrowserTest, Steps } from './support.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'ide');
const SECRET = 'ide-browser-test-secret-0123456789abcdef0123';
const STEP_TIMEOUT_MS = 60_000;
const ACTION_TIMEOUT_MS = 15_000;
const WATCHDOG_MS = 5 * 60_000;
const DB_NAME = `ide_${randomBytes(6).toString('hex')}`;

const rig = new BrowserTestRig({ name: 'ide', dbName: DB_NAME, secret: SECRET });
const steps = new Steps(STEP_TIMEOUT_MS, async (n) => {
  await page.screenshot({ path: join(ARTIFACTS, `FAILED-${n}.png`) });
});
const { step } = steps;
let context: BrowserContext;
let page: Page;
let baseUrl = '';
const pageErrors: string[] = [];
const consoleErrors: string[] = [];

const expectText = (locator: Locator, expected: string | RegExp, what: string, timeoutMs = ACTION_TIMEOUT_MS) => expectTextWithin(locator, expected, what, timeoutMs);

/** The response pane's text (Monaco renders it as lines of spans; non-breaking spaces included). */
const responseText = () => page.locator('.graphiql-response');

async function openIde(target: Page): Promise<void> {
  await target.goto(`${baseUrl}/graphql`);
  await target.locator('.graphiql-container').waitFor({ state: 'visible', timeout: ACTION_TIMEOUT_MS });
}

const newContext = () => rig.newContext({ width: 1400, height: 900 });

async function newPage(ctx: BrowserContext = context): Promise<Page> {
  const p = await ctx.newPage();
  p.setDefaultTimeout(ACTION_TIMEOUT_MS);
  p.on('pageerror', (err) => pageErrors.push(err.message));
  p.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  return p;
}

async function run(): Promise<void> {
  await prepareRun(ARTIFACTS, 'ide');
  await rig.startStore();
  baseUrl = (await rig.startService()).url;
  log(`IDE browser test: service at ${baseUrl}`);
  await rig.launchBrowser();
  context = await newContext();
  page = await newPage();

  await step('GET /graphql: a browser gets the IDE page (own CSP, no CDN); a GraphQL client does not', async () => {
    const html = await fetch(`${baseUrl}/graphql`, { headers: { accept: 'text/html' } });
    assert(html.status === 200, `GET /graphql (text/html): status ${html.status}`);
    const csp = html.headers.get('content-security-policy') ?? '';
    assert(csp.includes("script-src 'self'") && csp.includes("connect-src 'self'"), `CSP: ${csp}`);
    const body = await html.text();
    assert(!/https?:\/\//.test(body), 'the page names no outside URL');
    const json = await fetch(`${baseUrl}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
    assert((json.headers.get('content-type') ?? '').includes('json'), `GET /graphql (json) answers JSON, got ${json.headers.get('content-type')}`);
  });

  await step('renders GraphiQL with the examples of docs/operations.graphql as tabs and a minted token', async () => {
    await openIde(page);
    await expectText(page.locator('#ide-token-status'), 'sending a token for dev-user in t1 (plan-proposer, plan-approver)', 'token status');
    const tabs = await page.locator('.graphiql-tab').allTextContents();
    assert(tabs.length >= 10, `tabs: ${JSON.stringify(tabs)}`);
    assert(tabs[0]?.includes('WhoAmI') && tabs.some((t) => t.includes('ProposePlan')), `tab titles: ${JSON.stringify(tabs)}`);
    await expectText(page.locator('.graphiql-query-editor'), 'query WhoAmI', 'query editor');
  });

  await step('loads the schema: the docs explorer shows Query and its fields', async () => {
    await page.getByRole('button', { name: /Documentation Explorer/ }).click();
    await expectText(page.locator('.graphiql-doc-explorer'), 'Query', 'docs explorer root types');
    await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().click();
    await expectText(page.locator('.graphiql-doc-explorer'), 'planTypes', 'Query fields');
  });

  await step('runs the WhoAmI example with the minted token', async () => {
    await page.getByRole('button', { name: /^Execute query/ }).click();
    const text = await expectText(responseText(), /"tenantId":\s*"t1"/, 'WhoAmI response');
    assert(text.includes('dev-user') && text.includes('plan-approver'), `WhoAmI response: ${text.slice(0, 300)}`);
    await page.screenshot({ path: join(ARTIFACTS, '01-whoami.png') });
  });

  await step('runs the ProposePlan example (its variables from the comment) and gets a DRAFT', async () => {
    await page.locator('.graphiql-tab', { hasText: 'ProposePlan' }).first().click();
    await expectText(page.locator('.graphiql-query-editor'), 'mutation ProposePlan', 'query editor');
    // GraphiQL re-reads the operation name from the editor shortly after a tab switch.
    await page.waitForTimeout(1000);
    await page.getByRole('button', { name: /^Execute query/ }).click();
    await expectText(responseText(), /"status":\s*"DRAFT"/, 'ProposePlan response');
    await page.screenshot({ path: join(ARTIFACTS, '02-propose.png') });
  });

  await step('mints a viewer-only token from the bar; proposing is then FORBIDDEN', async () => {
    await page.getByRole('checkbox', { name: 'proposer' }).uncheck();
    await page.getByRole('checkbox', { name: 'approver' }).uncheck();
    await page.getByRole('checkbox', { name: 'viewer' }).check();
    await page.getByLabel('Sub').fill('victor');
    await page.getByRole('button', { name: 'Mint token' }).click();
    await expectText(page.locator('#ide-token-status'), 'sending a token for victor in t1 (plan-viewer)', 'token status');
    await page.getByRole('button', { name: /^Execute query/ }).click();
    await expectText(responseText(), 'FORBIDDEN', 'ProposePlan as a viewer');
  });

  await step('a role typo in the bar is refused, naming the valid roles', async () => {
    const before = consoleErrors.length;
    const res = await page.evaluate(async () => {
      const r = await fetch('/ide/dev-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 't1', roles: ['plan-aprover'], sub: 'x' }) });
      return { status: r.status, body: await r.text() };
    });
    assert(res.status === 400 && res.body.includes('did you mean plan-approver') && res.body.includes('valid roles are'), `dev-token answer: ${JSON.stringify(res)}`);
    await page.waitForTimeout(200);
    // The browser logs the 400 it was asked to provoke.
    consoleErrors.splice(before, consoleErrors.length - before, ...consoleErrors.slice(before).filter((t) => !/status of 400/.test(t)));
  });

  await step('the schema loads without a token (minting blocked): the docs explorer still shows Query', async () => {
    // A fresh browser profile: GraphiQL keeps its panels' state in localStorage.
    const fresh = await newContext();
    const second = await newPage(fresh);
    await second.route('**/ide/dev-token', (route) => route.abort());
    const before = consoleErrors.length;
    await openIde(second);
    await expectText(second.locator('#ide-token-status'), 'no token minted', 'token status without minting');
    await second.getByRole('button', { name: /Documentation Explorer/ }).click();
    await expectText(second.locator('.graphiql-doc-explorer'), 'Query', 'docs explorer without a token');
    await second.screenshot({ path: join(ARTIFACTS, '03-no-token-schema.png') });
    // The aborted mint is logged by the browser as a failed request: that one is expected.
    consoleErrors.splice(before, consoleErrors.length - before, ...consoleErrors.slice(before).filter((t) => !/Failed to load resource/.test(t)));
    await fresh.close();
  });

  await step('nothing was requested outside 127.0.0.1, no page errors, no console errors', async () => {
    assert(rig.blocked.length === 0, `requests outside this machine: ${JSON.stringify(rig.blocked.slice(0, 10))}`);
    assert(pageErrors.length === 0, `page errors: ${JSON.stringify(pageErrors.slice(0, 5))}`);
    assert(consoleErrors.length === 0, `console errors: ${JSON.stringify(consoleErrors.slice(0, 5))}`);
  });
}

await runBrowserTest({ label: 'IDE browser test', artifacts: ARTIFACTS, watchdogMs: WATCHDOG_MS, run, tally: () => steps.tally(), cleanup: () => rig.stop() });
