// Step work (docs/steps.md): each step's work facts on the plan card (assignee, started,
// finished, note, overdue), the buttons that record work on an ACTIVE plan's PENDING steps and
// complete the plan, and "My work": the signed-in person's open steps, overdue first.
import { gql } from './api.js';
import { successNotice, type AppContext } from './context.js';
import { askForm } from './askForm.js';
import { h, replace } from './dom.js';
import { humanize, relativeTime, timeEl } from './format.js';
import type { PlanDetail, PlanStep } from './queries.js';
import { MY_WORK, STEP_MUTATIONS, type MyWorkPlan, type StepPayload, type StepVerb } from './stepQueries.js';
import type { DashboardMyWorkQuery } from './generated/operations.js';

const DONE_WORDS: Record<StepVerb, string> = { start: 'started', complete: 'completed', skip: 'skipped', fail: 'marked failed', assign: 'assigned' };

/** A red "Overdue" badge (the word says it, not only the colour). */
const overdueBadge = (): HTMLElement => h('span', { class: 'badge overdue', 'data-overdue': 'true' }, 'Overdue');

/** Who works the step and what happened to it so far. */
export function stepWorkFacts(st: PlanStep): HTMLElement {
  const parts: (Node | string)[] = [h('span', { class: 'label' }, 'Assignee: '), st.assignee ? h('strong', { class: 'assignee' }, st.assignee) : h('span', { class: 'muted' }, 'nobody')];
  if (st.startedAt) parts.push(' · ', h('span', { class: 'label' }, 'Started: '), timeEl(st.startedAt));
  if (st.completedAt) parts.push(' · ', h('span', { class: 'label' }, `${humanize(st.status)}: `), timeEl(st.completedAt));
  if (st.overdue) parts.push(' ', overdueBadge());
  return h(
    'div',
    { class: 'step-work', 'data-step-id': st.stepId },
    h('p', { class: 'small' }, ...parts),
    st.note ? h('p', { class: 'small step-note' }, h('span', { class: 'label' }, st.status === 'DONE' ? 'Note: ' : 'Reason: '), st.note) : null,
  );
}

interface AskOptions {
  verb: StepVerb | 'completePlan';
  opener: string;
  label: string;
  submit: string;
  required: boolean;
  initial?: string;
  /** The mutation's variables for the text typed. */
  vars: (text: string) => Record<string, unknown>;
}

/** The buttons of step work and plan completion; results go to the card's result area. */
export class StepActions {
  private busy = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly result: HTMLElement,
    private readonly afterChange: () => Promise<void>,
  ) {}

  /** Controls for one step: only on an ACTIVE plan, a PENDING step, and for a proposer or approver. */
  forStep(plan: PlanDetail, st: PlanStep): HTMLElement | null {
    if (plan.status !== 'ACTIVE' || st.status !== 'PENDING' || !(this.ctx.can('plan-proposer') || this.ctx.can('plan-approver'))) return null;
    const name = st.actionType;
    const ids = { planId: plan.planId, stepId: st.stepId };
    const row = h('div', { class: 'button-row step-actions', 'data-step-actions': st.stepId });
    if (!st.startedAt) row.append(this.button('start', `Start`, `Start ${name}`, () => this.run('start', ids, name)));
    row.append(
      this.ask({ verb: 'complete', opener: 'Complete…', label: `Note on completing ${name} (optional)`, submit: 'Complete step', required: false, vars: (note) => ({ ...ids, note: note || null }) }, name),
      this.ask({ verb: 'skip', opener: 'Skip…', label: `Why is ${name} skipped? (required, recorded in the ledger)`, submit: 'Skip step', required: true, vars: (reason) => ({ ...ids, reason }) }, name),
      this.ask({ verb: 'fail', opener: 'Fail…', label: `Why did ${name} fail? (required, recorded in the ledger)`, submit: 'Mark failed', required: true, vars: (reason) => ({ ...ids, reason }) }, name),
      this.ask(
        {
          verb: 'assign',
          opener: 'Assign…',
          label: `Assign ${name} to (a user id; empty to unassign)`,
          submit: 'Assign',
          required: false,
          initial: st.assignee ?? this.ctx.viewer()?.sub ?? '',
          vars: (assignee) => ({ ...ids, assignee: assignee || null }),
        },
        name,
      ),
    );
    return row;
  }

  /** "Complete plan…" for an approver on an ACTIVE plan (objective met). */
  completePlan(plan: PlanDetail): HTMLElement | null {
    if (plan.status !== 'ACTIVE' || !this.ctx.can('plan-approver')) return null;
    return this.ask(
      { verb: 'completePlan', opener: 'Complete plan…', label: 'Note on completing the plan: the objective is met (optional)', submit: 'Complete plan', required: false, vars: (note) => ({ planId: plan.planId, note: note || null }) },
      'the plan',
    );
  }

  private button(verb: string, label: string, ariaLabel: string, onClick: () => void): HTMLButtonElement {
    return h('button', { type: 'button', class: 'secondary', 'data-step-action': verb, 'aria-label': ariaLabel, onClick }, label);
  }

  /** A button that opens an inline form asking for one text (a reason, a note, an assignee). */
  private ask(options: AskOptions, name: string): HTMLElement {
    return askForm({
      actionAttribute: 'data-step-action',
      action: options.verb,
      wrapperClass: 'ask',
      formClass: 'ask-form',
      opener: options.opener,
      openerClass: 'secondary',
      name: `${options.opener.replace('…', '')} ${name}`,
      label: options.label,
      required: options.required,
      ...(options.initial !== undefined ? { initial: options.initial } : {}),
      submit: options.submit,
      submitClass: options.verb === 'fail' ? 'danger' : 'primary',
      onMissing: () => this.ctx.announce('Give a reason: it is recorded in the ledger.', 'error'),
      onSubmit: (text, button) => void this.run(options.verb, options.vars(text), name, button),
    });
  }

  private async run(verb: StepVerb | 'completePlan', vars: Record<string, unknown>, name: string, button: HTMLButtonElement | null = null): Promise<void> {
    const token = this.ctx.token();
    if (!token || this.busy) return;
    const { field, document } = STEP_MUTATIONS[verb];
    this.busy = true;
    if (button) button.disabled = true;
    replace(this.result);
    try {
      const data = await gql<Record<string, StepPayload>>(document, vars, token);
      const plan = data[field]?.plan;
      const done = verb === 'completePlan' ? 'Plan completed (objective met).' : `${humanize(name)} ${DONE_WORDS[verb]}.`;
      const finished = verb !== 'completePlan' && plan?.status === 'COMPLETED' ? ` That was the last open step: the plan is COMPLETED (${plan.completionReason ?? ''}).` : '';
      replace(this.result, successNotice(done + finished));
      this.ctx.announce(done + finished, 'success');
    } catch (e) {
      this.ctx.fail(e, this.result, verb === 'completePlan' ? 'Completing the plan' : `${humanize(verb)} ${name}`);
    } finally {
      this.busy = false;
      if (button?.isConnected) button.disabled = false;
    }
    await this.afterChange();
  }
}

interface WorkItem {
  plan: MyWorkPlan;
  step: MyWorkPlan['steps'][number];
}

/** "My work": the signed-in person's open steps across the tenant's plans, overdue first, then by due date. */
export class MyWorkView {
  private readonly heading = h('h2', { id: 'my-work-heading' }, 'My work');
  private readonly body = h('div', { id: 'my-work-body' });

  constructor(
    root: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(root, this.heading, this.body);
  }

  async reload(): Promise<void> {
    const token = this.ctx.token();
    const me = this.ctx.viewer()?.sub;
    if (!token || !me) return;
    this.body.setAttribute('aria-busy', 'true');
    try {
      const data = await gql<DashboardMyWorkQuery>(MY_WORK, { assignee: me }, token);
      const items: WorkItem[] = data.plans.edges.flatMap(({ node }) => node.steps.filter((st) => st.status === 'PENDING' && st.assignee === me).map((step) => ({ plan: node, step })));
      items.sort((a, b) => Number(b.step.overdue) - Number(a.step.overdue) || (a.step.dueAt ?? '9').localeCompare(b.step.dueAt ?? '9'));
      replace(this.heading, `My work (${items.length})`);
      replace(
        this.body,
        items.length
          ? h('ol', { class: 'my-work', 'aria-label': `Open steps assigned to ${me}, overdue first` }, ...items.map((item) => this.renderItem(item)))
          : h('p', { class: 'empty' }, `No open step is assigned to ${me}.`),
      );
    } catch (e) {
      this.ctx.fail(e, this.body, 'Loading my work');
    } finally {
      this.body.removeAttribute('aria-busy');
    }
  }

  private renderItem({ plan, step }: WorkItem): HTMLElement {
    return h(
      'li',
      { 'data-plan-id': plan.planId, 'data-step-id': step.stepId, 'data-overdue': String(step.overdue) },
      h('p', {}, h('code', {}, step.actionType), ' ', h('span', { class: 'muted' }, `for ${plan.accountId}`), ' ', step.overdue ? overdueBadge() : null, ' ', plan.status !== 'ACTIVE' ? h('span', { class: 'muted small' }, `(plan ${plan.status})`) : null),
      h(
        'p',
        { class: 'small' },
        h('span', { class: 'label' }, 'Due: '),
        step.dueAt ? timeEl(step.dueAt) : '—',
        step.dueAt ? ` (${relativeTime(step.dueAt)})` : '',
        ' · ',
        h('button', { type: 'button', class: 'link', onClick: () => void this.ctx.openPlan(plan.planId, { focus: true }) }, `Open plan for ${plan.accountId}`),
      ),
    );
  }
}
