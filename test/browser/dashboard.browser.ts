// End-to-end test of the plans dashboard in a real browser (Debian chromium through playwright-core).
// Run with `npm run test:browser` (it builds the dashboard first). Not part of jest: it starts its
// own embedded store (or uses MONGODB_URI) and the real service on a free port, drives the page
// like a person would, and saves screenshots under test-artifacts/dashboard/.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient, type Document } from 'mongodb';
import type { Locator, Page } from 'playwright-core';
import { mintDevToken } from '../../src/auth/devToken.js';
import { hashLedgerEntry } from '../../src/store/ledgerHash.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { assert, BrowserTestRig, expectTextWithin, log, prepareRun, ROOT, runBrowserTest, Steps } from './support.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'dashboard');
const DOCS_SCREENSHOT = resolve(ROOT, 'docs', 'dashboard.png');
/** docs/dashboard.png is committed: it is rewritten only on request (UPDATE_DOCS_SCREENSHOT=1). */
const UPDATE_DOCS_SCREENSHOT = process.env['UPDATE_DOCS_SCREENSHOT'] === '1';
const SECRET = 'browser-test-secret-0123456789abcdef0123456789';
const STEP_TIMEOUT_MS = 45_000;
const ACTION_TIMEOUT_MS = 10_000;
const WATCHDOG_MS = 6 * 60_000;

// The database is new on every run, so the tenant can be the README's t1.
const TENANT = 't1';
const DB_NAME = `browser_${randomBytes(6).toString('hex')}`;
const KEY_DIR = join(tmpdir(), `dashboard-browser-key-${randomBytes(6).toString('hex')}`);

const rig = new BrowserTestRig({
  name: 'dashboard',
  dbName: DB_NAME,
  secret: SECRET,
  // The development signing key lives in DATA_DIR: the same one across the test's restarts.
  env: { DATA_DIR: KEY_DIR, LEDGER_CHECKPOINT_INTERVAL_MS: '200' },
});
const steps = new Steps(STEP_TIMEOUT_MS, (n) => screenshot(`FAILED-${n}`));
const { step } = steps;
let page: Page;
let baseUrl = '';
let port = 0;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
/** Console errors a step provokes on purpose (the browser logs failed requests). */
let allowedConsoleErrors: RegExp | null = null;

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, timeout: ACTION_TIMEOUT_MS });
}

function assertEqual<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}

const expectText = (locator: Locator, expected: string | RegExp, what: string, timeoutMs = ACTION_TIMEOUT_MS) => expectTextWithin(locator, expected, what, timeoutMs);

async function expectCount(locator: Locator, expected: number, what: string, timeoutMs = ACTION_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < deadline) {
    last = await locator.count();
    if (last === expected) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: expected ${expected}, got ${last}`);
}

async function token(roles: string[], sub: string): Promise<string> {
  return mintDevToken({ secret: SECRET, tenantId: TENANT, roles, sub, ttlSeconds: 1800 });
}

async function api<T>(query: string, variables: Record<string, unknown>, bearer: string): Promise<T> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`API call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function startTheService(fixedPort = 0, timeoutMs = 60_000): Promise<void> {
  const service = await rig.startService(fixedPort, timeoutMs);
  port = service.port;
  baseUrl = service.url;
}

const planStatus = () => page.locator('#plan-card .plan-summary').getAttribute('data-status', { timeout: ACTION_TIMEOUT_MS });
const timelineTypes = () => page.locator('#timeline li[data-event-type]').evaluateAll((els) => els.map((el) => el.getAttribute('data-event-type')));
const liveRegion = () => page.locator('#live');

async function expectStatus(expected: string): Promise<void> {
  const deadline = Date.now() + ACTION_TIMEOUT_MS;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await planStatus().catch(() => null);
    if (last === expected) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`plan status: expected ${expected}, got ${String(last)}`);
}

async function run(): Promise<void> {
  await prepareRun(ARTIFACTS, 'dashboard');
  await rig.startStore();
  await startTheService();
  log(`dashboard browser test: service at ${baseUrl}, tenant ${TENANT}`);

  await rig.launchBrowser();
  const context = await rig.newContext({ width: 1440, height: 900 });
  page = await context.newPage();
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(15_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (allowedConsoleErrors?.test(text)) return;
    consoleErrors.push(text);
  });

  const alice = await token(['plan-proposer', 'plan-approver'], 'alice');
  const viewerOnly = await token(['plan-viewer'], 'victor');

  await step('serves /dashboard (redirect to /dashboard/, CSP, no-cache) and shows the token form with the mint command', async () => {
    const redirect = await fetch(`${baseUrl}/dashboard`, { redirect: 'manual', signal: AbortSignal.timeout(ACTION_TIMEOUT_MS) });
    assertEqual(redirect.status, 301, 'GET /dashboard status');
    assertEqual(redirect.headers.get('location'), '/dashboard/', 'redirect location');
    const index = await fetch(`${baseUrl}/dashboard/`, { signal: AbortSignal.timeout(ACTION_TIMEOUT_MS) });
    assertEqual(index.status, 200, 'GET /dashboard/ status');
    assert(index.headers.get('content-security-policy')?.includes("script-src 'self'"), 'a Content-Security-Policy header');
    assertEqual(index.headers.get('cache-control'), 'no-cache', 'Cache-Control');
    await page.goto(`${baseUrl}/dashboard`);
    assertEqual(new URL(page.url()).pathname, '/dashboard/', 'page path after redirect');
    await page.locator('#token-section').waitFor({ state: 'visible' });
    await expectText(page.locator('#token-command'), 'npm run token -- --tenant t1 --roles plan-proposer,plan-approver --sub alice', 'mint command');
    assert(await page.locator('#dashboard').isHidden(), 'the dashboard stays hidden without a token');
    await screenshot('01-token-form');
  });

  await step('in development the token panel mints a token itself: no terminal needed (and not offered where the service mints none)', async () => {
    const form = page.locator('#mint-form');
    await form.waitFor({ state: 'visible' });
    assertEqual(await page.getByLabel('Tenant', { exact: true }).inputValue(), 't1', 'tenant prefilled');
    assertEqual(await page.getByLabel('Subject', { exact: true }).inputValue(), 'alice', 'subject prefilled');
    const ticked = await form.locator('input[type="checkbox"]:checked').evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value));
    assertEqual(ticked, ['plan-proposer', 'plan-approver'], 'roles ticked at first');
    // A mistake is named (the service answers 400, which the browser logs), and nothing is stored.
    allowedConsoleErrors = /status of 400/;
    await page.getByLabel('Tenant', { exact: true }).fill('has space');
    await form.getByRole('button', { name: 'Mint and connect' }).click();
    await expectText(page.locator('#mint-error'), 'tenant', 'mint error names the field');
    allowedConsoleErrors = null;
    assertEqual(await page.evaluate(() => sessionStorage.length), 0, 'nothing stored for a refused mint');
    // Mint for another subject with the viewer role only: the page signs in with it.
    await page.getByLabel('Tenant', { exact: true }).fill(TENANT);
    await page.getByLabel('Subject', { exact: true }).fill('mina');
    await page.getByLabel('plan-proposer').uncheck();
    await page.getByLabel('plan-approver').uncheck();
    await page.getByLabel('plan-viewer').check();
    await screenshot('01b-mint-form');
    await form.getByRole('button', { name: 'Mint and connect' }).click();
    await expectText(page.locator('#viewer-sub'), 'mina', 'signed in as the minted subject');
    await expectText(page.locator('#viewer-tenant'), TENANT, 'minted tenant');
    assertEqual(await page.locator('#viewer-roles .chip').allTextContents(), ['plan-viewer'], 'minted roles');
    const [stored] = await page.evaluate(() => Object.values({ ...sessionStorage }));
    const claims = JSON.parse(Buffer.from(String(stored).split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string; tenant_id?: string };
    assertEqual(claims.sub, 'mina', 'the stored token is the minted one');
    // Signing out returns to the panel; where the service mints none (production: no such
    // endpoint, 404), the page offers no minting.
    await page.getByRole('button', { name: 'Change token' }).click();
    await page.route('**/ide/dev-token', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"message":"not here"}' }));
    allowedConsoleErrors = /404/;
    await page.reload();
    await page.locator('#token-section').waitFor({ state: 'visible' });
    await page.waitForTimeout(300);
    assert(await form.isHidden(), 'no mint form where the service does not mint');
    await page.unroute('**/ide/dev-token');
    allowedConsoleErrors = null;
    await page.reload();
    await form.waitFor({ state: 'visible' });
  });

  await step('a bad token is refused with UNAUTHENTICATED and a readable message', async () => {
    await page.getByLabel('Bearer token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Use this token' }).click();
    await expectText(page.locator('#token-error [data-error-code]'), 'UNAUTHENTICATED', 'token error');
    await expectText(page.locator('#token-error'), 'did not accept your token', 'readable message');
    await expectText(liveRegion(), 'UNAUTHENTICATED', 'live region');
    assertEqual(await page.getByLabel('Bearer token').getAttribute('aria-invalid'), 'true', 'token field marked invalid');
    assertEqual(await page.evaluate(() => sessionStorage.length), 0, 'nothing stored for a bad token');
    await screenshot('02-bad-token');
  });

  await step('a good token shows who you are (viewer, roles) and the empty states', async () => {
    await page.getByLabel('Bearer token').fill(alice);
    await page.getByRole('button', { name: 'Use this token' }).click();
    await expectText(page.locator('#viewer-sub'), 'alice', 'viewer sub');
    await expectText(page.locator('#viewer-tenant'), TENANT, 'viewer tenant');
    const roles = await expectText(page.locator('#viewer-roles'), 'plan-approver', 'viewer roles');
    assert(roles.includes('plan-proposer'), `roles shown: ${roles}`);
    await expectText(page.locator('#plans-empty'), 'No plans yet — propose one', 'plans empty state');
    await expectText(page.locator('#chart-empty'), 'No ledger events', 'chart empty state');
    await expectText(page.locator('#plan-card'), 'Select a plan', 'card empty state');
    const stored = await page.evaluate(() => Object.values({ ...sessionStorage }));
    assertEqual(stored, [alice], 'the token is kept in sessionStorage');
    await screenshot('03-connected-empty');
  });

  await step('proposes a plan through the form (source, dropped steps, plan card with ordered steps)', async () => {
    await page.locator('#plans-empty').getByRole('button', { name: 'Propose a plan' }).click();
    const focused = await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name);
    assertEqual(focused, 'accountId', 'the empty state button moves focus to the form');
    const signals = await page.getByLabel('Signals (JSON array)').inputValue();
    assert(signals.includes('RENEWAL_WINDOW') && signals.includes('SUPPORT_RISK'), 'example signals are prefilled');
    await page.locator('#propose-form').getByLabel('Account id').fill('acct-ui-1');
    await page.getByRole('button', { name: 'Propose plan' }).click();
    await expectText(page.locator('#propose-source'), 'RULES', 'proposal source');
    await expectText(page.locator('#propose-dropped'), /None|—/, 'dropped steps');
    await expectText(page.locator('#plan-card-heading'), 'Plan for acct-ui-1', 'card heading');
    await expectStatus('DRAFT');
    const steps = await page.locator('#plan-card .step-list li').evaluateAll((els) => els.map((el) => [el.getAttribute('data-sequence'), el.getAttribute('data-action-type')]));
    assertEqual(
      steps.map((s) => s[1]),
      ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'],
      'steps in sequence order',
    );
    const sequences = steps.map((s) => Number(s[0]));
    assertEqual([...sequences].sort((a, b) => a - b), sequences, 'sequence numbers ascend');
    assertEqual(await timelineTypes(), ['PLAN_CREATED'], 'timeline after proposing');
    await expectText(page.locator('#timeline li').first(), 'alice', 'PLAN_CREATED actor');
    await expectText(page.locator('#ledger-verification'), 'Chain verified: 1 entry', 'verification');
    await expectCount(page.locator('#plans-list tr[data-plan-id]'), 1, 'rows in the list');
    await expectText(page.locator('button.count[data-status="DRAFT"]'), '1', 'DRAFT count');
    await screenshot('04-proposed');
  });

  await step('approves the plan; the timeline grows to PLAN_CREATED then PLAN_APPROVED', async () => {
    await page.locator('#plan-card button[data-action="approve"]').click();
    await expectStatus('APPROVED');
    await expectCount(page.locator('#timeline li'), 2, 'timeline entries');
    assertEqual(await timelineTypes(), ['PLAN_CREATED', 'PLAN_APPROVED'], 'timeline order');
    await expectText(page.locator('#timeline li').nth(1), 'by alice', 'PLAN_APPROVED actor');
    await expectText(page.locator('#timeline li').nth(1), /hash [0-9a-f]{12}/, 'short hash');
    await expectText(page.locator('#ledger-verification'), 'Chain verified: 2 entries', 'verification');
    await expectText(page.locator('#action-result'), 'Plan approved', 'result');
    await expectText(liveRegion(), 'Plan approved', 'live region');
    await expectText(page.locator('#plan-card'), 'Approved', 'approved fact');
    await screenshot('05-approved');
  });

  await step('activating with preconditions unchecked is refused: PRECONDITIONS_UNMET is shown, plan unchanged', async () => {
    const checkbox = page.getByLabel(/Preconditions met/);
    assert(!(await checkbox.isChecked()), 'preconditions start unchecked');
    await page.locator('#plan-card button[data-action="activate"]').click();
    const reason = page.locator('#action-result [data-reason-code="PRECONDITIONS_UNMET"]');
    await expectText(reason, 'PRECONDITIONS_UNMET', 'gate reason code');
    const text = await expectText(reason, /PRECONDITIONS_UNMET — \S+/, 'gate reason message');
    log(`       shown: ${text}`);
    await expectText(page.locator('#action-result'), 'refused', 'refusal title');
    await expectText(liveRegion(), 'PRECONDITIONS_UNMET', 'live region');
    await expectStatus('APPROVED');
    assertEqual(await timelineTypes(), ['PLAN_CREATED', 'PLAN_APPROVED'], 'a refusal writes nothing');
    await screenshot('06-refused-preconditions');
  });

  await step('activates (preconditions met), pauses, and aborts with a reason using the keyboard', async () => {
    await page.getByLabel(/Preconditions met/).check();
    await page.locator('#plan-card button[data-action="activate"]').click();
    await expectStatus('ACTIVE');
    await page.locator('#plan-card button[data-action="pause"]').click();
    await expectStatus('PAUSED');
    // Keyboard only: focus "Abort…", Enter opens the reason form with focus in it, Enter submits.
    await page.locator('#plan-card button[data-action="abort-open"]').focus();
    await page.keyboard.press('Enter');
    const focusedLabel = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      return el?.labels?.[0]?.textContent ?? null;
    });
    assert(focusedLabel?.includes('Reason for aborting'), `focus moves to the reason field (got ${String(focusedLabel)})`);
    await page.keyboard.press('Enter'); // empty reason: refused client-side
    await expectText(liveRegion(), 'Give a reason', 'empty reason message');
    await page.keyboard.type('Customer renewed early');
    await page.keyboard.press('Enter');
    await expectStatus('ABORTED');
    assertEqual(await timelineTypes(), ['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'PLAN_PAUSED', 'PLAN_ABORTED'], 'full story');
    await expectText(page.locator('#timeline li[data-event-type="PLAN_ABORTED"] .entry-reason'), 'Customer renewed early', 'abort reason in the timeline');
    await expectText(page.locator('#ledger-verification'), 'Chain verified: 5 entries', 'verification');
    await expectText(page.locator('#plan-card .lifecycle'), 'final status', 'no actions on a terminal plan');
    await screenshot('07-aborted-story');
  });

  await step('GraphQL errors are shown by extensions.code (BAD_USER_INPUT from the service)', async () => {
    allowedConsoleErrors = /status of 400 \(Bad Request\)/; // Apollo answers a variable it cannot coerce with HTTP 400
    await page.getByLabel('Signals (JSON array)').fill('[{ "type": "RENEWAL_WINDOW", "$where": "1" }]');
    await page.getByRole('button', { name: 'Propose plan' }).click();
    await expectText(page.locator('#propose-result [data-error-code]'), 'BAD_USER_INPUT', 'error code');
    await expectText(page.locator('#propose-result'), 'did not accept the input', 'readable message');
    await screenshot('08-error-bad-user-input');
    await page.getByLabel('Signals (JSON array)').fill('[{ not json');
    await page.getByRole('button', { name: 'Propose plan' }).click();
    await expectText(page.locator('#propose-form .field-error', { hasText: 'Not valid JSON' }), 'Not valid JSON', 'client-side JSON check');
    assertEqual(await page.getByLabel('Signals (JSON array)').getAttribute('aria-invalid'), 'true', 'field marked invalid');
    await screenshot('08-error-invalid-json');
    await page.getByRole('button', { name: 'Reset example' }).click();
    allowedConsoleErrors = null;
  });

  await step('lists plans with counts per status, filters by account and status, and pages with "load more"', async () => {
    for (let i = 1; i <= 11; i += 1) {
      await api(
        `mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }`,
        { input: { accountId: `acct-seed-${String(i).padStart(2, '0')}`, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 30 + i }] } },
        alice,
      );
    }
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expectText(page.locator('button.count[data-status="ALL"]'), '12', 'total count');
    await expectText(page.locator('button.count[data-status="DRAFT"]'), '11', 'DRAFT count');
    await expectText(page.locator('button.count[data-status="ABORTED"]'), '1', 'ABORTED count');
    await page.getByLabel('Page size').selectOption('5');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.locator('#plans-list tr[data-plan-id]');
    await expectCount(rows, 5, 'first page');
    await page.locator('#load-more').click();
    await expectCount(rows, 10, 'second page');
    const ids = await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-plan-id')));
    assertEqual(new Set(ids).size, 10, 'no duplicates across pages');
    await page.locator('#load-more').click();
    await expectCount(rows, 12, 'third page');
    assert(await page.locator('#load-more').isHidden(), '"Load more" disappears at the end');
    await screenshot('09-list-paged');

    await page.locator('#plan-filters').getByLabel('Account id').fill('acct-ui-1');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectCount(rows, 1, 'account filter');
    await expectText(page.locator('button.count[data-status="ALL"]'), '1', 'counts follow the account filter');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await expectCount(rows, 5, 'cleared filters');
    await page.locator('button.count[data-status="ABORTED"]').click();
    await expectCount(rows, 1, 'status filter via its count');
    assertEqual(await page.locator('button.count[data-status="ABORTED"]').getAttribute('aria-pressed'), 'true', 'pressed count');
    assertEqual(await rows.first().getAttribute('data-status'), 'ABORTED', 'filtered row status');
    await page.locator('#plan-filters').getByLabel('Account id').fill('acct-nobody');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectText(page.locator('#plans-empty'), 'No plans match these filters', 'filtered empty state');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await expectCount(rows, 5, 'cleared again');
  });

  await step('charts ledger events per day by type (ledgerStats) as inline SVG', async () => {
    const stats = await api<{ ledgerStats: { eventType: string; day: string; count: number }[] }>(`{ ledgerStats { eventType day count } }`, {}, alice);
    const expected: Record<string, number> = {};
    for (const row of stats.ledgerStats) expected[row.eventType] = (expected[row.eventType] ?? 0) + row.count;
    assertEqual(expected['PLAN_CREATED'], 12, 'API: PLAN_CREATED events');
    await page.locator('svg.chart').waitFor({ state: 'visible' });
    const drawn = await page.locator('svg.chart rect[data-type]').evaluateAll((els) => {
      const sums: Record<string, number> = {};
      for (const el of els) {
        const type = el.getAttribute('data-type') ?? '?';
        sums[type] = (sums[type] ?? 0) + Number(el.getAttribute('data-count'));
      }
      return sums;
    });
    assertEqual(
      Object.keys(drawn).sort().map((k) => [k, drawn[k]]),
      Object.keys(expected).sort().map((k) => [k, expected[k]]),
      'bars drawn per event type',
    );
    await expectText(page.locator('.legend'), 'PLAN_ABORTED', 'legend');
    assertEqual(await page.locator('svg.chart').getAttribute('role'), 'img', 'chart role');
    await expectText(page.locator('.chart-figure table'), 'PLAN_CREATED', 'the numbers as a table');
  });

  await step('takes the overview screenshot (docs/dashboard.png with UPDATE_DOCS_SCREENSHOT=1)', async () => {
    // The plan with the whole story (created, approved, activated, paused, aborted with a reason).
    await page.locator('#plan-filters').getByLabel('Account id').fill('acct-ui-1');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expectCount(page.locator('#plans-list tr[data-plan-id]'), 1, 'the story plan');
    await page.locator('#plans-list tr[data-plan-id]').getByRole('button', { name: /^Open plan/ }).click();
    await expectText(page.locator('#plan-card-heading'), 'Plan for acct-ui-1', 'card open');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await expectCount(page.locator('#plans-list tr[data-plan-id]'), 5, 'all plans again');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.mouse.move(0, 0);
    await screenshot('10-overview');
    if (UPDATE_DOCS_SCREENSHOT) {
      await mkdir(resolve(ROOT, 'docs'), { recursive: true });
      await copyFile(join(ARTIFACTS, '10-overview.png'), DOCS_SCREENSHOT);
      log(`       updated ${DOCS_SCREENSHOT}`);
    }
  });

  await step('explains a proposal: rationale, evidence as the cited input, due date and owner per step; warnings; open plans', async () => {
    const first = await api<{ proposePlan: { plan: { planId: string } } }>(
      `mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }`,
      { input: { accountId: 'acct-ui-explain', planType: 'RENEWAL_DEFENSE', signals: [{ type: 'CHAMPION_LEFT' }] } },
      alice,
    );
    await page.getByRole('button', { name: 'Reset example' }).click();
    await page.locator('#propose-form').getByLabel('Account id').fill('acct-ui-explain');
    await page.getByLabel('Signals (JSON array)').fill(
      JSON.stringify([{ type: 'RENEWAL_WINDOW', days_to_renewal: 45 }, { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 }, { type: 'RENEWAL_WINDOWS', days_to_renewal: 10 }]),
    );
    await page.getByRole('button', { name: 'Propose plan' }).click();
    await expectText(page.locator('#propose-warnings [data-warning-code="UNKNOWN_SIGNAL_TYPE"]'), /signals\[2\].*did you mean RENEWAL_WINDOW/, 'warning for the mistyped type');
    await expectCount(page.locator(`#propose-open-plans [data-open-plan="${first.proposePlan.plan.planId}"]`), 1, 'the other open plan');
    await expectText(page.locator('#plan-card-heading'), 'Plan for acct-ui-explain', 'card of the new plan');
    const meeting = page.locator('#plan-card li[data-action-type="REQUEST_RENEWAL_MEETING"]');
    await expectText(meeting.locator('.step-due'), /Due: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC.*Owner: ACCOUNT_EXECUTIVE/, 'meeting due date and owner');
    await expectText(meeting.locator('.rationale'), 'Why: renewal in 45 day(s); account health AT_RISK', 'meeting rationale');
    await expectText(meeting.locator('[data-evidence="signals[0]"]'), 'signals[0] — RENEWAL_WINDOW: days_to_renewal 45', 'meeting evidence: the cited signal');
    await expectText(meeting.locator('[data-evidence="posture.health"]'), 'posture.health — health AT_RISK', 'meeting evidence: posture');
    const escalation = page.locator('#plan-card li[data-action-type="ESCALATE_SUPPORT_RISK"]');
    await expectText(escalation.locator('[data-evidence="signals[1]"]'), 'SUPPORT_RISK: severity HIGH, open_escalations 2', 'escalation evidence');
    await expectText(escalation.locator('.step-due'), 'Owner: SUPPORT_MANAGER', 'escalation owner');
    await expectText(page.locator('#plan-card li[data-action-type="PREP_RENEWAL_BRIEF"] .evidence-none'), 'none cited', 'the brief cites nothing');
    await screenshot('10b-explained-proposal');
    // The other plan was proposed elsewhere: its evidence shows as the path into its input.
    await page.locator(`#propose-open-plans [data-open-plan="${first.proposePlan.plan.planId}"] button`).click();
    await expectText(page.locator('#plan-card li[data-action-type="REQUEST_RENEWAL_MEETING"] [data-evidence="signals[0]"]'), /^signals\[0\]$/, 'evidence path without the input');
    await page.getByRole('button', { name: 'Reset example' }).click();
  });

  await step('a plan-viewer token sees no lifecycle buttons and cannot propose', async () => {
    await page.getByRole('button', { name: 'Change token' }).click();
    await page.locator('#token-section').waitFor({ state: 'visible' });
    assertEqual(await page.evaluate(() => sessionStorage.length), 0, 'the token is removed from sessionStorage');
    await page.getByLabel('Bearer token').fill(viewerOnly);
    await page.getByRole('button', { name: 'Use this token' }).click();
    await expectText(page.locator('#viewer-sub'), 'victor', 'viewer sub');
    await page.locator('button.count[data-status="DRAFT"]').click();
    await page.locator('#plans-list tr[data-status="DRAFT"]').first().getByRole('button', { name: /^Open plan/ }).click();
    await expectStatus('DRAFT');
    await expectCount(page.locator('#plan-card button[data-action]'), 0, 'lifecycle buttons for a viewer');
    await expectText(page.locator('#no-lifecycle-role'), 'plan-approver', 'why there are no buttons');
    assert(await page.locator('#propose-submit').isDisabled(), 'propose is disabled without plan-proposer');
    await expectText(page.locator('#propose-role-note'), 'plan-proposer', 'why propose is disabled');
    await screenshot('11-viewer-only');
  });

  await step('accessibility basics: labelled controls, real buttons, live region, visible keyboard focus', async () => {
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll('input, select, textarea'))
        .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    assertEqual(unlabelled, [], 'controls without a label');
    const clickableNonButtons = await page.evaluate(() => Array.from(document.querySelectorAll('[onclick], a:not([href]), div[tabindex="0"], span[tabindex="0"]')).length);
    assertEqual(clickableNonButtons, 0, 'clickable non-buttons');
    assertEqual(await page.locator('#live').getAttribute('aria-live'), 'polite', 'aria-live region');
    await page.reload();
    await expectText(page.locator('#viewer-sub'), 'victor', 'still connected after a reload (sessionStorage)');
    await expectText(page.locator('#plan-card-heading'), 'Plan for', 'the open plan comes back from the address (#plan=…)');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
    assertEqual(first, 'Skip to the dashboard', 'first Tab stop');
    await page.keyboard.press('Tab');
    const focusStyle = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName, outline: style.outlineStyle, width: style.outlineWidth };
    });
    assert(focusStyle.outline !== 'none' && focusStyle.width !== '0px', `visible focus ring on ${focusStyle.tag}: ${JSON.stringify(focusStyle)}`);
  });

  await step('server down: a clear error with Retry, and recovery when the service is back', async () => {
    allowedConsoleErrors = /ERR_CONNECTION_REFUSED|Failed to load resource|Failed to fetch/;
    await rig.stopService();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expectText(page.locator('#banner'), 'unreachable', 'banner');
    await expectText(page.locator('#banner'), 'NETWORK', 'banner code');
    await expectText(liveRegion(), 'NETWORK', 'live region');
    await screenshot('12-server-down');
    await startTheService(port, 30_000);
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('#banner').waitFor({ state: 'hidden' });
    await expectText(page.locator('#viewer-sub'), 'victor', 'reconnected');
    allowedConsoleErrors = null;
  });

  await step('the ledger witness checks the signed checkpoint and keeps it (localStorage)', async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    const witness = page.locator('#ledger-witness');
    const deadline = Date.now() + ACTION_TIMEOUT_MS;
    let size = 0;
    while (Date.now() < deadline && size === 0) {
      size = Number((await witness.getAttribute('data-tree-size')) ?? 0);
      if (size === 0) {
        await page.waitForTimeout(300);
        await page.getByRole('button', { name: 'Refresh' }).click();
      }
    }
    assertEqual(await witness.getAttribute('data-state'), 'ok', 'witness state');
    assert(size > 0, 'the witness saw a checkpoint');
    // Chromium's WebCrypto has Ed25519: the signature is checked in the browser too.
    assertEqual(await witness.getAttribute('data-signature-checked'), 'true', 'signature checked in the browser');
    assert(await witness.isHidden(), 'no banner while the history holds');
    const kept = await page.evaluate((t) => localStorage.getItem(`renewal-defense.dashboard.witness.${t}`), TENANT);
    assert(kept && (JSON.parse(kept) as { treeSize: number }).treeSize === size, `kept checkpoint: ${kept}`);
  });

  await step('a rewritten history (an entry edited, the log re-sealed by a restarted service) shows a red banner naming the sizes', async () => {
    allowedConsoleErrors = /ERR_CONNECTION_REFUSED|Failed to load resource|Failed to fetch/;
    const kept = JSON.parse((await page.evaluate((t) => localStorage.getItem(`renewal-defense.dashboard.witness.${t}`), TENANT)) ?? '{}') as { treeSize: number };
    await rig.stopService();
    // The attacker: edits a plan's first entry, recomputes its chain, and drops the whole log,
    // so the next service seals and signs the rewritten history as if it were the first.
    const client = new MongoClient(rig.mongoUri);
    await client.connect();
    try {
      const db = client.db(DB_NAME);
      const ledger = db.collection<Document & { _id: string }>('plan_ledger');
      const first = await ledger.findOne({ tenant_id: TENANT, seq: 1 });
      assert(first, 'an entry to edit');
      const chain = await ledger.find({ tenant_id: TENANT, plan_id: first.plan_id }).sort({ seq: 1 }).toArray();
      let prev: string | null = null;
      for (const e of chain) {
        const edited: Document & { _id: string } = { ...e, ...(e.seq === 1 ? { actor: 'mallory' } : {}), prev_hash: prev };
        edited.hash = hashLedgerEntry(edited as never);
        prev = edited.hash as string;
        await ledger.replaceOne({ _id: e._id }, edited);
      }
      for (const name of Object.values(LEDGER_LOG_COLLECTIONS)) await db.collection(name).deleteMany({});
    } finally {
      await client.close();
    }
    await startTheService(port, 30_000);
    const viewerToken = await token(['plan-viewer'], 'victor');
    const deadline = Date.now() + ACTION_TIMEOUT_MS;
    let resealed = 0;
    while (Date.now() < deadline && resealed < kept.treeSize) {
      resealed = (await api<{ ledgerCheckpoint: { treeSize: number } | null }>('{ ledgerCheckpoint { treeSize } }', {}, viewerToken)).ledgerCheckpoint?.treeSize ?? 0;
      if (resealed < kept.treeSize) await page.waitForTimeout(200);
    }
    // The service's own verifier has no memory across the restart: the rewritten log verifies against its new checkpoint.
    const own = await api<{ verifyLedgerCheckpoint: { valid: boolean } }>('{ verifyLedgerCheckpoint { valid } }', {}, viewerToken);
    log(`       (after the rewrite the service's verifyLedgerCheckpoint says valid=${own.verifyLedgerCheckpoint.valid}: only a witness with the old checkpoint can tell)`);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const banner = page.locator('#ledger-witness');
    await banner.waitFor({ state: 'visible' });
    await expectText(banner, `checkpoint ${kept.treeSize} seen before is not a prefix of checkpoint ${resealed}`, 'witness banner');
    assertEqual(await banner.getAttribute('data-state'), 'failed', 'witness state');
    assert(await banner.evaluate((el) => getComputedStyle(el).backgroundColor === 'rgb(254, 242, 242)'), 'the banner is red');
    await screenshot('13-ledger-witness-rewritten-history');
    allowedConsoleErrors = null;
  });

  await step('no uncaught errors or unexpected console errors in the page', async () => {
    assertEqual(pageErrors, [], 'page errors');
    assertEqual(consoleErrors, [], 'console errors');
  });
}

await runBrowserTest({
  label: 'dashboard browser test',
  artifacts: ARTIFACTS,
  watchdogMs: WATCHDOG_MS,
  run,
  tally: () => steps.tally(),
  cleanup: async () => {
    await rig.stop();
    await rm(KEY_DIR, { recursive: true, force: true }).catch(() => undefined);
  },
});
