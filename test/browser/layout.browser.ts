// The dashboard's layout at a desktop width (1400 px) and a phone width (390 px), in a real
// browser (Debian chromium through playwright-core): no sideways scroll of the page, and every
// panel's content inside its panel (wide tables may scroll inside their own box). Screenshots of
// both sizes go to test-artifacts/layout/. Run with `npm run test:browser`.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { mintDevToken } from '../../src/auth/devToken.js';
import { assert, BrowserTestRig, log, prepareRun, ROOT, runBrowserTest } from './support.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'layout');
const SECRET = 'layout-browser-test-secret-0123456789abcdef';
const TIMEOUT_MS = 15_000;
const WATCHDOG_MS = 5 * 60_000;
const SIZES = [
  { name: 'desktop', width: 1400, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

const rig = new BrowserTestRig({ name: 'layout', dbName: `layout_${randomBytes(6).toString('hex')}`, secret: SECRET });
let passed = 0;
let failed = 0;

async function gql<T>(bearer: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${rig.service?.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  assert(!body.errors && body.data, `API call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function propose(bearer: string, accountId: string, signals: unknown[]): Promise<string> {
  const data = await gql<{ proposePlan: { plan: { planId: string } } }>(bearer, 'mutation($i: ProposePlanInput!) { proposePlan(input: $i) { plan { planId } } }', { i: { accountId, planType: 'RENEWAL_DEFENSE', signals } });
  return data.proposePlan.plan.planId;
}

/** What sticks out: the page's sideways overflow, and any element drawn outside its panel. */
// Written as a string: tsx compiles named functions with a helper the page does not have.
const OVERFLOW_SCRIPT = `(() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const outside = [];
  for (const panel of document.querySelectorAll('.panel')) {
    const box = panel.getBoundingClientRect();
    if (box.width === 0) continue; // hidden
    for (const el of panel.querySelectorAll('*')) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      // Inside a box that scrolls or clips on its own (a wide table's wrapper), content may be wider.
      let clipped = false;
      for (let p = el.parentElement; p && p !== panel; p = p.parentElement) {
        const overflowX = getComputedStyle(p).overflowX;
        if (overflowX === 'auto' || overflowX === 'scroll' || overflowX === 'hidden') clipped = true;
      }
      if (clipped || el.classList.contains('visually-hidden')) continue;
      // Text wider than its own box (an unbreakable string) overflows without moving the box.
      const cs = getComputedStyle(el);
      if (cs.display !== 'inline' && cs.overflowX === 'visible' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && el.getBoundingClientRect().left + el.scrollWidth > box.right + 0.5) {
        outside.push(name(el) + ' has content ' + el.scrollWidth + ' px wide in a ' + el.clientWidth + ' px box, past ' + name(panel));
      }
      if (rect.left < box.left - 0.5 || rect.right > box.right + 0.5) {
        outside.push(name(el) + ' [' + Math.round(rect.left) + '-' + Math.round(rect.right) + '] outside ' + name(panel) + ' [' + Math.round(box.left) + '-' + Math.round(box.right) + ']');
      }
    }
  }
  // What reaches past the window's right edge (named in a failure, to say what to fix).
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const rect = el.getBoundingClientRect();
    if (rect.right > window.innerWidth + 0.5 && !el.closest('.plans-list, .data-table')) wide.push(name(el) + ' right ' + Math.round(rect.right));
  }
  return { scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth, outside, wide: wide.slice(0, 8) };
})()`;

/** What sticks out: the page's sideways overflow, and any element drawn outside its panel. */
async function overflows(page: Page): Promise<{ scrollWidth: number; innerWidth: number; outside: string[]; wide: string[] }> {
  return page.evaluate(OVERFLOW_SCRIPT) as Promise<{ scrollWidth: number; innerWidth: number; outside: string[]; wide: string[] }>;
}

async function run(): Promise<void> {
  await prepareRun(ARTIFACTS, 'dashboard');
  await rig.startStore();
  const service = await rig.startService();
  const token = await mintDevToken({ secret: SECRET, tenantId: 't1', roles: ['plan-proposer', 'plan-approver'], sub: 'alice', ttlSeconds: 1800 });
  // Long ids and several plans: the widths a real tenant's data brings.
  await propose(token, 'acct-with-a-rather-long-identifier-0001', [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45 }, { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 }]);
  const ids: string[] = [];
  for (let i = 2; i <= 4; i += 1) ids.push(await propose(token, `acct-${i}`, [{ type: 'USAGE_DROP', percent: 30 + i }]));
  // Every kind of lifecycle event, so the chart's table has a column for each.
  const [a, b] = ids as [string, string];
  for (const [op, planId] of [
    ['approvePlan(planId: $p) { ok }', a],
    ['activatePlan(planId: $p, preconditionsMet: true) { ok }', a],
    ['pausePlan(planId: $p, reason: "customer asked for a week") { ok }', a],
    ['resumePlan(planId: $p, preconditionsMet: true) { ok }', a],
    ['abortPlan(planId: $p, reason: "churn confirmed") { ok }', a],
    ['approvePlan(planId: $p) { ok }', b],
  ] as const) {
    await gql(token, `mutation($p: ID!) { ${op} }`, { p: planId });
  }
  await rig.launchBrowser();

  for (const size of SIZES) {
    const name = `${size.name} (${size.width} px)`;
    try {
      const context = await rig.newContext({ width: size.width, height: size.height });
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT_MS);
      await page.goto(`${service.url}/dashboard/`);
      await page.getByLabel('Bearer token').fill(token);
      await page.getByRole('button', { name: 'Use this token' }).click();
      await page.locator('#plans-list tr[data-plan-id]').first().waitFor({ state: 'visible' });
      await page.locator('#plans-list tr[data-plan-id]').first().getByRole('button', { name: /^Open plan/ }).click();
      await page.locator('#plan-card .step-list').waitFor({ state: 'visible' });
      await page.locator('svg.chart').waitFor({ state: 'visible' });
      // Open "Show the numbers as a table" (it used to spill out of its panel).
      const details = page.locator('#chart-section details');
      if ((await details.count()) > 0) {
        await details.first().locator('summary').click();
        await page.locator('.chart-figure table').first().waitFor({ state: 'visible' });
      }
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(ARTIFACTS, `${size.name}-${size.width}.png`), fullPage: true });
      await page.locator('#plans-section').screenshot({ path: join(ARTIFACTS, `${size.name}-${size.width}-plans.png`) });
      await page.locator('#chart-section').screenshot({ path: join(ARTIFACTS, `${size.name}-${size.width}-chart.png`) });
      const found = await overflows(page);
      assert(found.scrollWidth <= found.innerWidth, `${name}: the page scrolls sideways (scrollWidth ${found.scrollWidth} > innerWidth ${found.innerWidth}); past the edge:\n       ${found.wide.join('\n       ')}`);
      assert(found.outside.length === 0, `${name}: content outside its panel:\n       ${found.outside.slice(0, 8).join('\n       ')}`);
      // Every plan's status is in view: inside the plans list's visible box, not scrolled away.
      const list = await page.locator('#plans-list').boundingBox();
      assert(list, 'the plans list is drawn');
      const badges = await page.locator('#plans-list tr[data-plan-id] .badge').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().toJSON() as { left: number; right: number }));
      assert(badges.length === 4, `status badges: ${badges.length}`);
      for (const b of badges) assert(b.left >= list.x - 0.5 && b.right <= list.x + list.width + 0.5, `${name}: a status badge [${Math.round(b.left)}-${Math.round(b.right)}] is cut off by the plans list [${Math.round(list.x)}-${Math.round(list.x + list.width)}]`);
      await context.close();
      passed += 1;
      log(`  ok   ${name}: no sideways scroll, every panel's content inside it`);
    } catch (e) {
      failed += 1;
      log(`  FAIL ${name}\n       ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

await runBrowserTest({ label: 'layout browser test', artifacts: ARTIFACTS, watchdogMs: WATCHDOG_MS, run, tally: () => ({ passed, failed }), cleanup: () => rig.stop() });
