// One plan: its card (objective, steps, status, expiry), the lifecycle buttons the token's roles
// allow, and its ledger story as a timeline with the chain's verification result.
import { gql } from './api.js';
import { gateNotice, successNotice, type AppContext } from './context.js';
import { h, replace, uid } from './dom.js';
import { evidenceList, proposalInputOf } from './evidence.js';
import { formatTime, humanize, relativeTime, shortHash, statusBadge, timeEl } from './format.js';
import { StepActions, stepWorkFacts } from './stepsView.js';
import { askForm } from './askForm.js';
import {
  ACTIVATION_CHECK,
  PLAN_DETAIL,
  PLAN_LEDGER,
  TERMINAL_STATUSES,
  TRANSITIONS,
  VERIFY_LEDGER,
  type DashboardActivationCheckQuery,
  type DashboardPlanLedgerQuery,
  type DashboardPlanQuery,
  type DashboardVerifyLedgerQuery,
  type GateReason,
  type LedgerEntry,
  type LedgerVerification,
  type PlanDetail,
  type TransitionKind,
  type TransitionPayload,
} from './queries.js';

const LEDGER_PAGE = 100;

const DONE_WORDS: Record<TransitionKind, string> = {
  approve: 'approved',
  activate: 'activated',
  pause: 'paused',
  resume: 'resumed',
  abort: 'aborted',
};

export class PlanCard {
  private planId: string | null = null;
  private plan: PlanDetail | null = null;
  private ledger: LedgerEntry[] = [];
  private ledgerCursor: string | null = null;
  private ledgerHasMore = false;
  private busy = false;

  private readonly heading = h('h2', { id: 'plan-card-heading', tabindex: '-1' }, 'Plan');
  private readonly body = h('div', { id: 'plan-card-body' });
  /** Survives reloads of the same plan, so a refusal stays visible after the card refreshes. */
  private readonly result = h('div', { id: 'action-result', class: 'action-result' });
  private readonly stepActions: StepActions;

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    this.stepActions = new StepActions(ctx, this.result, async () => {
      await Promise.all([this.reload(), this.ctx.refreshOverview()]);
    });
    replace(root, this.heading, this.result, this.body);
    this.renderEmpty();
  }

  get currentPlanId(): string | null {
    return this.planId;
  }

  renderEmpty(): void {
    this.planId = null;
    this.plan = null;
    replace(this.heading, 'Plan');
    replace(this.result);
    replace(this.body, h('div', { class: 'empty' }, h('p', {}, 'Select a plan from the list (or propose one) to see its card and ledger story.')));
  }

  async open(planId: string, options: { focus?: boolean } = {}): Promise<void> {
    replace(this.result); // results belong to the action that produced them, not to a fresh look
    this.planId = planId;
    await this.reload();
    if (options.focus) this.heading.focus();
  }

  async reload(): Promise<void> {
    const planId = this.planId;
    const token = this.ctx.token();
    if (!planId || !token) return;
    this.body.setAttribute('aria-busy', 'true');
    const [planResult, ledgerResult, verifyResult] = await Promise.allSettled([
      gql<DashboardPlanQuery>(PLAN_DETAIL, { planId }, token),
      gql<DashboardPlanLedgerQuery>(PLAN_LEDGER, { planId, first: LEDGER_PAGE, after: null }, token),
      gql<DashboardVerifyLedgerQuery>(VERIFY_LEDGER, { planId }, token),
    ]);
    this.body.removeAttribute('aria-busy');
    if (planId !== this.planId) return; // another plan was opened meanwhile

    if (planResult.status === 'rejected') {
      replace(this.heading, 'Plan');
      replace(this.body);
      this.ctx.fail(planResult.reason, this.body, 'Loading the plan');
      return;
    }
    const plan = planResult.value.plan;
    if (!plan) {
      replace(this.heading, 'Plan not found');
      replace(this.body, h('div', { class: 'empty' }, h('p', {}, 'This plan does not exist, or it belongs to another tenant.')));
      return;
    }
    this.plan = plan;
    if (ledgerResult.status === 'fulfilled') {
      this.ledger = ledgerResult.value.planLedger.edges.map((e) => e.node);
      this.ledgerCursor = ledgerResult.value.planLedger.pageInfo.endCursor;
      this.ledgerHasMore = ledgerResult.value.planLedger.pageInfo.hasNextPage;
    }
    replace(this.heading, `Plan for ${plan.accountId}`);
    replace(
      this.body,
      this.renderSummary(plan),
      this.renderSteps(plan),
      this.renderActions(plan),
      this.renderStory(ledgerResult.status === 'rejected' ? ledgerResult.reason : null, verifyResult),
    );
  }

  private renderSummary(plan: PlanDetail): HTMLElement {
    const row = (term: string, ...value: (Node | string)[]) => [h('dt', {}, term), h('dd', {}, ...value)];
    const expiry = TERMINAL_STATUSES.includes(plan.status) ? '' : ` (${relativeTime(plan.expiresAt)})`;
    return h(
      'div',
      { class: 'plan-summary', 'data-plan-id': plan.planId, 'data-status': plan.status },
      h('p', { class: 'objective-line' }, h('span', { class: 'label' }, 'Objective: '), plan.objective),
      h(
        'dl',
        { class: 'facts' },
        ...row('Status', statusBadge(plan.status)),
        ...row('Expires', timeEl(plan.expiresAt), expiry),
        ...row('Plan type', plan.planType),
        ...row('Created', timeEl(plan.createdAt), plan.createdBy ? ` by ${plan.createdBy}` : ''),
        ...(plan.approvedAt ? row('Approved', timeEl(plan.approvedAt), plan.approvedBy ? ` by ${plan.approvedBy}` : '') : []),
        ...(plan.completedAt ? row('Completed', timeEl(plan.completedAt), plan.completionReason ? ` (${plan.completionReason})` : '') : []),
        ...(plan.abortedAt ? row('Aborted', timeEl(plan.abortedAt)) : []),
        ...(plan.expiredAt ? row('Expired', timeEl(plan.expiredAt)) : []),
        ...row('Plan id', h('code', {}, plan.planId)),
      ),
    );
  }

  private renderSteps(plan: PlanDetail): HTMLElement {
    const byId = new Map(plan.steps.map((st) => [st.stepId, st]));
    const steps = [...plan.steps].sort((a, b) => a.sequence - b.sequence);
    return h(
      'section',
      { class: 'steps', 'aria-labelledby': 'steps-heading' },
      h('h3', { id: 'steps-heading' }, `Steps (${steps.length}: ${plan.openSteps} open, ${plan.overdueSteps} overdue)`),
      steps.length
        ? h(
            'ol',
            { class: 'step-list' },
            ...steps.map((st) => {
              const deps = st.dependencies.map((id) => byId.get(id)?.actionType ?? `unknown step ${id}`);
              const input = proposalInputOf(plan.planId);
              return h(
                'li',
                { 'data-action-type': st.actionType, 'data-sequence': st.sequence },
                h('span', { class: 'seq', 'aria-label': `Sequence ${st.sequence}` }, st.sequence),
                h(
                  'div',
                  {},
                  h('p', { class: 'step-title' }, h('code', {}, st.actionType), ' ', h('span', { class: 'muted' }, humanize(st.actionType)), ' ', h('span', { class: 'badge step' }, st.status)),
                  h('p', { class: 'small deps' }, deps.length ? `Depends on: ${deps.join(', ')}` : 'No dependencies'),
                  h(
                    'p',
                    { class: 'small step-due' },
                    h('span', { class: 'label' }, 'Due: '),
                    st.dueAt ? timeEl(st.dueAt) : '—',
                    st.dueAt && !TERMINAL_STATUSES.includes(plan.status) ? ` (${relativeTime(st.dueAt)})` : '',
                    ' · ',
                    h('span', { class: 'label' }, 'Owner: '),
                    st.ownerRole ? h('code', { class: 'owner-role' }, st.ownerRole) : '—',
                  ),
                  stepWorkFacts(st),
                  st.rationale ? h('p', { class: 'rationale' }, h('span', { class: 'label' }, 'Why: '), st.rationale) : null,
                  evidenceList(st.evidence ?? [], input),
                  this.stepActions.forStep(plan, st),
                ),
              );
            }),
          )
        : h('p', { class: 'empty' }, 'This plan has no steps.'),
    );
  }

  private renderActions(plan: PlanDetail): HTMLElement {
    const section = h('section', { class: 'lifecycle', 'aria-labelledby': 'actions-heading' }, h('h3', { id: 'actions-heading' }, 'Lifecycle'));
    if (TERMINAL_STATUSES.includes(plan.status)) {
      section.append(h('p', { class: 'muted' }, `No further actions: the plan is ${plan.status}, a final status.`));
      return section;
    }
    const canApprove = this.ctx.can('plan-approver');
    const needsPreconditions = plan.status === 'APPROVED' || plan.status === 'PAUSED';
    const preconditionsId = uid('preconditions');
    const preconditions = h('input', { type: 'checkbox', id: preconditionsId, name: 'preconditionsMet' });
    const buttons = h('div', { class: 'button-row' });

    if (needsPreconditions) {
      section.append(
        h(
          'div',
          { class: 'checkbox' },
          preconditions,
          h('label', { for: preconditionsId }, 'Preconditions met (the account is ready for this plan to run)'),
        ),
      );
    }
    if (canApprove) {
      if (plan.status === 'DRAFT') buttons.append(this.actionButton('approve', 'Approve', 'primary', () => ({})));
      if (plan.status === 'APPROVED') buttons.append(this.actionButton('activate', 'Activate', 'primary', () => ({ preconditionsMet: preconditions.checked })));
      if (plan.status === 'PAUSED') buttons.append(this.actionButton('resume', 'Resume', 'primary', () => ({ preconditionsMet: preconditions.checked })));
      if (plan.status === 'ACTIVE') buttons.append(this.actionButton('pause', 'Pause', 'secondary', () => ({ reason: null })));
      if (plan.status !== 'DRAFT') buttons.append(this.abortButton());
      const complete = this.stepActions.completePlan(plan);
      if (complete) buttons.append(complete);
    }
    if (needsPreconditions) {
      buttons.append(h('button', { type: 'button', class: 'secondary', id: 'check-gate', onClick: () => void this.checkGate(preconditions.checked) }, 'Check with the Policy Gate'));
    }
    if (!canApprove) {
      section.append(h('p', { class: 'muted', id: 'no-lifecycle-role' }, 'Your token does not have the plan-approver role, so lifecycle actions (approve, activate, pause, resume, abort) are not offered.'));
    } else if (plan.status === 'DRAFT') {
      section.append(h('p', { class: 'muted small' }, 'Approving runs the Policy Gate’s structural checks; the plan stays unchanged if it refuses.'));
    }
    section.append(buttons);
    return section;
  }

  private actionButton(kind: TransitionKind, label: string, style: string, vars: () => Record<string, unknown>): HTMLButtonElement {
    const button = h('button', { type: 'button', class: style, 'data-action': kind }, label);
    button.addEventListener('click', () => void this.transition(kind, vars(), button));
    return button;
  }

  /** "Abort…" opens an inline form that asks for the (required) reason. */
  private abortButton(): HTMLElement {
    return askForm({
      actionAttribute: 'data-action',
      action: 'abort',
      wrapperClass: 'abort',
      formClass: 'abort-form',
      opener: 'Abort…',
      openerClass: 'danger',
      name: 'Abort the plan',
      label: 'Reason for aborting (required, recorded in the ledger)',
      hint: 'Aborting is final. Press Escape to cancel.',
      required: true,
      submit: 'Abort plan',
      submitClass: 'danger',
      onMissing: () => this.ctx.announce('Give a reason for aborting the plan.', 'error'),
      onSubmit: (reason, button) => void this.transition('abort', { reason }, button),
    });
  }

  private async transition(kind: TransitionKind, vars: Record<string, unknown>, button: HTMLButtonElement | null): Promise<void> {
    const planId = this.planId;
    const token = this.ctx.token();
    if (!planId || !token || this.busy) return;
    const { field, document } = TRANSITIONS[kind];
    this.busy = true;
    if (button) button.disabled = true;
    replace(this.result);
    try {
      const data = await gql<Record<string, TransitionPayload>>(document, { planId, ...vars }, token);
      const payload = data[field];
      if (!payload) throw new Error(`the answer has no ${field}`);
      if (payload.ok) {
        const status = payload.plan?.status ?? '';
        replace(this.result, successNotice(`Plan ${DONE_WORDS[kind]}. Status is now ${status}.`));
        this.ctx.announce(`Plan ${DONE_WORDS[kind]}. Status is now ${status}.`, 'success');
      } else {
        this.showRefusal(`The Policy Gate refused to ${kind} the plan; it is unchanged.`, payload.reasons);
      }
      await Promise.all([this.reload(), this.ctx.refreshOverview()]);
    } catch (e) {
      this.ctx.fail(e, this.result, `${humanize(kind)}`);
      await this.reload();
    } finally {
      this.busy = false;
      if (button?.isConnected) button.disabled = false;
    }
  }

  private async checkGate(preconditionsMet: boolean): Promise<void> {
    const planId = this.planId;
    const token = this.ctx.token();
    if (!planId || !token) return;
    replace(this.result);
    try {
      const data = await gql<DashboardActivationCheckQuery>(ACTIVATION_CHECK, { planId, preconditionsMet }, token);
      const check = data.planActivationCheck;
      if (check.canActivate) {
        replace(this.result, successNotice('The Policy Gate would allow activating this plan now.'));
        this.ctx.announce('The Policy Gate would allow activating this plan now.', 'success');
      } else {
        this.showRefusal('The Policy Gate would refuse activation now:', check.reasons);
      }
    } catch (e) {
      this.ctx.fail(e, this.result, 'Checking the Policy Gate');
    }
  }

  private showRefusal(title: string, reasons: readonly GateReason[]): void {
    replace(this.result, gateNotice(title, reasons));
    this.ctx.announce(`${title} ${reasons.map((r) => `${r.code}: ${r.message}`).join('; ')}`, 'error');
  }

  private renderStory(ledgerError: unknown, verify: PromiseSettledResult<{ verifyPlanLedger: LedgerVerification }>): HTMLElement {
    const section = h('section', { class: 'story', 'aria-labelledby': 'story-heading' }, h('h3', { id: 'story-heading' }, 'Ledger story'));
    if (verify.status === 'fulfilled') {
      const v = verify.value.verifyPlanLedger;
      section.append(
        v.valid
          ? h('p', { class: 'verify ok', id: 'ledger-verification', 'data-valid': 'true' }, h('span', { 'aria-hidden': 'true' }, '✔ '), `Chain verified: ${v.entries} entr${v.entries === 1 ? 'y' : 'ies'}, every hash links to the one before.`)
          : h('p', { class: 'verify broken', id: 'ledger-verification', 'data-valid': 'false', role: 'alert' }, h('span', { 'aria-hidden': 'true' }, '✖ '), `Chain BROKEN at seq ${v.brokenAtSeq ?? '?'} (${v.entries} entries): the ledger was changed after it was written.`),
      );
    } else {
      const box = h('div', {});
      this.ctx.fail(verify.reason, box, 'Verifying the ledger');
      section.append(box);
    }
    if (ledgerError) {
      const box = h('div', {});
      this.ctx.fail(ledgerError, box, 'Loading the ledger');
      section.append(box);
      return section;
    }
    if (!this.ledger.length) {
      section.append(h('p', { class: 'empty' }, 'No ledger entries yet.'));
      return section;
    }
    const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'Ledger entries, oldest first' }, ...this.ledger.map((entry) => this.renderEntry(entry)));
    section.append(list);
    if (this.ledgerHasMore) {
      const more = h('button', { type: 'button', class: 'secondary' }, 'Load more ledger entries');
      more.addEventListener('click', () => void this.loadMoreLedger(list, more));
      section.append(more);
    }
    return section;
  }

  private renderEntry(entry: LedgerEntry): HTMLElement {
    const data = (entry.data ?? {}) as Record<string, unknown>;
    const reason = typeof data['reason'] === 'string' ? data['reason'] : null;
    return h(
      'li',
      { class: `entry event-${entry.eventType.toLowerCase()}`, 'data-event-type': entry.eventType, 'data-seq': entry.seq },
      h('div', { class: 'entry-head' }, h('span', { class: 'seq' }, `#${entry.seq}`), ' ', h('strong', { class: 'event' }, entry.eventType)),
      h('p', { class: 'entry-meta' }, 'by ', h('span', { class: 'actor' }, entry.actor ?? 'system'), ' · ', h('time', { datetime: entry.timestamp }, formatTime(entry.timestamp))),
      reason ? h('p', { class: 'entry-reason' }, h('span', { class: 'label' }, 'Reason: '), reason) : null,
      h(
        'p',
        { class: 'entry-hash small muted' },
        'hash ',
        h('code', { title: entry.hash }, shortHash(entry.hash)),
        entry.prevHash ? ' · previous ' : ' · first entry',
        entry.prevHash ? h('code', { title: entry.prevHash }, shortHash(entry.prevHash)) : null,
      ),
      Object.keys(data).length ? h('details', { class: 'entry-data' }, h('summary', {}, 'Data'), h('pre', {}, JSON.stringify(data, null, 2))) : null,
    );
  }

  private async loadMoreLedger(list: HTMLOListElement, button: HTMLButtonElement): Promise<void> {
    const planId = this.planId;
    const token = this.ctx.token();
    if (!planId || !token) return;
    button.disabled = true;
    try {
      const data = await gql<DashboardPlanLedgerQuery>(PLAN_LEDGER, { planId, first: LEDGER_PAGE, after: this.ledgerCursor }, token);
      const entries = data.planLedger.edges.map((e) => e.node);
      this.ledger.push(...entries);
      list.append(...entries.map((e) => this.renderEntry(e)));
      this.ledgerCursor = data.planLedger.pageInfo.endCursor;
      this.ledgerHasMore = data.planLedger.pageInfo.hasNextPage;
      button.hidden = !this.ledgerHasMore;
    } catch (e) {
      this.ctx.fail(e, this.result, 'Loading more ledger entries');
    } finally {
      button.disabled = false;
    }
  }
}
