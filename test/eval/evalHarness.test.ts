import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPlaybookFile, runEvalCli } from '../../eval/main.js';
import { GOLDEN_SET } from '../../eval/goldenSet.js';
import { evidencePath } from '../../eval/runEval.js';
import { fakeReplies, startFakeGemini, type FakeGemini } from '../support/fakeGemini.js';

/** The quality harness end to end: the rules pass, then the model pass through the real SDK against the fake Gemini. */
let fake: FakeGemini;
beforeAll(async () => {
  fake = await startFakeGemini({
    // A model that always proposes the brief, citing signals[0] (real in some scenarios only) and a signal that never exists.
    defaultReply: fakeReplies.answer({
      objective: 'Secure the renewal',
      steps: [
        {
          action_type: 'PREP_RENEWAL_BRIEF',
          depends_on: [],
          rationale: 'A brief first',
          evidence: [
            { source: 'SIGNAL', index: 0, field: null },
            { source: 'SIGNAL', index: 99, field: null },
          ],
        },
      ],
    }),
  });
});
afterAll(async () => {
  await fake.close();
});

describe('npm run eval', () => {
  it(`has at least 40 scenarios across the signal vocabulary`, () => {
    expect(GOLDEN_SET.length).toBeGreaterThanOrEqual(40);
    const types = new Set(GOLDEN_SET.flatMap((s) => (s.signals ?? []).map((x) => (x as { type?: unknown })?.type)));
    for (const t of ['RENEWAL_WINDOW', 'SUPPORT_RISK', 'USAGE_DROP', 'CHAMPION_LEFT', 'NPS_DETRACTOR']) expect(types).toContain(t);
  });

  it('says the rules agree 100% and measures the model, printing both tables', async () => {
    const printed: string[] = [];
    const run = await runEvalCli({ NODE_ENV: 'test', GEMINI_API_KEY: 'test-key', GEMINI_MODEL: 'gemini-test', GEMINI_BASE_URL: fake.baseUrl }, (t) => printed.push(t));
    expect(run.exitCode).toBe(0);
    expect(run.rules).toMatchObject({ scenarios: GOLDEN_SET.length, stepsAgreement: 1, citedShare: 1, evidenceExact: 1, warningsAgreement: 1, errors: 0 });

    const model = run.model!;
    expect(fake.requests).toHaveLength(GOLDEN_SET.length);
    expect(model.results.every((r) => r.source === 'LLM' && r.error === null)).toBe(true);
    // Brief-only scenarios agree; the others do not.
    const briefOnly = GOLDEN_SET.filter((s) => s.steps.length === 1).length;
    expect(model.stepsAgreement).toBeCloseTo(briefOnly / GOLDEN_SET.length);
    // signals[99] never exists; signals[0] exists exactly where the scenario has a signal.
    const withSignals = GOLDEN_SET.filter((s) => (s.signals?.length ?? 0) > 0).length;
    expect(model.evidenceValidity).toBeCloseTo((withSignals * 0.5) / GOLDEN_SET.length);
    expect(model.latencyMsTotal).toBeGreaterThan(0);

    const text = printed.join('\n');
    expect(text).toContain('== rules generator');
    expect(text).toContain('== model gemini-test');
    expect(text.match(/^TOTAL \(\d+ scenarios\)/gm)).toHaveLength(2);
    for (const s of GOLDEN_SET) expect(text).toContain(s.name.slice(0, 56));
  });

  it('fails (exit code 1) when the rules disagree, and skips the model without a key', async () => {
    const printed: string[] = [];
    const original = GOLDEN_SET[1]!.steps;
    (GOLDEN_SET[1] as { steps: string[] }).steps = ['PREP_RENEWAL_BRIEF'];
    try {
      const run = await runEvalCli({ NODE_ENV: 'test' }, (t) => printed.push(t));
      expect(run.exitCode).toBe(1);
      expect(run.model).toBeNull();
      expect(printed.join('\n')).toMatch(/model pass skipped/);
      expect(printed.join('\n')).toMatch(/FAIL: the rules generator must agree/);
    } finally {
      (GOLDEN_SET[1] as { steps: string[] }).steps = original;
    }
  });

  it('runs the scenarios under a playbook file (--config): its steps and thresholds, agreement reported only', async () => {
    const printed: string[] = [];
    const run = await runEvalCli({ NODE_ENV: 'test' }, (t) => printed.push(t), { playbookFile: 'eval/playbooks/no-escalation.json' });
    expect(run.exitCode).toBe(0);
    expect(run.rules.results.every((r) => !r.steps.includes('ESCALATE_SUPPORT_RISK'))).toBe(true);
    const byName = new Map(run.rules.results.map((r) => [r.name, r]));
    // renewalWindowDays 90: a renewal 120 days out no longer asks for a meeting.
    expect(byName.get('renewal in exactly 120 days')?.steps).toEqual(['PREP_RENEWAL_BRIEF']);
    expect(run.rules.stepsAgreement).toBeLessThan(1);
    expect(printed[0]).toContain('playbook: eval/playbooks/no-escalation.json');
  });

  it('refuses an incoherent playbook file, naming the path', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'playbook-')), 'bad.json');
    const good = JSON.parse(readFileSync('eval/playbooks/no-escalation.json', 'utf8')) as { stepSchedule: { dueDaysBeforeRenewal: number }[] };
    good.stepSchedule[1]!.dueDaysBeforeRenewal = 90;
    writeFileSync(file, JSON.stringify(good));
    expect(() => readPlaybookFile(file)).toThrow(`${file}.stepSchedule.1.dueDaysBeforeRenewal`);
  });

  it('writes evidence as paths into the input', () => {
    expect(evidencePath({ source: 'SIGNAL', index: 2, field: null })).toBe('signals[2]');
    expect(evidencePath({ source: 'HISTORY', index: 0, field: 'at' })).toBe('history[0].at');
    expect(evidencePath({ source: 'POSTURE', index: null, field: 'health' })).toBe('posture.health');
    expect(evidencePath({ source: 'TENANT_GOALS', index: null, field: 'x' })).toBe('tenantGoals.x');
  });
});
