import { describeError } from './api.js';
import { h } from './dom.js';
import type { GateReason, Viewer } from './queries.js';

export type Role = 'plan-viewer' | 'plan-proposer' | 'plan-approver' | 'plan-admin';

/** What the views share: the session, the live region, and cross-view navigation. */
export interface AppContext {
  token(): string | null;
  viewer(): Viewer | null;
  /** True when the token grants the role (proposer, approver and admin include viewer). */
  can(role: Role): boolean;
  /** Says something in the aria-live region (and shows it in the status bar). */
  announce(message: string, kind?: 'info' | 'success' | 'error'): void;
  /**
   * Reports a failed request: shows it in `target` (when given), announces it, and handles the
   * session-wide cases (UNAUTHENTICATED -> back to the token form; unreachable -> banner).
   */
  fail(error: unknown, target: HTMLElement | null, action: string): void;
  openPlan(planId: string, options?: { focus?: boolean }): Promise<void>;
  /** Reloads the counts, the list and the chart (after anything changed). */
  refreshOverview(): Promise<void>;
}

/** Effective roles, applying the service's implication rule (proposer/approver/admin ⊃ viewer). */
export function effectiveRoles(claimed: readonly string[]): Set<Role> {
  const roles = new Set<Role>();
  for (const role of claimed) {
    if (role === 'plan-viewer' || role === 'plan-proposer' || role === 'plan-approver' || role === 'plan-admin') {
      roles.add(role);
      roles.add('plan-viewer');
    }
  }
  return roles;
}

/** An inline error: the code, what it means, and the service's message. */
export function errorNotice(error: unknown, action: string): HTMLElement {
  const { code, text, detail } = describeError(error);
  return h(
    'div',
    { class: 'notice error', 'data-error-code': code },
    h('p', {}, h('strong', {}, `${action} failed: `), h('code', { class: 'code' }, code), ` — ${text}`),
    detail && detail !== text ? h('p', { class: 'detail' }, `Service said: ${detail}`) : null,
  );
}

/** A Policy Gate refusal: every reason as code + message. */
export function gateNotice(title: string, reasons: readonly GateReason[]): HTMLElement {
  return h(
    'div',
    { class: 'notice refusal', 'data-gate': 'refused' },
    h('p', {}, h('strong', {}, title)),
    reasons.length
      ? h('ul', { class: 'reasons' }, ...reasons.map((r) => h('li', { 'data-reason-code': r.code }, h('code', { class: 'code' }, r.code), ` — ${r.message}`)))
      : h('p', {}, 'The service gave no reason.'),
  );
}

export function successNotice(text: string): HTMLElement {
  return h('div', { class: 'notice success' }, h('p', {}, text));
}
