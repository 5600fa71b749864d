import type { StepEvidence } from '../../domain/plan.js';
import { SUPPORT_SEVERITIES, type SupportSeverity } from '../../domain/enums.js';
import { RENEWAL_DEFENSE_CONFIG, type PlanTypeConfig, type RulesThresholds } from '../../domain/planTypeConfig.js';
import { postureEvidence, requestedWithin, signalEvidence, type AccountFacts } from './accountFacts.js';
import { fillObjectiveTemplate } from './objective.js';
import type { ProposalDraft, ProposedStep } from './proposalTypes.js';
import { sequenceRank } from './sequenceOrder.js';

/** Recorded in the audit of rules proposals; bump it when a rule changes. */
export const RULES_VERSION = 'renewal-defense-rules/2';

// The thresholds are the playbook's (config.rules); the built-in values name them in the docs.
const BUILT_IN = RENEWAL_DEFENSE_CONFIG.rules;

/** Why a rule fired: the sentence, and exactly the input elements that made it fire. */
export interface RuleFiring {
  rationale: string;
  evidence: StepEvidence[];
}

/** One deterministic rule: when it fires, its step joins the plan with the returned rationale and evidence. */
export interface RuleRow {
  action_type: string;
  /** When the step is proposed, in words (docs/rules-generator.md is rendered from these). */
  when: string;
  /** What holds it back even when `when` is met; null when nothing does. */
  unless: string | null;
  /** Which input elements the step cites, in words. */
  cites: string;
  /** Null when the rule does not fire; `rules`: the playbook's thresholds. */
  evaluate(facts: AccountFacts, now: Date, rules: RulesThresholds): RuleFiring | null;
}

/**
 * The rules, in the RENEWAL_DEFENSE default sequence. Rule steps carry no dependencies: each can
 * start on its own, and the sequence already says the recommended order (a dependency could only
 * point backwards in it, and none of these steps needs an earlier one finished).
 */
export const RULES_TABLE: readonly RuleRow[] = [
  {
    action_type: 'REQUEST_RENEWAL_MEETING',
    when:
      `The renewal is within rules.renewalWindowDays (built-in ${BUILT_IN.renewal_window_days}) days (RENEWAL_WINDOW days_to_renewal or renewal_date, else posture.renewal_date; ` +
      `an overdue renewal counts), or any risk is present: USAGE_DROP of rules.usageDropPercent (built-in ${BUILT_IN.usage_drop_percent})% or more, CHAMPION_LEFT, ` +
      'NPS_DETRACTOR, posture.health AT_RISK or CRITICAL.',
    unless: `History shows a REQUEST_RENEWAL_MEETING dated within the last rules.meetingCooldownDays (built-in ${BUILT_IN.meeting_cooldown_days}) days (or later).`,
    cites:
      'The element that gave the renewal, when it is within the window (the RENEWAL_WINDOW signal, or posture.renewal_date); ' +
      'each USAGE_DROP signal of rules.usageDropPercent or more, each CHAMPION_LEFT and NPS_DETRACTOR signal; posture.health when AT_RISK or CRITICAL.',
    evaluate: (facts, now, rules) => {
      const renewal = renewalFiring(facts, rules);
      const risk = riskFiring(facts, rules);
      const reasons = [...renewal.reasons, ...risk.reasons];
      if (reasons.length === 0 || requestedWithin(facts, 'REQUEST_RENEWAL_MEETING', rules.meeting_cooldown_days, now)) return null;
      return { rationale: reasons.join('; '), evidence: [...renewal.evidence, ...risk.evidence] };
    },
  },
  {
    action_type: 'PREP_RENEWAL_BRIEF',
    when: 'Always.',
    unless: null,
    cites: 'Nothing: the step fires unconditionally.',
    evaluate: (facts) => ({
      rationale:
        facts.renewal_date === null
          ? 'Every renewal defense starts from a current brief'
          : `Every renewal defense starts from a current brief; renewal on ${facts.renewal_date}`,
      evidence: [],
    }),
  },
  {
    action_type: 'ESCALATE_SUPPORT_RISK',
    when:
      `A SUPPORT_RISK signal has severity rules.escalationMinSeverity (built-in ${BUILT_IN.escalation_min_severity}) or above, or open_escalations above 0; ` +
      'or posture.health is CRITICAL.',
    unless: null,
    cites: 'Each SUPPORT_RISK signal with severity rules.escalationMinSeverity or above or open_escalations above 0; posture.health when CRITICAL.',
    evaluate: (facts, _now, rules) => {
      const escalates = (severity: SupportSeverity | null): boolean => severity !== null && severityRank(severity) >= severityRank(rules.escalation_min_severity);
      const reasons: string[] = [];
      if (escalates(facts.support_severity)) reasons.push(`support risk ${facts.support_severity}`);
      if (facts.open_escalations > 0) reasons.push(`${facts.open_escalations} open escalation(s)`);
      if (facts.health === 'CRITICAL') reasons.push('account health CRITICAL');
      if (reasons.length === 0) return null;
      const evidence = facts.sources.support_risks
        .filter((r) => escalates(r.severity) || r.open_escalations > 0)
        .map((r) => signalEvidence(r.index));
      if (facts.health === 'CRITICAL') evidence.push(postureEvidence('health'));
      return { rationale: reasons.join('; '), evidence };
    },
  },
];

/**
 * The deterministic proposal: the rules that fire, in the config's default sequence (rules for
 * steps the config does not allow are skipped). PREP_RENEWAL_BRIEF always fires, so a
 * RENEWAL_DEFENSE proposal is never empty.
 */
export function generateRulesProposal(facts: AccountFacts, config: PlanTypeConfig, accountId: string, now: Date): ProposalDraft {
  const rank = (row: RuleRow): number => sequenceRank(config, row.action_type);
  const steps: ProposedStep[] = RULES_TABLE.filter((row) => config.allowed_step_action_types.includes(row.action_type))
    .sort((a, b) => rank(a) - rank(b))
    .flatMap((row) => {
      const firing = row.evaluate(facts, now, config.rules);
      return firing === null ? [] : [{ action_type: row.action_type, depends_on: [], rationale: firing.rationale, evidence: firing.evidence }];
    });
  return {
    objective: fillObjectiveTemplate(config.objective_template, { account_id: accountId, renewal_date: facts.renewal_date }),
    steps,
    dropped_steps: [],
    dropped_evidence: [],
  };
}

interface PartialFiring {
  reasons: string[];
  evidence: StepEvidence[];
}

const severityRank = (severity: SupportSeverity): number => SUPPORT_SEVERITIES.indexOf(severity);

function renewalFiring(facts: AccountFacts, rules: RulesThresholds): PartialFiring {
  if (facts.renewal_days === null || facts.renewal_days > rules.renewal_window_days) return { reasons: [], evidence: [] };
  return {
    reasons: [facts.renewal_days < 0 ? `renewal overdue by ${-facts.renewal_days} day(s)` : `renewal in ${facts.renewal_days} day(s)`],
    // renewal_days is only ever set together with its source.
    evidence: [facts.sources.renewal!],
  };
}

function riskFiring(facts: AccountFacts, rules: RulesThresholds): PartialFiring {
  const reasons: string[] = [];
  const evidence: StepEvidence[] = [];
  const drops = facts.sources.usage_drops.filter((d) => d.percent >= rules.usage_drop_percent);
  if (drops.length > 0) {
    reasons.push(`usage dropped ${facts.usage_drop_percent}%`);
    evidence.push(...drops.map((d) => signalEvidence(d.index)));
  }
  if (facts.champion_left) {
    reasons.push('champion left');
    evidence.push(...facts.sources.champion_left.map(signalEvidence));
  }
  if (facts.nps_detractor) {
    reasons.push('NPS detractor');
    evidence.push(...facts.sources.nps_detractor.map(signalEvidence));
  }
  if (facts.health === 'AT_RISK' || facts.health === 'CRITICAL') {
    reasons.push(`account health ${facts.health}`);
    evidence.push(postureEvidence('health'));
  }
  return { reasons, evidence };
}
