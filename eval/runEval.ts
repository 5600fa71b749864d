import type { StepEvidence } from '../src/domain/plan.js';
import { isAppError } from '../src/domain/errors.js';
import type { PlanProposalGenerator } from '../src/services/proposal/PlanProposalGenerator.js';
import type { PlanTypeConfig } from '../src/domain/planTypeConfig.js';
import { EVAL_NOW, type Scenario } from './goldenSet.js';

/** How one proposer did on one scenario. */
export interface ScenarioResult {
  name: string;
  /** The proposal's steps equal the expected ones (as a set). */
  stepsAgree: boolean;
  steps: string[];
  /** Expected citations present / expected (1 when none are expected). */
  citedShare: number;
  /** For the rules: every step cites exactly what is expected. */
  evidenceExact: boolean;
  /** Evidence items kept / proposed (the sanitizer drops the ones that point at nothing). */
  evidenceValidity: number;
  droppedSteps: number;
  /** The warning codes expected are the ones produced, in order. */
  warningsAgree: boolean;
  warnings: string[];
  latencyMs: number;
  source: string;
  /** The error code when the proposal failed (e.g. PROPOSAL_REJECTED, LLM_UNAVAILABLE). */
  error: string | null;
}

export interface EvalSummary {
  label: string;
  results: ScenarioResult[];
  scenarios: number;
  stepsAgreement: number;
  citedShare: number;
  evidenceExact: number;
  evidenceValidity: number;
  droppedSteps: number;
  warningsAgreement: number;
  errors: number;
  latencyMsTotal: number;
  latencyMsP50: number;
}

/** An evidence item as a path into the input: signals[0], history[1].at, posture.health, tenantGoals.x. */
export function evidencePath(e: StepEvidence): string {
  switch (e.source) {
    case 'SIGNAL':
    case 'HISTORY':
      return `${e.source === 'SIGNAL' ? 'signals' : 'history'}[${e.index}]${e.field === null ? '' : `.${e.field}`}`;
    case 'POSTURE':
      return `posture.${e.field}`;
    case 'TENANT_GOALS':
      return `tenantGoals.${e.field}`;
  }
}

/** Runs every scenario through the generator (the same code proposePlan runs), one at a time. */
export async function runEval(label: string, generator: PlanProposalGenerator, scenarios: readonly Scenario[], playbook?: PlanTypeConfig): Promise<EvalSummary> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(generator, scenario, playbook));
  return summarize(label, results);
}

async function runScenario(generator: PlanProposalGenerator, scenario: Scenario, playbook: PlanTypeConfig | undefined): Promise<ScenarioResult> {
  const started = performance.now();
  try {
    const result = await generator.generateProposal({
      tenant_id: 'eval',
      account_id: `eval-${scenario.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`.slice(0, 100),
      plan_type: 'RENEWAL_DEFENSE',
      ...(scenario.posture ? { posture: scenario.posture } : {}),
      ...(scenario.signals ? { signals: scenario.signals } : {}),
      ...(scenario.history ? { history: scenario.history } : {}),
      ...(scenario.tenant_goals ? { tenant_goals: scenario.tenant_goals } : {}),
    }, playbook);
    const latencyMs = performance.now() - started;
    const steps = result.plan.steps.map((s) => s.action_type);
    const citedByStep = new Map(result.plan.steps.map((s) => [s.action_type, (s.evidence ?? []).map(evidencePath)]));
    let expected = 0;
    let found = 0;
    let exact = true;
    for (const type of scenario.steps) {
      const want = scenario.evidence[type] ?? [];
      const got = citedByStep.get(type) ?? [];
      expected += want.length;
      found += want.filter((w) => got.includes(w)).length;
      if (!sameSet(want, got)) exact = false;
    }
    const kept = result.plan.steps.reduce((n, s) => n + (s.evidence?.length ?? 0), 0);
    const proposed = kept + result.dropped_evidence.length;
    const warnings = result.warnings.map((w) => w.code);
    return {
      name: scenario.name,
      stepsAgree: sameSet(steps, scenario.steps),
      steps,
      citedShare: expected === 0 ? 1 : found / expected,
      evidenceExact: exact && [...citedByStep.keys()].every((t) => scenario.steps.includes(t)),
      evidenceValidity: proposed === 0 ? 1 : kept / proposed,
      droppedSteps: result.dropped_steps.length,
      warningsAgree: sameList(warnings.filter((w) => w !== 'TRUNCATED_FOR_MODEL'), scenario.warnings ?? []),
      warnings,
      latencyMs,
      source: result.source,
      error: null,
    };
  } catch (error) {
    return {
      name: scenario.name,
      stepsAgree: false,
      steps: [],
      citedShare: 0,
      evidenceExact: false,
      evidenceValidity: 0,
      droppedSteps: 0,
      warningsAgree: false,
      warnings: [],
      latencyMs: performance.now() - started,
      source: '-',
      error: isAppError(error) ? error.code : 'ERROR',
    };
  }
}

function summarize(label: string, results: ScenarioResult[]): EvalSummary {
  const share = (f: (r: ScenarioResult) => number): number => (results.length === 0 ? 1 : results.reduce((n, r) => n + f(r), 0) / results.length);
  const latencies = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  return {
    label,
    results,
    scenarios: results.length,
    stepsAgreement: share((r) => (r.stepsAgree ? 1 : 0)),
    citedShare: share((r) => r.citedShare),
    evidenceExact: share((r) => (r.evidenceExact ? 1 : 0)),
    evidenceValidity: share((r) => r.evidenceValidity),
    droppedSteps: results.reduce((n, r) => n + r.droppedSteps, 0),
    warningsAgreement: share((r) => (r.warningsAgree ? 1 : 0)),
    errors: results.filter((r) => r.error !== null).length,
    latencyMsTotal: latencies.reduce((n, l) => n + l, 0),
    latencyMsP50: latencies[Math.floor(latencies.length / 2)] ?? 0,
  };
}

/** The per-scenario table and the totals, as plain text. */
export function formatSummary(summary: EvalSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  const header = ['scenario', 'steps', 'cited', 'exact', 'valid', 'dropped', 'warnings', 'ms', 'source'];
  const rows = summary.results.map((r) => [
    r.name.slice(0, 56),
    r.error ?? (r.stepsAgree ? 'ok' : `MISS ${r.steps.map(abbreviate).join(',') || '-'}`),
    pct(r.citedShare),
    r.evidenceExact ? 'yes' : 'no',
    pct(r.evidenceValidity),
    String(r.droppedSteps),
    `${r.warningsAgree ? '' : 'MISS '}${r.warnings.join(',') || '-'}`.slice(0, 40),
    r.latencyMs.toFixed(1),
    r.source,
  ]);
  const total = [
    `TOTAL (${summary.scenarios} scenarios)`,
    pct(summary.stepsAgreement),
    pct(summary.citedShare),
    pct(summary.evidenceExact),
    pct(summary.evidenceValidity),
    String(summary.droppedSteps),
    pct(summary.warningsAgreement),
    `${summary.latencyMsTotal.toFixed(0)} (p50 ${summary.latencyMsP50.toFixed(1)})`,
    summary.errors === 0 ? '' : `${summary.errors} errors`,
  ];
  const table = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [`== ${summary.label}`, line(header), ...rows.map(line), line(total)].join('\n');
}

const abbreviate = (type: string): string => type.split('_').map((w) => w[0]).join('');
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export { EVAL_NOW };
