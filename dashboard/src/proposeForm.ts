// Development helper: runs proposePlan for an account with example signals and shows what the
// generator produced (source, dropped steps). Needs the plan-proposer role.
import { gql } from './api.js';
import { successNotice, type AppContext } from './context.js';
import { h, replace, uid } from './dom.js';
import { rememberProposalInput } from './evidence.js';
import { formatTime, statusBadge } from './format.js';
import { PROPOSE, type DashboardProposeMutation } from './queries.js';

const EXAMPLE_SIGNALS = JSON.stringify(
  [
    { type: 'RENEWAL_WINDOW', days_to_renewal: 45 },
    { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
  ],
  null,
  2,
);
const EXAMPLE_POSTURE = JSON.stringify({ health: 'AT_RISK', arr: 120000 }, null, 2);

interface JsonField {
  id: string;
  el: HTMLTextAreaElement;
  errorEl: HTMLElement;
  label: string;
  hint: string;
  hintId: string;
  kind: 'array' | 'object';
}

function randomKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `dash-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export class ProposeForm {
  private readonly form: HTMLFormElement;
  private readonly account: HTMLInputElement;
  private readonly accountError = h('p', { class: 'field-error', id: uid('account-error') });
  private readonly signals: JsonField;
  private readonly posture: JsonField;
  private readonly history: JsonField;
  private readonly submit = h('button', { type: 'submit', id: 'propose-submit' }, 'Propose plan');
  private readonly roleNote = h('p', { class: 'notice info', id: 'propose-role-note', hidden: true });
  private readonly result = h('div', { id: 'propose-result', class: 'propose-result' });
  /** Reused while a retry of the same input is pending, so a retried request cannot create two plans. */
  private idempotencyKey: string | null = null;

  constructor(
    root: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    const accountId = uid('propose-account');
    this.account = h('input', { id: accountId, name: 'accountId', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', value: 'acct-1001', 'aria-describedby': this.accountError.id });
    this.signals = this.jsonField('Signals (JSON array)', 'signals', EXAMPLE_SIGNALS, 'array', 'e.g. RENEWAL_WINDOW, SUPPORT_RISK, USAGE_DROP, CHAMPION_LEFT, NPS_DETRACTOR.', 7);
    this.posture = this.jsonField('Posture (JSON object, optional)', 'posture', EXAMPLE_POSTURE, 'object', 'health: HEALTHY | AT_RISK | CRITICAL; arr; renewal_date.', 3);
    this.history = this.jsonField('History (JSON array, optional)', 'history', '', 'array', 'e.g. [{"action_type":"REQUEST_RENEWAL_MEETING","at":"2026-11-01T10:00:00Z"}]', 2);

    this.form = h(
      'form',
      { id: 'propose-form', novalidate: true, 'aria-describedby': 'propose-intro' },
      h('div', { class: 'field' }, h('label', { for: accountId }, 'Account id'), this.account, this.accountError),
      h('p', { class: 'static-value' }, 'Plan type: ', h('code', {}, 'RENEWAL_DEFENSE')),
      this.fieldBlock(this.signals),
      this.fieldBlock(this.posture),
      this.fieldBlock(this.history),
      h('div', { class: 'button-row' }, this.submit, h('button', { type: 'button', class: 'secondary', onClick: () => this.resetExample() }, 'Reset example')),
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.propose();
    });
    this.form.addEventListener('input', () => {
      this.idempotencyKey = null;
    });
    replace(
      root,
      h('h2', { id: 'propose-heading', tabindex: '-1' }, 'Propose a plan'),
      h(
        'p',
        { id: 'propose-intro', class: 'muted' },
        'Development helper: runs ',
        h('code', {}, 'proposePlan'),
        ' for an account with the signals below. The plan is created as DRAFT and needs an approver. Requires the ',
        h('code', {}, 'plan-proposer'),
        ' role.',
      ),
      this.roleNote,
      this.form,
      this.result,
    );
  }

  /** Reflects the token's roles: without plan-proposer the button is disabled and says why. */
  updateRoles(): void {
    const allowed = this.ctx.can('plan-proposer');
    this.submit.disabled = !allowed;
    this.roleNote.hidden = allowed;
    replace(this.roleNote, allowed ? '' : 'Your token does not have the plan-proposer role, so proposing is disabled. Mint a token with --roles plan-proposer to try it.');
  }

  focus(): void {
    this.account.focus();
  }

  private jsonField(label: string, name: string, value: string, kind: 'array' | 'object', hint: string, rows: number): JsonField {
    const id = uid(`propose-${name}`);
    const hintId = uid(`${name}-hint`);
    const errorEl = h('p', { class: 'field-error', id: uid(`${name}-error`) });
    const el = h('textarea', { id, name, rows, spellcheck: 'false', autocomplete: 'off', class: 'mono', 'aria-describedby': `${hintId} ${errorEl.id}` }, value);
    return { el, errorEl, label, kind, id, hint, hintId };
  }

  private fieldBlock(f: JsonField): HTMLElement {
    return h('div', { class: 'field' }, h('label', { for: f.id }, f.label), h('p', { class: 'hint small muted', id: f.hintId }, f.hint), f.el, f.errorEl);
  }

  private resetExample(): void {
    this.account.value = 'acct-1001';
    this.signals.el.value = EXAMPLE_SIGNALS;
    this.posture.el.value = EXAMPLE_POSTURE;
    this.history.el.value = '';
    this.idempotencyKey = null;
    for (const f of [this.signals, this.posture, this.history]) this.setFieldError(f.el, f.errorEl, '');
    this.setFieldError(this.account, this.accountError, '');
  }

  private setFieldError(el: HTMLElement, errorEl: HTMLElement, message: string): void {
    replace(errorEl, message);
    if (message) el.setAttribute('aria-invalid', 'true');
    else el.removeAttribute('aria-invalid');
  }

  /** Parses a JSON field; returns undefined when empty, or marks the field and returns null when invalid. */
  private parseField(field: JsonField): unknown[] | Record<string, unknown> | undefined | null {
    const text = field.el.value.trim();
    this.setFieldError(field.el, field.errorEl, '');
    if (!text) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.setFieldError(field.el, field.errorEl, `Not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
    if (field.kind === 'array') {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null || Array.isArray(v))) {
        this.setFieldError(field.el, field.errorEl, 'Must be a JSON array of objects.');
        return null;
      }
      return value as unknown[];
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.setFieldError(field.el, field.errorEl, 'Must be a JSON object.');
      return null;
    }
    return value as Record<string, unknown>;
  }

  private async propose(): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    replace(this.result);
    const accountId = this.account.value.trim();
    this.setFieldError(this.account, this.accountError, accountId ? '' : 'Enter an account id.');
    const signals = this.parseField(this.signals);
    const posture = this.parseField(this.posture);
    const history = this.parseField(this.history);
    const invalid = [!accountId ? this.account : null, signals === null ? this.signals.el : null, posture === null ? this.posture.el : null, history === null ? this.history.el : null].find(Boolean);
    if (invalid) {
      this.ctx.announce('Fix the highlighted fields, then propose again.', 'error');
      invalid.focus();
      return;
    }
    this.idempotencyKey ??= randomKey();
    const input: Record<string, unknown> = { accountId, planType: 'RENEWAL_DEFENSE', idempotencyKey: this.idempotencyKey };
    if (signals) input['signals'] = signals;
    if (posture) input['posture'] = posture;
    if (history) input['history'] = history;

    this.submit.disabled = true;
    replace(this.submit, 'Proposing…');
    try {
      const data = await gql<DashboardProposeMutation>(PROPOSE, { input }, token);
      const p = data.proposePlan;
      this.idempotencyKey = null;
      const dropped = p.droppedSteps;
      rememberProposalInput(p.plan.planId, {
        ...(signals ? { signals: signals as unknown[] } : {}),
        ...(posture ? { posture: posture as Record<string, unknown> } : {}),
        ...(history ? { history: history as unknown[] } : {}),
      });
      replace(
        this.result,
        successNotice(p.replayed ? `This proposal was made before: showing plan ${p.plan.planId} as it is now.` : `Proposed a DRAFT plan for ${p.plan.accountId}.`),
        p.warnings.length
          ? h(
              'div',
              { class: 'notice warning', id: 'propose-warnings', role: 'status' },
              h('p', {}, h('strong', {}, `${p.warnings.length} input element${p.warnings.length === 1 ? ' was' : 's were'} ignored:`)),
              h('ul', {}, ...p.warnings.map((w) => h('li', { 'data-warning-code': w.code }, h('code', {}, w.code), w.path ? ' at ' : '', w.path ? h('code', {}, w.path) : null, ` — ${w.message}`))),
            )
          : null,
        p.openPlans.length
          ? h(
              'div',
              { class: 'notice info', id: 'propose-open-plans' },
              h('p', {}, h('strong', {}, `This account already has ${p.openPlans.length} other open plan${p.openPlans.length === 1 ? '' : 's'} of this type:`)),
              h(
                'ul',
                {},
                ...p.openPlans.map((o) =>
                  h(
                    'li',
                    { 'data-open-plan': o.planId },
                    h('button', { type: 'button', class: 'link', onClick: () => void this.ctx.openPlan(o.planId, { focus: true }) }, o.objective || o.planId),
                    ' ',
                    statusBadge(o.status),
                    ` created ${formatTime(o.createdAt)}`,
                  ),
                ),
              ),
            )
          : null,
        h(
          'dl',
          { class: 'facts', id: 'propose-facts' },
          h('dt', {}, 'Source'),
          h('dd', { id: 'propose-source' }, h('code', {}, p.source), p.source === 'RULES' ? ' (deterministic rules generator)' : ' (LLM, within hard bounds)'),
          h('dt', {}, 'Proposal id'),
          h('dd', {}, h('code', {}, p.proposalId)),
          h('dt', {}, 'Dropped steps'),
          h(
            'dd',
            { id: 'propose-dropped' },
            dropped.length ? h('ul', {}, ...dropped.map((d) => h('li', {}, h('code', {}, d.actionType), ` — ${d.reason}`))) : 'None: every proposed step was allowed.',
          ),
        ),
      );
      this.ctx.announce(`Proposed a DRAFT plan for ${p.plan.accountId} (source ${p.source}, ${dropped.length} step${dropped.length === 1 ? '' : 's'} dropped).`, 'success');
      await Promise.all([this.ctx.openPlan(p.plan.planId), this.ctx.refreshOverview()]);
    } catch (e) {
      this.ctx.fail(e, this.result, 'Proposing');
    } finally {
      replace(this.submit, 'Propose plan');
      this.updateRoles();
    }
  }
}
