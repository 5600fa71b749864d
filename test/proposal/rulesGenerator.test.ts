import { describe, expect, it } from '@jest/globals';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import type { PlanTypeConfig } from '../../src/domain/planTypeConfig.js';
import { classifySignal, readAccountFacts, type AccountContext } from '../../src/services/proposal/accountFacts.js';
import { generateRulesProposal, RULES_TABLE } from '../../src/services/proposal/rulesGenerator.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const M = 'REQUEST_RENEWAL_MEETING';
const B = 'PREP_RENEWAL_BRIEF';
const E = 'ESCALATE_SUPPORT_RISK';
const daysAgo = (days: number): string => new Date(NOW.getTime() - days * 86_400_000).toISOString();

const propose = (context: AccountContext, config: PlanTypeConfig = RENEWAL_DEFENSE_CONFIG) =>
  generateRulesProposal(readAccountFacts(context, NOW), config, 'acme', NOW);

interface Case {
  name: string;
  context: AccountContext;
  steps: string[];
  /** The renewal date the objective names; null for the generic phrase. */
  date?: string | null;
}

const CASES: Case[] = [
  { name: 'no context at all', context: {}, steps: [B], date: null },
  { name: 'empty lists and posture', context: { signals: [], history: [], posture: {} }, steps: [B], date: null },
  { name: 'renewal in 45 days', context: { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45 }] }, steps: [M, B], date: '2027-01-07' },
  { name: 'renewal in exactly 120 days', context: { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 120 }] }, steps: [M, B], date: '2027-03-23' },
  { name: 'renewal in 121 days', context: { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 121 }] }, steps: [B], date: '2027-03-24' },
  { name: 'fractional days round down', context: { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 120.9 }] }, steps: [M, B], date: '2027-03-23' },
  { name: 'renewal date 120 days out', context: { signals: [{ type: 'RENEWAL_WINDOW', renewal_date: '2027-03-23' }] }, steps: [M, B], date: '2027-03-23' },
  { name: 'renewal date 121 days out', context: { signals: [{ type: 'RENEWAL_WINDOW', renewal_date: '2027-03-24T09:00:00Z' }] }, steps: [B], date: '2027-03-24' },
  {
    name: 'days decide the window, the date names the day',
    context: { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 200, renewal_date: '2027-01-07' }] },
    steps: [B],
    date: '2027-01-07',
  },
  { name: 'overdue renewal', context: { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: -5 }] }, steps: [M, B], date: '2026-11-18' },
  {
    name: 'nearest of several renewal windows',
    context: { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 300 }, { type: 'RENEWAL_WINDOW', renewal_date: '2027-01-07' }] },
    steps: [M, B],
    date: '2027-01-07',
  },
  { name: 'posture renewal date within the window', context: { posture: { renewal_date: '2027-02-01' } }, steps: [M, B], date: '2027-02-01' },
  { name: 'posture renewal date far out', context: { posture: { renewal_date: '2027-11-01' } }, steps: [B], date: '2027-11-01' },
  {
    name: 'a signal date wins over posture',
    context: { posture: { renewal_date: '2027-01-01' }, signals: [{ type: 'RENEWAL_WINDOW', renewal_date: '2027-06-01' }] },
    steps: [B],
    date: '2027-06-01',
  },
  { name: 'renewal window without days or date', context: { signals: [{ type: 'RENEWAL_WINDOW' }] }, steps: [B], date: null },
  { name: 'usage drop of 19%', context: { signals: [{ type: 'USAGE_DROP', percent: 19 }] }, steps: [B] },
  { name: 'usage drop of 20%', context: { signals: [{ type: 'USAGE_DROP', percent: 20 }] }, steps: [M, B] },
  { name: 'usage drop without percent', context: { signals: [{ type: 'USAGE_DROP' }] }, steps: [B] },
  { name: 'largest usage drop counts', context: { signals: [{ type: 'USAGE_DROP', percent: 35 }, { type: 'USAGE_DROP', percent: 10 }] }, steps: [M, B] },
  { name: 'champion left', context: { signals: [{ type: 'CHAMPION_LEFT' }] }, steps: [M, B] },
  { name: 'NPS detractor', context: { signals: [{ type: 'NPS_DETRACTOR', score: 3 }] }, steps: [M, B] },
  { name: 'health HEALTHY', context: { posture: { health: 'HEALTHY', arr: 120000 } }, steps: [B] },
  { name: 'health AT_RISK', context: { posture: { health: 'AT_RISK' } }, steps: [M, B] },
  { name: 'health CRITICAL', context: { posture: { health: 'CRITICAL' } }, steps: [M, B, E] },
  { name: 'support risk LOW', context: { signals: [{ type: 'SUPPORT_RISK', severity: 'LOW' }] }, steps: [B] },
  { name: 'support risk MEDIUM', context: { signals: [{ type: 'SUPPORT_RISK', severity: 'MEDIUM' }] }, steps: [B, E] },
  { name: 'support risk LOW with open escalations', context: { signals: [{ type: 'SUPPORT_RISK', severity: 'LOW', open_escalations: 2 }] }, steps: [B, E] },
  { name: 'support risk without fields', context: { signals: [{ type: 'SUPPORT_RISK' }] }, steps: [B] },
  {
    name: 'the highest support severity counts',
    context: { signals: [{ type: 'SUPPORT_RISK', severity: 'HIGH' }, { type: 'SUPPORT_RISK', severity: 'LOW', open_escalations: 0 }] },
    steps: [B, E],
  },
  {
    name: 'a meeting requested 13 days ago holds the next one back',
    context: { signals: [{ type: 'CHAMPION_LEFT' }], history: [{ action_type: M, at: daysAgo(13) }] },
    steps: [B],
  },
  {
    name: 'a meeting requested 15 days ago does not',
    context: { signals: [{ type: 'CHAMPION_LEFT' }], history: [{ action_type: M, at: daysAgo(15) }] },
    steps: [M, B],
  },
  {
    name: 'a meeting already scheduled later holds it back',
    context: { signals: [{ type: 'CHAMPION_LEFT' }], history: [{ action_type: M, at: '2026-12-01T10:00:00Z' }] },
    steps: [B],
  },
  {
    name: 'other recent actions and malformed history do not',
    context: {
      signals: [{ type: 'CHAMPION_LEFT' }],
      history: [{ action_type: B, at: daysAgo(1) }, { action_type: M, at: 'yesterday' }, { action_type: M }, null, 'x', { at: daysAgo(1) }],
    },
    steps: [M, B],
  },
  {
    name: 'everything at once',
    context: {
      posture: { health: 'CRITICAL', renewal_date: '2027-01-07' },
      signals: [
        { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
        { type: 'SUPPORT_RISK', severity: 'CRITICAL', open_escalations: 3 },
        { type: 'USAGE_DROP', percent: 35 },
        { type: 'CHAMPION_LEFT' },
        { type: 'NPS_DETRACTOR', score: 2 },
      ],
    },
    steps: [M, B, E],
    date: '2027-01-07',
  },
  {
    name: 'malformed and unknown signals are ignored',
    context: {
      posture: { health: 'GREAT', renewal_date: 'soon' },
      signals: [
        null,
        'CHAMPION_LEFT',
        ['CHAMPION_LEFT'],
        { type: 5 },
        { kind: 'CHAMPION_LEFT' },
        { type: 'champion_left' },
        { type: 'CONTRACT_SIGNED' },
        { type: 'USAGE_DROP', percent: '35' },
        { type: 'USAGE_DROP', percent: 500 },
        { type: 'SUPPORT_RISK', severity: 'SEVERE' },
        { type: 'SUPPORT_RISK', open_escalations: -1 },
        { type: 'RENEWAL_WINDOW', days_to_renewal: 'soon' },
        { type: 'RENEWAL_WINDOW', days_to_renewal: 1e9 },
        { type: 'RENEWAL_WINDOW', renewal_date: 'next year' },
        { type: 'RENEWAL_WINDOW', renewal_date: '2027-13-45' },
        { type: 'NPS_DETRACTOR', score: 'low' },
      ],
    },
    steps: [B],
    date: null,
  },
];

describe('rules generator: choices for many signal sets', () => {
  it.each(CASES)('$name', ({ context, steps, date }) => {
    const proposal = propose(context);
    expect(proposal.steps.map((s) => s.action_type)).toEqual(steps);
    expect(proposal.dropped_steps).toEqual([]);
    for (const step of proposal.steps) {
      expect(step.depends_on).toEqual([]);
      expect(typeof step.rationale).toBe('string');
    }
    if (date !== undefined) {
      expect(proposal.objective).toBe(`Secure the renewal of account acme before ${date ?? 'its renewal date'}`);
    }
  });

  it('explains each step with the facts that fired it', () => {
    const proposal = propose({
      posture: { health: 'CRITICAL' },
      signals: [
        { type: 'RENEWAL_WINDOW', days_to_renewal: 45 },
        { type: 'USAGE_DROP', percent: 35 },
        { type: 'CHAMPION_LEFT' },
        { type: 'NPS_DETRACTOR' },
        { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
      ],
    });
    expect(proposal.steps.map((s) => s.rationale)).toEqual([
      'renewal in 45 day(s); usage dropped 35%; champion left; NPS detractor; account health CRITICAL',
      'Every renewal defense starts from a current brief; renewal on 2027-01-07',
      'support risk HIGH; 2 open escalation(s); account health CRITICAL',
    ]);
    expect(propose({ signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: -3 }] }).steps[0]!.rationale).toBe('renewal overdue by 3 day(s)');
    expect(propose({}).steps[0]!.rationale).toBe('Every renewal defense starts from a current brief');
  });

  it('counts unknown and malformed signals and known types for the input summary', () => {
    const facts = readAccountFacts(
      { signals: [{ type: 'CHAMPION_LEFT' }, { type: 'CHAMPION_LEFT' }, { type: 'MOON_PHASE' }, { type: 'USAGE_DROP', percent: 'x' }, 3] },
      NOW,
    );
    expect(facts.signal_counts).toEqual({ CHAMPION_LEFT: 2 });
    expect(facts.unknown_signal_types).toBe(1);
    expect(facts.malformed_signals).toBe(2);
  });

  it('classifies single signal items', () => {
    expect(classifySignal({ type: 'CHAMPION_LEFT', extra: { nested: true } })).toEqual({ type: 'CHAMPION_LEFT' });
    expect(classifySignal({ type: 'NEW_THING' })).toBe('unknown');
    expect(classifySignal([])).toBe('malformed');
  });

  it('follows the config: only allowed steps, in its default sequence', () => {
    const reordered: PlanTypeConfig = { ...RENEWAL_DEFENSE_CONFIG, default_sequence: [E, B, M] };
    expect(propose({ posture: { health: 'CRITICAL' } }, reordered).steps.map((s) => s.action_type)).toEqual([E, B, M]);
    const withoutMeeting: PlanTypeConfig = { ...RENEWAL_DEFENSE_CONFIG, allowed_step_action_types: [B, E] };
    expect(propose({ posture: { health: 'CRITICAL' } }, withoutMeeting).steps.map((s) => s.action_type)).toEqual([B, E]);
  });

  it("takes its thresholds from the config's rules", () => {
    const steps = (context: AccountContext, rules: Partial<PlanTypeConfig['rules']>) =>
      propose(context, { ...RENEWAL_DEFENSE_CONFIG, rules: { ...RENEWAL_DEFENSE_CONFIG.rules, ...rules } }).steps.map((s) => s.action_type);
    const renewal90 = { signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 90 }] };
    expect(steps(renewal90, {})).toEqual([M, B]);
    expect(steps(renewal90, { renewal_window_days: 60 })).toEqual([B]);
    const drop25 = { signals: [{ type: 'USAGE_DROP', percent: 25 }] };
    expect(steps(drop25, {})).toEqual([M, B]);
    expect(steps(drop25, { usage_drop_percent: 30 })).toEqual([B]);
    const medium = { signals: [{ type: 'SUPPORT_RISK', severity: 'MEDIUM' }] };
    expect(steps(medium, {})).toEqual([B, E]);
    expect(steps(medium, { escalation_min_severity: 'HIGH' })).toEqual([B]);
    expect(steps({ signals: [{ type: 'SUPPORT_RISK', severity: 'LOW' }] }, { escalation_min_severity: 'LOW' })).toEqual([B, E]);
    const metTenDaysAgo = { signals: [{ type: 'CHAMPION_LEFT' }], history: [{ action_type: M, at: daysAgo(10) }] };
    expect(steps(metTenDaysAgo, {})).toEqual([B]);
    expect(steps(metTenDaysAgo, { meeting_cooldown_days: 7 })).toEqual([M, B]);
  });

  it('documents one row per step, in the default sequence', () => {
    expect(RULES_TABLE.map((r) => r.action_type)).toEqual([...RENEWAL_DEFENSE_CONFIG.default_sequence]);
  });
});
