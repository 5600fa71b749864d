import { RENEWAL_DEFENSE_CONFIG } from '../../domain/planTypeConfig.js';
import { KNOWN_SIGNAL_TYPES } from './accountFacts.js';
import { RULES_TABLE, RULES_VERSION } from './rulesGenerator.js';

/** docs/rules-generator.md, rendered from RULES_TABLE (a test keeps the file equal to this). */
export function renderRulesMarkdown(): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  const rows = RULES_TABLE.map((r) => `| ${r.action_type} | ${cell(r.when)} | ${r.unless === null ? '—' : cell(r.unless)} | ${cell(r.cites)} |`);
  const schedule = RENEWAL_DEFENSE_CONFIG.default_sequence.map((type) => {
    const s = RENEWAL_DEFENSE_CONFIG.step_schedule[type]!;
    return `| ${type} | ${s.owner_role} | ${s.due_days_before_renewal} days before | ${s.due_days_after_creation} days after |`;
  });
  return [
    '# Rules generator (RENEWAL_DEFENSE)',
    '',
    '<!-- Generated from RULES_TABLE by renderRulesMarkdown() in src/services/proposal/rulesDoc.ts.',
    '     Do not edit by hand; rewrite it with `UPDATE_RULES_DOC=1 npm test -- test/proposal/rulesDoc.test.ts`. -->',
    '',
    `The deterministic proposer (\`${RULES_VERSION}\`). It serves when no Gemini key is configured, and`,
    'when the model fails (error, timeout, unusable answer, a misconfigured model), if PROPOSAL_LLM_FALLBACK is `rules`. A model',
    'answer that keeps no allowed step is PROPOSAL_REJECTED instead. Each row that fires adds its step; steps',
    `follow the default sequence (${RENEWAL_DEFENSE_CONFIG.default_sequence.join(' → ')}) and carry no`,
    'dependencies. Each step gets a `rationale` naming the facts that fired it and `evidence` citing exactly',
    'the input elements that did (`{source: SIGNAL, index: i}` is `signals[i]`, `{source: POSTURE, field: f}` is `posture.f`).',
    '',
    "The thresholds are the tenant's playbook (docs/playbooks.md): its published version's `rules` (GraphQL",
    '`RulesThresholds`); the built-in version 0 has the values shown. A tenant that publishes other values gets',
    'them in its next proposal (within a second on every instance). The steps a version does not allow are never',
    'proposed, and its default sequence orders them.',
    '',
    '| Threshold | Built-in | Range |',
    '|---|---|---|',
    `| rules.renewalWindowDays | ${RENEWAL_DEFENSE_CONFIG.rules.renewal_window_days} | 1–730 days |`,
    `| rules.usageDropPercent | ${RENEWAL_DEFENSE_CONFIG.rules.usage_drop_percent} | 1–100 % |`,
    `| rules.meetingCooldownDays | ${RENEWAL_DEFENSE_CONFIG.rules.meeting_cooldown_days} | 0–365 days |`,
    `| rules.escalationMinSeverity | ${RENEWAL_DEFENSE_CONFIG.rules.escalation_min_severity} | LOW, MEDIUM, HIGH, CRITICAL |`,
    '',
    '| Step | Proposed when | Unless | Cites |',
    '|---|---|---|---|',
    ...rows,
    '',
    'Due dates and owners come from the playbook\'s schedule (for model and rules proposals alike): a step is due its',
    'offset before the renewal date when one is known and later than the creation (the renewal day counts from 00:00 UTC),',
    'else its offset after the creation; dates are then clamped to [creation, renewal] and never decrease along the sequence.',
    '',
    'The built-in schedule:',
    '',
    '| Step | Owner | Renewal known | No renewal date |',
    '|---|---|---|---|',
    ...schedule,
    '',
    `Signal types read: ${KNOWN_SIGNAL_TYPES.join(', ')}. Unknown types, and items that are not objects or`,
    'carry a field of the wrong type, are ignored, counted in the PLAN_CREATED input summary and reported in the',
    "payload's `warnings` (UNKNOWN_SIGNAL_TYPE, MALFORMED_SIGNAL, UNKNOWN_SIGNAL_FIELD, UNREADABLE_DATE, …). A known",
    'renewal date (from a signal, else posture) is named in the objective; otherwise it says "its renewal date".',
    'Dates are compared by UTC calendar day.',
    '',
  ].join('\n');
}
