import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { POLICY_GATE_DOC_PATH, renderPolicyGateDoc } from '../../scripts/domainDocs.js';

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
});
