/**
 * The golden set of the quality harness (`npm run eval`): account contexts across the whole
 * signal vocabulary (docs/proposals.md, "The input vocabulary"), with the steps a RENEWAL_DEFENSE proposal should have and the
 * input elements each step must cite. Written by hand from the rules in docs/rules-generator.md;
 * the rules generator must agree with every scenario, a model is measured against it.
 * Evidence is written as paths: signals[i], history[i], posture.<field>, tenantGoals.<field>.
 */

/** Every scenario is judged as of this instant (the generator's clock). */
export const EVAL_NOW = new Date('2026-11-23T12:00:00Z');

export interface Scenario {
  name: string;
  posture?: Record<string, unknown>;
  signals?: unknown[];
  history?: unknown[];
  tenant_goals?: Record<string, unknown>;
  /** In default-sequence order. */
  steps: string[];
  /** Per step: the citations it must carry (a model may cite more). */
  evidence: Partial<Record<string, string[]>>;
  /** Warning codes the input must produce, in order. */
  warnings?: string[];
}

const M = 'REQUEST_RENEWAL_MEETING';
const B = 'PREP_RENEWAL_BRIEF';
const E = 'ESCALATE_SUPPORT_RISK';
const daysAgo = (days: number): string => new Date(EVAL_NOW.getTime() - days * 86_400_000).toISOString();
const window = (days: number) => ({ type: 'RENEWAL_WINDOW', days_to_renewal: days });
const support = (severity: string, open_escalations = 0) => ({ type: 'SUPPORT_RISK', severity, open_escalations });
const drop = (percent: number) => ({ type: 'USAGE_DROP', percent });
const meeting = (at: string) => ({ action_type: M, at });

export const GOLDEN_SET: readonly Scenario[] = [
  // Renewal windows
  { name: 'no context', steps: [B], evidence: { [B]: [] } },
  { name: 'renewal in 45 days', signals: [window(45)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'renewal in exactly 120 days', signals: [window(120)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'renewal in 121 days', signals: [window(121)], steps: [B], evidence: {} },
  { name: 'renewal today', signals: [window(0)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'renewal overdue by 5 days', signals: [window(-5)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'renewal date 30 days out', signals: [{ type: 'RENEWAL_WINDOW', renewal_date: '2026-12-23' }], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'renewal date-time 121 days out', signals: [{ type: 'RENEWAL_WINDOW', renewal_date: '2027-03-24T09:00:00Z' }], steps: [B], evidence: {} },
  { name: 'days decide the window over the date', signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 200, renewal_date: '2027-01-07' }], steps: [B], evidence: {} },
  { name: 'posture renewal date 60 days out', posture: { renewal_date: '2027-01-22' }, steps: [M, B], evidence: { [M]: ['posture.renewal_date'] } },
  { name: 'posture renewal date 200 days out', posture: { renewal_date: '2027-06-11' }, steps: [B], evidence: {} },
  { name: 'a signal wins over posture (far signal, near posture)', signals: [window(200)], posture: { renewal_date: '2026-12-01' }, steps: [B], evidence: {} },
  { name: 'the nearest of two windows is cited', signals: [window(300), window(30)], steps: [M, B], evidence: { [M]: ['signals[1]'] } },
  { name: 'two equally near windows: the first is cited', signals: [window(30), window(30)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  // Risks
  { name: 'usage drop of 35%', signals: [drop(35)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'usage drop of exactly 20%', signals: [drop(20)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'usage drop of 19%', signals: [drop(19)], steps: [B], evidence: {} },
  { name: 'two usage drops, one below the bar', signals: [drop(10), drop(40)], steps: [M, B], evidence: { [M]: ['signals[1]'] } },
  { name: 'champion left', signals: [{ type: 'CHAMPION_LEFT' }], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'NPS detractor', signals: [{ type: 'NPS_DETRACTOR', score: 3 }], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'health AT_RISK', posture: { health: 'AT_RISK' }, steps: [M, B], evidence: { [M]: ['posture.health'] } },
  { name: 'health HEALTHY', posture: { health: 'HEALTHY', arr: 120000 }, steps: [B], evidence: {} },
  { name: 'health CRITICAL: meeting and escalation', posture: { health: 'CRITICAL' }, steps: [M, B, E], evidence: { [M]: ['posture.health'], [E]: ['posture.health'] } },
  // Support
  { name: 'support risk LOW, no escalations', signals: [support('LOW')], steps: [B], evidence: {} },
  { name: 'support risk MEDIUM', signals: [support('MEDIUM')], steps: [B, E], evidence: { [E]: ['signals[0]'] } },
  { name: 'support risk HIGH with 2 escalations', signals: [support('HIGH', 2)], steps: [B, E], evidence: { [E]: ['signals[0]'] } },
  { name: 'support risk CRITICAL', signals: [support('CRITICAL')], steps: [B, E], evidence: { [E]: ['signals[0]'] } },
  { name: 'support risk LOW with 1 open escalation', signals: [support('LOW', 1)], steps: [B, E], evidence: { [E]: ['signals[0]'] } },
  { name: 'support risk without severity, 3 escalations', signals: [{ type: 'SUPPORT_RISK', open_escalations: 3 }], steps: [B, E], evidence: { [E]: ['signals[0]'] } },
  { name: 'two support risks, only one qualifies', signals: [support('LOW'), support('HIGH')], steps: [B, E], evidence: { [E]: ['signals[1]'] } },
  // History windows
  { name: 'meeting requested 13 days ago', signals: [window(45)], history: [meeting(daysAgo(13))], steps: [B], evidence: {} },
  { name: 'meeting requested exactly 14 days ago', signals: [window(45)], history: [meeting(daysAgo(14))], steps: [B], evidence: {} },
  { name: 'meeting requested 15 days ago', signals: [window(45)], history: [meeting(daysAgo(15))], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'a meeting dated in the future counts', signals: [drop(50)], history: [meeting('2026-12-01T00:00:00Z')], steps: [B], evidence: {} },
  { name: 'recent history of another step does not hold the meeting back', signals: [window(45)], history: [{ action_type: B, at: daysAgo(2) }], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'unreadable history date does not hold the meeting back', signals: [window(45)], history: [{ action_type: M, at: 'last week' }], steps: [M, B], evidence: { [M]: ['signals[0]'] }, warnings: ['UNREADABLE_DATE'] },
  // Conflicting and combined signals
  { name: 'healthy posture but a usage drop', posture: { health: 'HEALTHY' }, signals: [drop(30)], steps: [M, B], evidence: { [M]: ['signals[0]'] } },
  { name: 'far renewal but champion left', signals: [window(300), { type: 'CHAMPION_LEFT' }], steps: [M, B], evidence: { [M]: ['signals[1]'] } },
  {
    name: 'everything at once',
    posture: { health: 'CRITICAL', renewal_date: '2027-06-01' },
    signals: [window(45), drop(35), { type: 'CHAMPION_LEFT' }, { type: 'NPS_DETRACTOR', score: 2 }, support('HIGH', 2)],
    steps: [M, B, E],
    evidence: { [M]: ['signals[0]', 'signals[1]', 'signals[2]', 'signals[3]', 'posture.health'], [E]: ['signals[4]', 'posture.health'] },
  },
  { name: 'support risk and a near renewal', signals: [support('MEDIUM', 1), window(90)], steps: [M, B, E], evidence: { [M]: ['signals[1]'], [E]: ['signals[0]'] } },
  { name: 'tenant goals alone change nothing', tenant_goals: { retention_target: 0.95 }, steps: [B], evidence: {} },
  // Bad input: ignored, reported, never fatal
  { name: 'mistyped signal type', signals: [{ type: 'RENEWAL_WINDOWS', days_to_renewal: 45 }], steps: [B], evidence: {}, warnings: ['UNKNOWN_SIGNAL_TYPE'] },
  { name: 'signals list sent as a string', signals: ['[{"type":"RENEWAL_WINDOW","days_to_renewal":45}]'], steps: [B], evidence: {}, warnings: ['MALFORMED_SIGNAL'] },
  { name: 'unreadable renewal date in a signal', signals: [{ type: 'RENEWAL_WINDOW', renewal_date: '2027-13-45' }], steps: [B], evidence: {}, warnings: ['UNREADABLE_DATE'] },
  { name: 'unreadable posture date, readable signal', posture: { renewal_date: '07/01/2027' }, signals: [window(45)], steps: [M, B], evidence: { [M]: ['signals[0]'] }, warnings: ['UNREADABLE_DATE'] },
  { name: 'usage drop percent as a string', signals: [{ type: 'USAGE_DROP', percent: '35%' }], steps: [B], evidence: {}, warnings: ['MALFORMED_SIGNAL'] },
  { name: 'misspelled signal field', signals: [{ type: 'RENEWAL_WINDOW', days_to_renewl: 45 }], steps: [B], evidence: {}, warnings: ['UNKNOWN_SIGNAL_FIELD'] },
  { name: 'unknown health value', posture: { health: 'GREEN' }, steps: [B], evidence: {}, warnings: ['UNREADABLE_POSTURE_FIELD'] },
  { name: 'a valid signal after a broken one keeps its index', signals: [42, drop(60)], steps: [M, B], evidence: { [M]: ['signals[1]'] }, warnings: ['MALFORMED_SIGNAL'] },
];
