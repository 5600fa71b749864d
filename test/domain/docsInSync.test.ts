import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { POLICY_GATE_DOC_PATH, renderPolicyGateDoc } from '../../scripts/domainDocs.js';
import { STEP_MOVES } from '../../src/domain/stepProgress.js';

describe('docs/policy-gate.md', () => {
  it('is what scripts/gen-domain-docs.ts renders from the code (run it after changing a rule or transition)', () => {
    const onDisk = readFileSync(new URL(`../../${POLICY_GATE_DOC_PATH}`, import.meta.url), 'utf8');
    expect(onDisk).toBe(renderPolicyGateDoc());
  });

  it('has a row for each gate rule and each lifecycle transition', () => {
    const rows = renderPolicyGateDoc()
      .split('\n')
      .filter((line) => /^\| (validateForApproval|evaluateCanActivate|[A-Z]+) \|/.test(line));
    expect(rows).toHaveLength(15 + 10);
  });

  it('has a row for each step move', () => {
    const rows = renderPolicyGateDoc()
      .split('\n')
      .filter((line) => /^\| (startStep|completeStep|skipStep|failStep|assignStep) \|/.test(line));
    expect(rows.map((r) => r.split(' | ')[0]!.slice(2))).toEqual(STEP_MOVES.map((m) => m.mutation));
  });
});
