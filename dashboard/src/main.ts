// Entry point: the session (token in sessionStorage, viewer), the live region, and the views.
import { ApiError, describeError, gql, isUnreachable } from './api.js';
import { ChartView } from './chartView.js';
import { offerDevTokens } from './devTokenPanel.js';
import { effectiveRoles, errorNotice, type AppContext, type Role } from './context.js';
import { byId, h, replace } from './dom.js';
import { relativeTime } from './format.js';
import { witnessLedger } from './ledgerWitness.js';
import { PlanCard } from './planCard.js';
import { PlansView } from './plansView.js';
import { PlaybooksView } from './playbooksView.js';
import { ProposeForm } from './proposeForm.js';
import { VIEWER, type DashboardViewerQuery, type Viewer } from './queries.js';
import { WebhooksView } from './webhooksView.js';

const TOKEN_KEY = 'renewal-defense.dashboard.token';

const els = {
  tokenSection: byId('token-section'),
  tokenForm: byId<HTMLFormElement>('token-form'),
  tokenInput: byId<HTMLTextAreaElement>('token-input'),
  tokenError: byId('token-error'),
  dashboard: byId('dashboard'),
  session: byId('session'),
  viewer: byId('viewer'),
  refresh: byId<HTMLButtonElement>('refresh'),
  signOut: byId<HTMLButtonElement>('sign-out'),
  live: byId('live'),
  banner: byId('banner'),
};

let token: string | null = readStoredToken();
let viewer: Viewer | null = null;
let roles = new Set<Role>();
let lastAnnouncement = { text: '', at: 0 };

function readStoredToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: the token lives only in memory
  }
}

function storeToken(value: string | null): void {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled */
  }
}

function announce(message: string, kind: 'info' | 'success' | 'error' = 'info'): void {
  const now = Date.now();
  if (message === lastAnnouncement.text && now - lastAnnouncement.at < 1500) return; // several views failing together
  lastAnnouncement = { text: message, at: now };
  els.live.dataset['kind'] = kind;
  // Clearing first makes screen readers announce a repeated message again.
  replace(els.live);
  setTimeout(() => replace(els.live, message), 30);
}

function showBanner(error: unknown): void {
  const { code, text, detail } = describeError(error);
  replace(
    els.banner,
    h('p', {}, h('strong', {}, 'The service is unreachable. '), h('code', { class: 'code' }, code), ` — ${text} `, h('span', { class: 'muted' }, `(${detail})`)),
    h('button', { type: 'button', class: 'secondary', id: 'retry', onClick: () => void connect(token) }, 'Retry'),
  );
  els.banner.hidden = false;
}

// The ledger witness (ledgerWitness.ts): a red banner when the tenant's signed ledger history
// does not extend what this browser saw before. Its state is in data-state / data-tree-size.
const witnessBanner = h('div', { id: 'ledger-witness', class: 'banner', role: 'alert', hidden: true, 'data-state': 'unchecked' });
els.banner.after(witnessBanner);
let witnessRun: Promise<void> = Promise.resolve();

function checkLedgerWitness(): void {
  const tenantId = viewer?.tenantId;
  const bearer = token;
  if (!tenantId || !bearer) return;
  witnessRun = witnessRun.then(async () => {
    try {
      const result = await witnessLedger(tenantId, bearer);
      if (result.ok) {
        if (witnessBanner.dataset['state'] === 'failed') return; // the evidence stays until a reload
        witnessBanner.dataset['state'] = 'ok';
        witnessBanner.dataset['treeSize'] = String(result.treeSize);
        witnessBanner.dataset['signatureChecked'] = String(result.signatureChecked);
        return;
      }
      witnessBanner.dataset['state'] = 'failed';
      replace(witnessBanner, h('p', {}, h('strong', {}, 'Ledger history check failed: '), result.message, '.'));
      witnessBanner.hidden = false;
      announce(`Ledger history check failed: ${result.message}`, 'error');
    } catch {
      /* unreachable or not allowed: the service banner and the views say so */
    }
  });
}

function hideBanner(): void {
  els.banner.hidden = true;
  replace(els.banner);
}

const ctx: AppContext = {
  token: () => token,
  viewer: () => viewer,
  can: (role) => roles.has(role),
  announce,
  fail(error, target, action) {
    if (target) replace(target, errorNotice(error, action));
    const { code, text } = describeError(error);
    announce(`${action} failed: ${code} — ${text}`, 'error');
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') endSession(error);
    else if (isUnreachable(error)) showBanner(error);
  },
  openPlan: async (planId, options) => {
    // The open plan lives in the address (#plan=<id>): a reload or a shared link shows it again.
    history.replaceState(null, '', `#plan=${encodeURIComponent(planId)}`);
    plans.select(planId);
    await card.open(planId, options);
  },
  refreshOverview: async () => {
    await Promise.all([plans.reload(), chart.reload(), webhooks.reload()]);
    plans.select(card.currentPlanId);
    checkLedgerWitness();
  },
};

const card = new PlanCard(byId('plan-card'), ctx);
const propose = new ProposeForm(byId('propose-section'), ctx);
const plans = new PlansView(byId('plans-section'), ctx, () => {
  byId('propose-section').scrollIntoView({ block: 'start' });
  propose.focus();
});
const chart = new ChartView(byId('chart-section'), ctx);
const playbook = new PlaybooksView(els.dashboard, ctx);
const webhooks = new WebhooksView(els.dashboard, ctx);

function planFromAddress(): string | null {
  const match = /^#plan=([^&]{1,256})$/.exec(location.hash);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** exp of a JWT, read without verifying (display only; the service verifies). */
function tokenExpiry(jwt: string): string | null {
  try {
    const payload = jwt.split('.')[1];
    if (!payload) return null;
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? new Date(json.exp * 1000).toISOString() : null;
  } catch {
    return null;
  }
}

function renderViewer(v: Viewer, jwt: string): void {
  const expiry = tokenExpiry(jwt);
  replace(
    els.viewer,
    'Signed in as ',
    h('strong', { id: 'viewer-sub' }, v.sub),
    ' · tenant ',
    h('code', { id: 'viewer-tenant' }, v.tenantId),
    ' · roles ',
    h('span', { id: 'viewer-roles', class: 'roles' }, ...(v.roles.length ? v.roles.map((r) => h('span', { class: 'chip' }, r)) : [h('span', { class: 'muted' }, 'none')])),
    expiry ? h('span', { class: 'muted small' }, ` · token expires ${relativeTime(expiry)}`) : null,
  );
}

function showTokenForm(error: unknown | null): void {
  els.dashboard.hidden = true;
  els.session.hidden = true;
  els.tokenSection.hidden = false;
  replace(els.tokenError, error ? errorNotice(error, 'Connecting') : null);
  if (error) els.tokenInput.setAttribute('aria-invalid', 'true');
  else els.tokenInput.removeAttribute('aria-invalid');
}

/** Back to the token form (sign out, or the service said UNAUTHENTICATED). */
function endSession(error: unknown | null): void {
  token = null;
  viewer = null;
  roles = new Set();
  storeToken(null);
  card.renderEmpty();
  history.replaceState(null, '', location.pathname + location.search);
  showTokenForm(error);
  els.tokenInput.focus();
}

async function connect(candidate: string | null): Promise<void> {
  if (!candidate) {
    showTokenForm(null);
    return;
  }
  els.dashboard.setAttribute('aria-busy', 'true');
  try {
    const data = await gql<DashboardViewerQuery>(VIEWER, {}, candidate);
    token = candidate;
    storeToken(candidate);
    viewer = data.viewer;
    roles = effectiveRoles(data.viewer.roles);
    hideBanner();
    renderViewer(data.viewer, candidate);
    els.tokenSection.hidden = true;
    els.session.hidden = false;
    els.dashboard.hidden = false;
    els.tokenInput.removeAttribute('aria-invalid');
    propose.updateRoles();
    announce(`Connected as ${data.viewer.sub} (tenant ${data.viewer.tenantId}).`, 'success');
    const fromAddress = card.currentPlanId ? null : planFromAddress();
    await Promise.all([plans.reload(), chart.reload(), playbook.reload(), webhooks.reload(), fromAddress ? card.open(fromAddress) : card.reload()]);
    plans.select(card.currentPlanId);
    checkLedgerWitness();
  } catch (e) {
    if (isUnreachable(e)) {
      // Keep the token: the service may just be restarting. Retry lives in the banner.
      showBanner(e);
      if (!viewer) showTokenForm(e);
    } else {
      storeToken(null);
      token = null;
      showTokenForm(e);
      els.tokenInput.focus();
    }
    const { code, text } = describeError(e);
    announce(`Connecting failed: ${code} — ${text}`, 'error');
  } finally {
    els.dashboard.removeAttribute('aria-busy');
  }
}

els.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = els.tokenInput.value.trim().replace(/^Bearer\s+/i, '');
  if (!value) {
    showTokenForm(new ApiError('UNAUTHENTICATED', 'paste a token first'));
    els.tokenInput.focus();
    return;
  }
  void connect(value);
});

els.signOut.addEventListener('click', () => {
  els.tokenInput.value = '';
  endSession(null);
  announce('Token removed from this tab.', 'info');
});

els.refresh.addEventListener('click', () => void connect(token));

void connect(token);
void offerDevTokens(connect);
