// Writes docs/policy-gate.md from the code: `npx tsx scripts/gen-domain-docs.ts`.
import { writeFileSync } from 'node:fs';
import { POLICY_GATE_DOC_PATH, renderPolicyGateDoc } from './domainDocs.js';

// Resolved from this file, so the script works from any working directory.
writeFileSync(new URL(`../${POLICY_GATE_DOC_PATH}`, import.meta.url), renderPolicyGateDoc());
console.log(`wrote ${POLICY_GATE_DOC_PATH}`);
