// A step's evidence as people read it: the input element it cites, shown as that element's
// content when the dashboard still has the proposal's input (it proposed the plan in this
// session), else as the path into the input. Plain text only: the input is untrusted.
import { h } from './dom.js';
import type { StepEvidence } from './queries.js';

/** The input a plan was proposed from, as the propose form sent it. */
export interface ProposalInput {
  signals?: unknown[];
  posture?: Record<string, unknown>;
  history?: unknown[];
  tenantGoals?: Record<string, unknown>;
}

/** Inputs of the plans proposed in this tab, by plan id (never stored beyond the page). */
const inputs = new Map<string, ProposalInput>();

export function rememberProposalInput(planId: string, input: ProposalInput): void {
  inputs.set(planId, input);
}

export function proposalInputOf(planId: string): ProposalInput | undefined {
  return inputs.get(planId);
}

/** "signals[0]", "history[1].at", "posture.health", "tenantGoals.retention_target". */
export function evidencePath(e: StepEvidence): string {
  if (e.source === 'SIGNAL' || e.source === 'HISTORY') {
    return `${e.source === 'SIGNAL' ? 'signals' : 'history'}[${e.index ?? '?'}]${e.field ? `.${e.field}` : ''}`;
  }
  return `${e.source === 'POSTURE' ? 'posture' : 'tenantGoals'}.${e.field ?? '?'}`;
}

/** The cited element, readable: "RENEWAL_WINDOW: days_to_renewal 45", "health AT_RISK". */
export function citedValue(e: StepEvidence, input: ProposalInput | undefined): string | null {
  if (!input) return null;
  const item =
    e.source === 'SIGNAL' ? input.signals?.[e.index ?? -1] : e.source === 'HISTORY' ? input.history?.[e.index ?? -1] : undefined;
  if (e.source === 'POSTURE' || e.source === 'TENANT_GOALS') {
    const object = e.source === 'POSTURE' ? input.posture : input.tenantGoals;
    if (!object || !e.field || !Object.hasOwn(object, e.field)) return null;
    return `${e.field} ${show(object[e.field])}`;
  }
  if (item === undefined) return null;
  if (e.field && typeof item === 'object' && item !== null) return `${e.field} ${show((item as Record<string, unknown>)[e.field])}`;
  return describeItem(item);
}

function describeItem(item: unknown): string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return show(item);
  const record = item as Record<string, unknown>;
  const head = typeof record['type'] === 'string' ? record['type'] : typeof record['action_type'] === 'string' ? record['action_type'] : '';
  const rest = Object.entries(record)
    .filter(([k]) => k !== 'type' && k !== 'action_type')
    .map(([k, v]) => `${k} ${show(v)}`);
  return [head, rest.join(', ')].filter(Boolean).join(': ');
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** The evidence list of one step. */
export function evidenceList(evidence: readonly StepEvidence[], input: ProposalInput | undefined): HTMLElement {
  if (evidence.length === 0) return h('p', { class: 'small muted evidence-none' }, 'Evidence: none cited (the step does not rest on a specific input).');
  // Spans, not a nested list: the step list's items stay the steps.
  const items = evidence.map((e) => {
    const value = citedValue(e, input);
    return h('span', { class: 'evidence-item', 'data-evidence': evidencePath(e) }, h('code', {}, evidencePath(e)), value === null ? '' : ` — ${value}`);
  });
  return h(
    'p',
    { class: 'evidence small' },
    h('span', { class: 'label' }, 'Evidence: '),
    ...items.flatMap((item, i) => (i === 0 ? [item] : ['; ', item])),
  );
}
