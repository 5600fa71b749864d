// Step work on the dashboard in a real browser (Debian chromium through playwright-core): "My
// work" (the signed-in person's open steps, overdue first), each step's state, owner, assignee,
// due date and overdue badge on the plan card, recording start / complete / skip / fail / assign
// (reasons asked where needed), the plan completing itself, and completePlan. Run with
// `npx tsx test/browser/steps.browser.ts` after `npm run dashboard:build` (or `npm run test:browser`).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { mintDevToken } from '../../src/auth/devToken.js';
import { assert, assertEqual, BrowserTestRig, expectTextWithin, expectWithin, graphqlCall, log, prepareRun, ROOT, runBrowserTest, Steps } from './support.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'steps');
const SECRET = 'browser-test-secret-0123456789abcdef0123456789';
const STEP_TIMEOUT_MS = 45_000;
const ACTION_TIMEOUT_MS = 10_000;
const WATCHDOG_MS = 5 * 60_000;
const TENANT = 't1';
const KEY_DIR = join(tmpdir(), `steps-browser-key-${randomBytes(6).toString('hex')}`);

const rig = new BrowserTestRig({ name: 'steps', dbName: `browser_steps_${randomBytes(6).toString('hex')}`, secret: SECRET, env: { DATA_DIR: KEY_DIR } });
const steps = new Steps(STEP_TIMEOUT_MS, (n) => screenshot(`FAILED-${n}`));
const { step } = steps;
let page: Page;
let baseUrl = '';
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
/** Console errors a step provokes on purpose (the browser logs the refused request). */
let allowedConsoleErrors: RegExp | null = null;

const RENEWAL = new Date(Date.now() + 100 * 86_400_000).toISOString().slice(0, 10);
const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 100, renewal_date: RENEWAL },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];
const MEETING = 'REQUEST_RENEWAL_MEETING';
const BRIEF = 'PREP_RENEWAL_BRIEF';
const ESCALATE = 'ESCALATE_SUPPORT_RISK';

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, timeout: ACTION_TIMEOUT_MS });
}

const expectText = (locator: Locator, expected: string | RegExp, what: string) => expectTextWithin(locator, expected, what, ACTION_TIMEOUT_MS);

const expectCount = (locator: Locator, expected: number, what: string) => expectWithin(() => locator.count(), expected, what, ACTION_TIMEOUT_MS);

const token = (roles: string[], sub: string) => mintDevToken({ secret: SECRET, tenantId: TENANT, roles, sub, ttlSeconds: 1800 });

const api = <T>(query: string, variables: Record<string, unknown>, bearer: string) => graphqlCall<T>(baseUrl, query, variables, bearer, ACTION_TIMEOUT_MS);

interface ApiPlan {
  planId: string;
  steps: { stepId: string; actionType: string }[];
}

/** An ACTIVE plan with the brief depending on the meeting; `dueAt` for every step when given. */
async function activePlan(accountId: string, bearer: string, dueAt?: string): Promise<ApiPlan> {
  const { proposePlan } = await api<{ proposePlan: { plan: { planId: string } } }>(
    'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }',
    { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } },
    bearer,
  );
  const planId = proposePlan.plan.planId;
  const stepsIn = [{ actionType: MEETING }, { actionType: BRIEF, dependsOn: [0] }, { actionType: ESCALATE }].map((s) => (dueAt ? { ...s, dueAt } : s));
  await api('mutation($id: ID!, $input: UpdateDraftPlanInput!) { updateDraftPlan(planId: $id, input: $input) { ok } }', { id: planId, input: { steps: stepsIn } }, bearer);
  await api('mutation($id: ID!) { approvePlan(planId: $id) { ok } }', { id: planId }, bearer);
  const { activatePlan } = await api<{ activatePlan: { ok: boolean; plan: ApiPlan } }>(
    'mutation($id: ID!) { activatePlan(planId: $id, preconditionsMet: true) { ok plan { planId steps { stepId actionType } } } }',
    { id: planId },
    bearer,
  );
  assert(activatePlan.ok, `activating ${accountId}`);
  return activatePlan.plan;
}

const stepId = (plan: ApiPlan, actionType: string) => plan.steps.find((s) => s.actionType === actionType)!.stepId;
const stepItem = (actionType: string) => page.locator(`#plan-card .step-list li[data-action-type="${actionType}"]`);
const planStatus = () => page.locator('#plan-card .plan-summary').getAttribute('data-status', { timeout: ACTION_TIMEOUT_MS });
const expectStatus = (expected: string) => expectWithin(planStatus, expected, 'plan status', ACTION_TIMEOUT_MS);
const timelineTypes = () => page.locator('#timeline li[data-event-type]').evaluateAll((els) => els.map((el) => el.getAttribute('data-event-type')));

async function signIn(bearer: string, sub: string): Promise<void> {
  if (await page.locator('#sign-out').isVisible()) await page.locator('#sign-out').click();
  await page.getByLabel('Bearer token').fill(bearer);
  await page.getByRole('button', { name: 'Use this token' }).click();
  await expectText(page.locator('#viewer-sub'), sub, 'signed in');
}

/** Opens an inline form of a step (or of the plan), types `text`, submits. */
async function ask(scope: Locator, verb: string, text: string): Promise<void> {
  // The card reloads after every action (aria-busy meanwhile) and its re-render would close a
  // form opened before it ends.
  await page.locator('#plan-card-body[aria-busy="true"]').waitFor({ state: 'detached' });
  await scope.locator(`button[data-step-action="${verb}-open"]`).click();
  const form = scope.locator('form.ask-form:visible');
  await form.locator('input').fill(text);
  await form.locator(`button[data-step-action="${verb}"]`).click();
}

async function run(): Promise<void> {
  await prepareRun(ARTIFACTS, 'dashboard');
  await rig.startStore();
  const service = await rig.startService();
  baseUrl = service.url;
  log(`steps browser test: service at ${baseUrl}, tenant ${TENANT}`);
  await rig.launchBrowser();
  const context = await rig.newContext({ width: 1440, height: 1000 });
  page = await context.newPage();
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !allowedConsoleErrors?.test(msg.text())) consoleErrors.push(msg.text());
  });

  const alice = await token(['plan-proposer', 'plan-approver'], 'alice');
  const victor = await token(['plan-viewer'], 'victor');
  // Late: every step due two seconds from now. On time: due weeks from now.
  const late = await activePlan('acct-late', alice, new Date(Date.now() + 2_000).toISOString());
  const onTime = await activePlan('acct-on-time', alice);
  const assign = (plan: ApiPlan, actionType: string, who: string) =>
    api('mutation($p: ID!, $s: ID!, $a: String) { assignStep(planId: $p, stepId: $s, assignee: $a) { ok } }', { p: plan.planId, s: stepId(plan, actionType), a: who }, alice);
  await assign(onTime, MEETING, 'alice');
  await assign(late, BRIEF, 'alice');
  await assign(late, ESCALATE, 'bob');
  await new Promise((r) => setTimeout(r, 2_200));

  await page.goto(`${baseUrl}/dashboard/`);

  await step('"My work" lists the signed-in person\'s open steps, the overdue one first', async () => {
    await signIn(alice, 'alice');
    await expectText(page.locator('#my-work-heading'), 'My work (2)', 'my work heading');
    const items = await page.locator('#my-work-body li').evaluateAll((els) => els.map((el) => [el.getAttribute('data-plan-id'), el.getAttribute('data-overdue')]));
    assertEqual(items, [[late.planId, 'true'], [onTime.planId, 'false']], 'my work items (overdue first)');
    await expectText(page.locator('#my-work-body li').first(), 'Overdue', 'overdue badge in my work');
    await expectText(page.locator('#my-work-body li').first(), BRIEF, 'the step');
    await screenshot('01-my-work');
  });

  await step('the plan card shows each step\'s state, owner, assignee, due date and overdue badge', async () => {
    await page.locator('#my-work-body li').first().getByRole('button', { name: 'Open plan for acct-late' }).click();
    await expectText(page.locator('#plan-card-heading'), 'Plan for acct-late', 'card heading');
    await expectText(page.locator('#steps-heading'), 'Steps (3: 3 open, 3 overdue)', 'step counts');
    await expectText(stepItem(BRIEF), 'Assignee: alice', 'brief assignee');
    await expectText(stepItem(ESCALATE), 'Assignee: bob', 'escalation assignee');
    await expectText(stepItem(MEETING), 'Assignee: nobody', 'meeting unassigned');
    await expectText(stepItem(MEETING), 'Owner: ACCOUNT_EXECUTIVE', 'meeting owner');
    await expectCount(page.locator('#plan-card .step-list .badge.overdue'), 3, 'overdue badges');
    await expectText(stepItem(MEETING).locator('.badge.step'), 'PENDING', 'meeting state');
    await screenshot('02-card-overdue');
  });

  await step('start, then a refused completion (the dependency is not DONE), then complete with a note', async () => {
    await stepItem(MEETING).locator('button[data-step-action="start"]').click();
    await expectText(page.locator('#action-result'), 'started', 'start result');
    await expectText(stepItem(MEETING), 'Started:', 'started time');
    assertEqual(await stepItem(MEETING).locator('button[data-step-action="start"]').count(), 0, 'no second start');
    allowedConsoleErrors = /./;
    await ask(stepItem(BRIEF), 'complete', '');
    await expectText(page.locator('#action-result [data-error-code]'), 'INVALID_TRANSITION', 'dependency refusal');
    await expectText(page.locator('#action-result'), 'not DONE yet', 'refusal says why');
    allowedConsoleErrors = null;
    await ask(stepItem(MEETING), 'complete', 'Meeting booked for Tuesday');
    await expectText(stepItem(MEETING).locator('.badge.step'), 'DONE', 'meeting DONE');
    await expectText(stepItem(MEETING), 'Note: Meeting booked for Tuesday', 'note shown');
    assertEqual(await stepItem(MEETING).locator('.badge.overdue').count(), 0, 'a DONE step is not overdue');
    assertEqual(await timelineTypes(), ['PLAN_CREATED', 'PLAN_UPDATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'STEP_ASSIGNED', 'STEP_ASSIGNED', 'STEP_STARTED', 'STEP_COMPLETED'], 'timeline');
    await screenshot('03-started-completed');
  });

  await step('skip asks for a reason (refused empty), assign hands the brief to bob and "My work" drops it', async () => {
    await stepItem(ESCALATE).locator('button[data-step-action="skip-open"]').click();
    const form = stepItem(ESCALATE).locator('form.ask-form:visible');
    await form.locator('button[data-step-action="skip"]').click();
    assertEqual(await form.locator('input').getAttribute('aria-invalid'), 'true', 'empty reason refused in the page');
    await form.locator('input').fill('No open tickets any more');
    await form.locator('button[data-step-action="skip"]').click();
    await expectText(stepItem(ESCALATE).locator('.badge.step'), 'SKIPPED', 'escalation SKIPPED');
    await expectText(stepItem(ESCALATE), 'Reason: No open tickets any more', 'reason shown');
    await ask(stepItem(BRIEF), 'assign', 'bob');
    await expectText(stepItem(BRIEF), 'Assignee: bob', 'reassigned');
    await expectText(page.locator('#my-work-heading'), 'My work (1)', 'my work after reassigning');
  });

  await step('completing the last open step completes the plan (all_steps_done) in the same operation', async () => {
    await ask(stepItem(BRIEF), 'complete', '');
    await expectText(page.locator('#action-result'), 'the plan is COMPLETED (all_steps_done)', 'completion message');
    await expectStatus('COMPLETED');
    await expectText(page.locator('#plan-card .facts'), 'Completed', 'completed fact');
    assertEqual(await page.locator('#plan-card [data-step-actions]').count(), 0, 'no step actions on a COMPLETED plan');
    const types = await timelineTypes();
    assertEqual(types.filter((t) => t === 'PLAN_COMPLETED').length, 1, 'one PLAN_COMPLETED');
    assertEqual(types.at(-1), 'PLAN_COMPLETED', 'the last entry');
    await screenshot('04-completed');
  });

  await step('a viewer sees the work but no buttons; an approver completes a plan (objective met)', async () => {
    await signIn(victor, 'victor');
    await page.goto(`${baseUrl}/dashboard/#plan=${encodeURIComponent(onTime.planId)}`);
    await page.reload();
    await expectText(page.locator('#plan-card-heading'), 'Plan for acct-on-time', 'card heading');
    await expectText(stepItem(MEETING), 'Assignee: alice', 'assignee shown to a viewer');
    assertEqual(await page.locator('#plan-card [data-step-actions]').count(), 0, 'no step actions for a viewer');
    assertEqual(await page.locator('#plan-card button[data-step-action="completePlan-open"]').count(), 0, 'no complete plan for a viewer');
    await expectText(page.locator('#my-work-heading'), 'My work (0)', 'victor has no work');
    await signIn(alice, 'alice');
    await page.goto(`${baseUrl}/dashboard/#plan=${encodeURIComponent(onTime.planId)}`);
    await page.reload();
    await expectText(page.locator('#plan-card-heading'), 'Plan for acct-on-time', 'card heading');
    await ask(page.locator('#plan-card .lifecycle'), 'completePlan', 'Renewed early');
    await expectText(page.locator('#action-result'), 'Plan completed (objective met)', 'completePlan result');
    await expectStatus('COMPLETED');
    await expectText(page.locator('#plan-card .facts'), 'objective_met', 'completion reason');
    await expectText(page.locator('#my-work-heading'), 'My work (0)', 'my work empty');
    await screenshot('05-complete-plan');
  });

  await step('no page errors, no unexpected console errors, no request left this machine', async () => {
    assertEqual(pageErrors, [], 'page errors');
    assertEqual(consoleErrors, [], 'console errors');
    assertEqual(rig.blocked, [], 'requests outside 127.0.0.1');
  });
}

await runBrowserTest({
  label: 'steps browser test',
  artifacts: ARTIFACTS,
  watchdogMs: WATCHDOG_MS,
  run,
  tally: () => steps.tally(),
  cleanup: async () => {
    await rig.stop();
    await rm(KEY_DIR, { recursive: true, force: true }).catch(() => undefined);
  },
});
