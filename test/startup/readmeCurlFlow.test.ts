// The README's curl flow, pasted as a newcomer would: its shell blocks run in bash against the
// real service on a port that is not the default, and the plan id is captured by the flow itself.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { findProjectRoot } from '../../src/config/projectRoot.js';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/testServer.js';

const ROOT = findProjectRoot();

/** The shell blocks of the README's curl flow, in order. */
function curlFlow(): string {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('The flow with curl');
  const end = readme.indexOf('\n## ', start);
  expect(start).toBeGreaterThan(0);
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe("the README's curl flow", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ NODE_ENV: 'development' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('runs on any PORT and carries the plan id from the proposal to the approval and the story', async () => {
    const port = new URL(server.url).port;
    expect(port).not.toBe('4000');
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', curlFlow()], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', PORT: port, JWT_SECRET: TEST_JWT_SECRET },
      timeout: 60_000,
    });
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line) as { data: Record<string, unknown> });
    expect(answers).toHaveLength(4);
    const [types, proposal, approval, story] = answers as [{ data: { planTypes: unknown[] } }, { data: { proposePlan: { plan: { planId: string; status: string } } } }, { data: unknown }, { data: unknown }];
    expect(types.data.planTypes).toHaveLength(1);
    expect(proposal.data.proposePlan.plan.status).toBe('DRAFT');
    expect(approval.data).toEqual({ approvePlan: { ok: true, reasons: [], plan: { status: 'APPROVED', approvedBy: 'alice' } } });
    expect(story.data).toEqual({
      plan: { ledger: { edges: [{ node: { seq: 1, eventType: 'PLAN_CREATED', actor: 'alice' } }, { node: { seq: 2, eventType: 'PLAN_APPROVED', actor: 'alice' } }] } },
      verifyPlanLedger: { valid: true, entries: 2 },
    });
  });
});
