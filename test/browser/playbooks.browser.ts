// The dashboard's playbook section in a real browser (Debian chromium through playwright-core)
// against the real service and store: the version in force, an admin's draft from the editor,
// the author's publish refused (FORBIDDEN) and another admin's accepted, the history with its
// authors, the diff of two versions, and no editor for a viewer. Run with `npm run test:browser`.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { mintDevToken } from '../../src/auth/devToken.js';
import { assert, BrowserTestRig, expectTextWithin, prepareRun, ROOT, runBrowserTest, Steps } from './support.js';

const ARTIFACTS = resolve(ROOT, 'test-artifacts', 'playbooks');
const SECRET = 'playbooks-browser-test-secret-0123456789abcdef';
const TIMEOUT_MS = 15_000;
const TENANT = 'pb-browser';

const rig = new BrowserTestRig({ name: 'playbooks', dbName: `playbooks_${randomBytes(6).toString('hex')}`, secret: SECRET });
let page: Page | null = null;
const steps = new Steps(TIMEOUT_MS * 2, async (n) => {
  await page?.screenshot({ path: join(ARTIFACTS, `failure-${n}.png`), fullPage: true });
});

async function signIn(p: Page, url: string, token: string): Promise<void> {
  await p.goto(`${url}/dashboard/`);
  await p.getByLabel('Bearer token').fill(token);
  await p.getByRole('button', { name: 'Use this token' }).click();
  await p.locator('#playbook-versions').waitFor({ state: 'visible' });
}

async function run(): Promise<void> {
  await prepareRun(ARTIFACTS, 'dashboard');
  await rig.startStore();
  const service = await rig.startService();
  const token = (sub: string, roles: string[]) => mintDevToken({ secret: SECRET, tenantId: TENANT, roles, sub, ttlSeconds: 1800 });
  const alice = await token('alice', ['plan-admin']);
  const bob = await token('bob', ['plan-admin']);
  const vera = await token('vera', ['plan-viewer']);
  const browser = await rig.launchBrowser();
  const context = await rig.newContext({ width: 1400, height: 900 });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const p = page;
  const { step } = steps;

  await step('a new tenant runs on the built-in version 0', async () => {
    await signIn(p, service.url, alice);
    await expectTextWithin(p.locator('#playbook-version-in-force'), 'version 0', 'version in force', TIMEOUT_MS);
    assert((await p.locator('#playbook-versions tbody tr').count()) === 1, 'one version listed');
    assert(await p.locator('#playbook-editor').isVisible(), 'an admin sees the editor');
  });

  await step("an admin drafts from the editor: the published version's JSON with a changed threshold", async () => {
    const text = p.getByLabel('Version (JSON)');
    const input = JSON.parse(await text.inputValue()) as { rules: { usageDropPercent: number } };
    assert(input.rules.usageDropPercent === 20, `editor starts from the version in force (usageDropPercent ${input.rules.usageDropPercent})`);
    input.rules.usageDropPercent = 35;
    await text.fill(JSON.stringify(input));
    await p.getByLabel('Note').fill('fewer false alarms');
    await p.getByRole('button', { name: 'Save draft' }).click();
    const row = p.locator('#playbook-versions tr[data-version="1"]');
    await row.waitFor({ state: 'visible' });
    assert((await row.getAttribute('data-status')) === 'DRAFT', 'v1 is a DRAFT');
    await expectTextWithin(row, /alice/, 'author', TIMEOUT_MS);
  });

  await step('an incoherent draft is refused naming the path, nothing stored', async () => {
    const text = p.getByLabel('Version (JSON)');
    const input = JSON.parse(await text.inputValue()) as { objectiveTemplate: string };
    input.objectiveTemplate = 'Save {customer}';
    await text.fill(JSON.stringify(input));
    await p.getByRole('button', { name: 'Save draft' }).click();
    await expectTextWithin(p.locator('#playbook-editor-result'), /BAD_USER_INPUT[\s\S]*input\.objectiveTemplate/, 'the refusal', TIMEOUT_MS);
    assert((await p.locator('#playbook-versions tbody tr').count()) === 2, 'still two versions');
  });

  await step('the author cannot publish their own draft (FORBIDDEN)', async () => {
    await p.getByRole('button', { name: 'Publish version 1' }).click();
    await expectTextWithin(p.locator('#playbook-editor-result'), /FORBIDDEN/, 'the refusal', TIMEOUT_MS);
    await expectTextWithin(p.locator('#playbook-version-in-force'), 'version 0', 'still version 0', TIMEOUT_MS);
  });

  await step('another admin publishes it: in force, history with authors, the diff names the changed path', async () => {
    await p.getByRole('button', { name: 'Change token' }).click();
    await signIn(p, service.url, bob);
    await p.getByRole('button', { name: 'Publish version 1' }).click();
    await expectTextWithin(p.locator('#playbook-version-in-force'), 'version 1', 'version 1 in force', TIMEOUT_MS);
    await expectTextWithin(p.locator('#playbook-in-force'), /published by bob/, 'publisher', TIMEOUT_MS);
    assert((await p.locator('#playbook-versions tr[data-version="0"]').getAttribute('data-status')) === 'SUPERSEDED', 'v0 superseded');
    await p.getByLabel('Compare from', { exact: true }).selectOption('0');
    await p.getByLabel('Compare to', { exact: true }).selectOption('1');
    await p.getByRole('button', { name: 'Compare' }).click();
    const change = p.locator('#playbook-diff li[data-path="rules.usageDropPercent"]');
    await expectTextWithin(change, /20 → 35/, 'the changed threshold', TIMEOUT_MS);
    assert((await p.locator('#playbook-diff li').count()) === 1, 'exactly one change');
    await p.locator('#playbook-section').screenshot({ path: join(ARTIFACTS, 'playbook-admin.png') });
  });

  await step('a viewer sees the playbook but no editor and no buttons', async () => {
    await p.getByRole('button', { name: 'Change token' }).click();
    await signIn(p, service.url, vera);
    await expectTextWithin(p.locator('#playbook-version-in-force'), 'version 1', 'version in force', TIMEOUT_MS);
    assert(!(await p.locator('#playbook-editor').isVisible()), 'no editor');
    assert((await p.getByRole('button', { name: /^Publish version/ }).count()) === 0, 'no publish buttons');
  });

  assert(rig.blocked.length === 0, `requests left the machine: ${rig.blocked.join(', ')}`);
  await browser.close();
}

void runBrowserTest({
  label: 'playbooks browser test',
  artifacts: ARTIFACTS,
  watchdogMs: 5 * 60_000,
  run,
  tally: () => steps.tally(),
  cleanup: () => rig.stop(),
});
