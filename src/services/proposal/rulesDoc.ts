import { RENEWAL_DEFENSE_CONFIG } from '../../config/planTypeConfig.js';
import { KNOWN_SIGNAL_TYPES } from './accountFacts.js';
import { RULES_TABLE, RULES_VERSION } from './rulesGenerator.js';

/** docs/rules-generator.md, rendered from RULES_TABLE (a test keeps the file equal to this). */
export function renderRulesMarkdown(): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  const rows = RULES_TABLE.map((r) => `| ${r.action_type} | ${cell(r.when)} | ${r.unless === null ? '—' : cell(r.unless)} |`);
  return [
    '# Rules generator (RENEWAL_DEFENSE)',
    '',
    '<!-- Generated from RULES_TABLE by renderRulesMarkdown() in src/services/proposal/rulesDoc.ts.',
    '     Do not edit by hand; rewrite it with `UPDATE_RULES_DOC=1 npm test -- test/proposal/rulesDoc.test.ts`. -->',
    '',
    `The deterministic proposer (\`${RULES_VERSION}\`). It serves when no Gemini key is configured, and`,
    'when the model fails or keeps no allowed step, if PROPOSAL_LLM_FALLBACK is `rules`. Each row that fires adds its step; steps',
    `follow the default sequence (${RENEWAL_DEFENSE_CONFIG.default_sequence.join(' → ')}) and carry no`,
    'dependencies. Each step gets `constraints.rationale` naming the facts that fired it.',
    '',
    '| Step | Proposed when | Unless |',
    '|---|---|---|',
    ...rows,
    '',
    `Signal types read: ${KNOWN_SIGNAL_TYPES.join(', ')}. Unknown types, and items that are not objects or`,
    'carry a field of the wrong type, are ignored and counted in the PLAN_CREATED input summary. A known',
    'renewal date (from a signal, else posture) is named in the objective; otherwise it says "its renewal date".',
    'Dates are compared by UTC calendar day.',
    '',
  ].join('\n');
}
