// The dashboard's proposal-runs panel in a real browser (Debian chromium through playwright-core)
// against the real service and store: a finished run shows its outcomes and a full bar; a run
// started while the page is open is followed to its end without a reload. Screenshots go to
// test-artifacts/runs/. Run with `npm run test:browser` (or `npx tsx test/browser/runs.browser.ts`
// after `npm run dashboard:build`).
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { mintDevToken } from '../../src/auth/devToken.js';
import { assert, BrowserTestRig, expectTextWithin, log, prepareRun, ROOT, runBrowserTest, Steps } from './support.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'runs');
const SECRET = 'runs-browser-test-secret-0123456789abcdef';
const TIMEOUT_MS = 30_000;
const WATCHDOG_MS = 5 * 60_000;
const SIGNALS = [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45 }, { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 }];

const rig = new BrowserTestRig({ name: 'runs', dbName: `runs_${randomBytes(6).toString('hex')}`, secret: SECRET, env: { PROPOSAL_RUN_POLL_MS: '100' } });
let page: Page | null = null;
const steps = new Steps(TIMEOUT_MS, async (n) => {
  await page?.screenshot({ path: join(ARTIFACTS, `FAILED-${n}.png`), fullPage: true });
});
const { step } = steps;

async function gql<T>(bearer: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${rig.service?.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  assert(!body.errors && body.data, `API call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Creates and fills a run; starts it unless told not to. Its id. */
async function makeRun(bearer: string, accounts: string[], options: { dryRun: boolean; start: boolean }): Promise<string> {
  const { createProposalRun } = await gql<{ createProposalRun: { runId: string } }>(bearer, 'mutation($d: Boolean!) { createProposalRun(dryRun: $d) { runId } }', { d: options.dryRun });
  const runId = createProposalRun.runId;
  await gql(bearer, 'mutation($r: ID!, $i: [ProposePlanInput!]!) { addProposalRunItems(runId: $r, items: $i) { runId } }', {
    r: runId,
    i: accounts.map((accountId) => ({ accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS })),
  });
  if (options.start) await gql(bearer, 'mutation($r: ID!) { startProposalRun(runId: $r) { runId } }', { r: runId });
  return runId;
}

async function waitCompleted(bearer: string, runId: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const { proposalRun } = await gql<{ proposalRun: { status: string } }>(bearer, 'query($r: ID!) { proposalRun(runId: $r) { status } }', { r: runId });
    if (proposalRun.status === 'COMPLETED') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${runId} did not complete`);
}

async function run(): Promise<void> {
  await prepareRun(ARTIFACTS, 'dashboard');
  await rig.startStore();
  const service = await rig.startService();
  const token = await mintDevToken({ secret: SECRET, tenantId: 't1', roles: ['plan-proposer'], sub: 'alice', ttlSeconds: 1800 });
  // A finished real run: 4 accounts, one of them twice.
  const finished = await makeRun(token, ['b-1', 'b-2', 'b-3', 'b-4', 'b-2'], { dryRun: false, start: true });
  await waitCompleted(token, finished);
  // An OPEN dry run, started later while the page watches.
  const later = await makeRun(token, Array.from({ length: 60 }, (_, i) => `later-${i}`).concat(['b-1']), { dryRun: true, start: false });
  await rig.launchBrowser();
  const context = await rig.newContext({ width: 1400, height: 900 });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const p = page;

  await step('the panel lists the tenant’s runs, newest first, with status, progress and outcomes', async () => {
    await p.goto(`${service.url}/dashboard/`);
    await p.getByLabel('Bearer token').fill(token);
    await p.getByRole('button', { name: 'Use this token' }).click();
    await p.getByRole('heading', { name: 'Proposal runs' }).waitFor({ state: 'visible' });
    const rows = p.locator('#runs-section tr[data-run-id]');
    await rows.nth(1).waitFor({ state: 'visible' });
    assert((await rows.nth(0).getAttribute('data-run-id')) === later, 'the newest run comes first');
    const done = p.locator(`#runs-section tr[data-run-id="${finished}"]`);
    await expectTextWithin(done, 'COMPLETED', 'finished run status', 5000);
    await expectTextWithin(done, 'created 4', 'created count', 5000);
    await expectTextWithin(done, 'duplicate 1', 'duplicate count', 5000);
    const bar = done.getByRole('progressbar', { name: /5 of 5 items processed/ });
    assert((await bar.getAttribute('value')) === '5' && (await bar.getAttribute('max')) === '5', 'a finished run’s bar is full');
    await expectTextWithin(rows.nth(0), /OPEN.*dry run|dry run.*OPEN/, 'the open dry run', 5000);
    await expectTextWithin(rows.nth(0), 'pending 61', 'pending count of the open run', 5000);
  });

  await step('a run started while the page is open is followed to its end without a reload', async () => {
    await gql(token, 'mutation($r: ID!) { startProposalRun(runId: $r) { runId } }', { r: later });
    const row = p.locator(`#runs-section tr[data-run-id="${later}"]`);
    await expectTextWithin(row, 'COMPLETED', 'the started run completes on the page', 25_000);
    await expectTextWithin(row, 'would create 60', 'would-create count', 5000);
    await expectTextWithin(row, 'open plan 1', 'open-plan count', 5000);
    const bar = row.getByRole('progressbar');
    assert((await bar.getAttribute('value')) === '61', `bar value ${await bar.getAttribute('value')}`);
    await p.locator('#runs-section').screenshot({ path: join(ARTIFACTS, 'runs-panel.png') });
  });

  await step('nothing was requested outside 127.0.0.1', async () => {
    assert(rig.blocked.length === 0, `blocked requests: ${rig.blocked.join(', ')}`);
  });
  log(`runs browser test: screenshots in ${ARTIFACTS}`);
}

await runBrowserTest({ label: 'runs browser test', artifacts: ARTIFACTS, watchdogMs: WATCHDOG_MS, run, tally: () => steps.tally(), cleanup: () => rig.stop() });
