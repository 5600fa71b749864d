// The dashboard's webhooks panel in a real browser (Debian chromium through playwright-core):
// a plan-admin sees the tenant's endpoints and recent deliveries (delivered to a loopback
// receiver that verifies every request with `standardwebhooks`), sends a test event from the
// page, and a viewer does not see the panel. Screenshots under test-artifacts/webhooks/.
// Run with `npm run test:browser` (or `npx tsx test/browser/webhooks.browser.ts` after `npm run dashboard:build`).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { mintDevToken } from '../../src/auth/devToken.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';
import { assert, BrowserTestRig, expectTextWithin, log, prepareRun, ROOT, runBrowserTest, Steps } from './support.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'webhooks');
const SECRET = 'webhooks-browser-test-secret-0123456789abcdef';
const TENANT = 'hooks';
const TIMEOUT_MS = 15_000;
const KEY_DIR = join(tmpdir(), `webhooks-browser-keys-${randomBytes(6).toString('hex')}`);

const rig = new BrowserTestRig({
  name: 'webhooks',
  dbName: `webhooks_${randomBytes(6).toString('hex')}`,
  secret: SECRET,
  env: { DATA_DIR: KEY_DIR, WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_POLL_INTERVAL_MS: '200', LEDGER_CHECKPOINT_INTERVAL_MS: '200' },
});
const steps = new Steps(TIMEOUT_MS * 3, (n) => page.screenshot({ path: join(ARTIFACTS, `FAILED-${n}.png`), fullPage: true }).then(() => undefined));
const { step } = steps;
let page: Page;
let receiver: WebhookReceiver | null = null;
const pageErrors: string[] = [];

const token = (roles: string[], sub: string) => mintDevToken({ secret: SECRET, tenantId: TENANT, roles, sub, ttlSeconds: 3600 });

async function gql<T>(bearer: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${rig.service?.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  assert(!body.errors && body.data, `API call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function signIn(bearer: string): Promise<void> {
  await page.goto(`${rig.service?.url}/dashboard/`);
  const signOut = page.locator('#sign-out');
  if (await signOut.isVisible()) await signOut.click();
  await page.getByLabel('Bearer token').fill(bearer);
  await page.getByRole('button', { name: 'Use this token' }).click();
  await page.locator('#viewer-sub').waitFor({ state: 'visible' });
}

async function run(): Promise<void> {
  await prepareRun(ARTIFACTS, 'dashboard');
  await rig.startStore();
  await rig.startService();
  receiver = await startWebhookReceiver();
  await rig.launchBrowser();
  const context = await rig.newContext({ width: 1400, height: 900 });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  log(`webhooks browser test: service at ${rig.service?.url}`);

  const admin = await token(['plan-admin', 'plan-proposer', 'plan-approver'], 'ada');
  const viewer = await token(['plan-viewer'], 'vic');

  await step('an admin with no endpoints sees the empty state', async () => {
    await signIn(admin);
    await page.locator('#webhooks-section').waitFor({ state: 'visible' });
    await expectTextWithin(page.locator('#webhook-endpoints-empty'), 'No webhook endpoints', 'empty endpoints', TIMEOUT_MS);
  });

  let endpointId = '';
  await step('an endpoint and its deliveries show, each delivery verified by the receiver', async () => {
    const created = await gql<{ createWebhookEndpoint: { secret: string; endpoint: { endpointId: string } } }>(admin, 'mutation($u: String!) { createWebhookEndpoint(url: $u) { secret endpoint { endpointId } } }', { u: receiver?.url });
    receiver?.secrets.push(created.createWebhookEndpoint.secret);
    endpointId = created.createWebhookEndpoint.endpoint.endpointId;
    const planId = (await gql<{ proposePlan: { plan: { planId: string } } }>(admin, 'mutation($i: ProposePlanInput!) { proposePlan(input: $i) { plan { planId } } }', { i: { accountId: 'acct-1', planType: 'RENEWAL_DEFENSE', signals: [] } })).proposePlan.plan.planId;
    await gql(admin, 'mutation($p: ID!) { approvePlan(planId: $p) { ok } }', { p: planId });
    const deadline = Date.now() + TIMEOUT_MS;
    while ((receiver?.deliveredIds().size ?? 0) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert(receiver?.deliveredIds().size === 2, `the receiver got ${receiver?.deliveredIds().size} events`);
    assert(receiver.unverified().length === 0, 'every request verified');
    await page.locator('#webhooks-refresh').click();
    await expectTextWithin(page.locator(`#webhook-endpoints tr[data-endpoint-id="${endpointId}"]`), receiver.url, 'endpoint row', TIMEOUT_MS);
    await expectTextWithin(page.locator(`#webhook-endpoints tr[data-endpoint-id="${endpointId}"] td.state`), 'enabled', 'endpoint state', TIMEOUT_MS);
    // A delivery's outcome is stored shortly after the receiver answered (outcomes share one insert): refresh until both show.
    const rows = page.locator('#webhook-deliveries tbody tr[data-status="DELIVERED"]');
    for (let tries = 0; (await rows.count()) < 2 && tries < 20; tries++) {
      await new Promise((r) => setTimeout(r, 250));
      await page.locator('#webhooks-refresh').click();
    }
    assert((await rows.count()) === 2, `2 delivered rows, saw ${await rows.count()}`);
    await expectTextWithin(page.locator('#webhook-deliveries'), 'PLAN_APPROVED', 'approved event row', TIMEOUT_MS);
    await expectTextWithin(page.locator('#webhook-deliveries'), 'HTTP 200', 'last answer', TIMEOUT_MS);
    await page.screenshot({ path: join(ARTIFACTS, '01-endpoints-and-deliveries.png'), fullPage: true });
  });

  await step('"Send test" queues a webhook.test event that reaches the receiver and the list', async () => {
    await page.locator(`#webhook-endpoints tr[data-endpoint-id="${endpointId}"] button.send-test`).click();
    await expectTextWithin(page.locator('#live'), 'Test event queued', 'announcement', TIMEOUT_MS);
    const deadline = Date.now() + TIMEOUT_MS;
    while (!receiver?.received.some((r) => r.json.type === 'webhook.test') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert(receiver?.received.some((r) => r.json.type === 'webhook.test' && r.verifiedBy.length === 1), 'the receiver got a verified webhook.test');
    await page.locator('#webhooks-refresh').click();
    await expectTextWithin(page.locator('#webhook-deliveries tbody tr').first(), 'webhook.test', 'test row first', TIMEOUT_MS);
    await page.screenshot({ path: join(ARTIFACTS, '02-test-event.png'), fullPage: true });
  });

  await step('a viewer does not see the webhooks panel', async () => {
    await signIn(viewer);
    await page.locator('#plans-section').waitFor({ state: 'visible' });
    await page.waitForTimeout(300);
    assert(await page.locator('#webhooks-section').isHidden(), 'the panel is hidden for a viewer');
  });

  await step('no uncaught errors in the page', async () => {
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
  });
}

await runBrowserTest({
  label: 'webhooks browser test',
  artifacts: ARTIFACTS,
  watchdogMs: 4 * 60_000,
  run,
  tally: () => steps.tally(),
  cleanup: async () => {
    await receiver?.close();
    await rig.stop();
    await rm(KEY_DIR, { recursive: true, force: true }).catch(() => undefined);
  },
});
