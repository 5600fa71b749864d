import { v4 as uuidv4 } from 'uuid';
import type { Principal } from '../../auth/principal.js';
import type { PlanStatus } from '../../domain/enums.js';
import { AppError, isAppError } from '../../domain/errors.js';
import type { PlanStepV1, RevenuePlanV1 } from '../../domain/plan.js';
import type { GateReason, ReportedReason } from '../../domain/policyGate/gateTypes.js';
import type { AppMetrics } from '../../observability/metrics.js';
import type { Store } from '../../store/index.js';
import { getPlanTypeConfig, type PlanTypeConfig } from '../../domain/planTypeConfig.js';
import type { PlaybookReader } from '../planTypes/PlanTypeCatalog.js';
import { validateForApproval, validateStructure } from '../../domain/policyGate/PlanPolicyGate.js';
import { MAX_EXPIRY_DAYS, parseInput, ReasonSchema, UpdateDraftPlanInputSchema, type UpdateDraftPlanInputParsed } from '../plans/apiInputs.js';
import { activationRefusal, decideActivation, reportActivation, type ActivationVerb, type ActivationVerdict } from '../../domain/activationDecision.js';
import { withStepExplanations } from '../plans/draftStepExplanations.js';
import { canTransition, transitionFor } from '../../domain/lifecycleMatrix.js';
import { EXPIRY_ACTOR, PlanExpiry } from './PlanExpiry.js';

/** A lifecycle mutation's result. Gate refusals are data: ok false, reasons, the plan unchanged. */
export interface TransitionOutcome {
  ok: boolean;
  plan: RevenuePlanV1 | null;
  reasons: GateReason[];
}

/** The actor recorded when the service itself moves a plan (expiry). */
export const SYSTEM_ACTOR = EXPIRY_ACTOR;

interface Deps {
  store: Store;
  /** The tenant's playbook in force: the gate's config and policy (the built-in one when absent). */
  playbooks?: PlaybookReader;
  metrics: AppMetrics;
  /** Expiry on touch; built from the store when not given. */
  expiry?: PlanExpiry;
  clock?: () => Date;
}

/**
 * Owns every plan transition: load (repairing a half-written change), expire on touch, check
 * the matrix, run the gate, then one conditional write with its ledger event.
 */
export class PlanLifecycleService {
  private readonly clock: () => Date;
  private readonly expiry: PlanExpiry;

  constructor(private readonly deps: Deps) {
    this.clock = deps.clock ?? (() => new Date());
    this.expiry = deps.expiry ?? new PlanExpiry({ store: deps.store, clock: this.clock });
  }

  async approve(principal: Principal, planId: string): Promise<TransitionOutcome> {
    const plan = await this.touch(principal, planId);
    this.assertTransition(plan, 'APPROVED', 'approve');
    this.assertNotExpired(plan, 'approved');
    // The version published now, not the one the plan was proposed under: approval applies today's playbook.
    const config = await this.playbook(principal, plan);
    const verdict = validateForApproval(plan, principal.tenantId, { policy: config?.gate_policy, approver_roles: principal.claimedRoles }, config);
    if (!verdict.valid) return this.refuse(plan, verdict.reasons);
    const now = this.clock();
    const used = config === null ? {} : { plan_type_config_version: config.version };
    return this.move(principal, plan, 'APPROVED', { approved_at: now, approved_by: principal.sub }, used);
  }

  async activate(principal: Principal, planId: string, preconditionsMet: boolean): Promise<TransitionOutcome> {
    return this.activateAs('activate', principal, planId, preconditionsMet);
  }

  async resume(principal: Principal, planId: string, preconditionsMet: boolean): Promise<TransitionOutcome> {
    return this.activateAs('resume', principal, planId, preconditionsMet);
  }

  async pause(principal: Principal, planId: string, reason: string | null | undefined): Promise<TransitionOutcome> {
    const checkedReason = reason == null ? null : parseInput(ReasonSchema, reason, 'reason');
    const plan = await this.touch(principal, planId);
    this.assertTransition(plan, 'PAUSED', 'pause');
    return this.move(principal, plan, 'PAUSED', {}, checkedReason ? { reason: checkedReason } : {});
  }

  async abort(principal: Principal, planId: string, reason: string): Promise<TransitionOutcome> {
    const checkedReason = parseInput(ReasonSchema.refine((s) => s.trim().length > 0, 'must not be blank'), reason, 'reason');
    const plan = await this.touch(principal, planId);
    this.assertTransition(plan, 'ABORTED', 'abort');
    return this.move(principal, plan, 'ABORTED', { aborted_at: this.clock() }, { reason: checkedReason });
  }

  /** What activatePlan would do now, as data (the same decision; reads only, expiry on touch aside). */
  async activationCheck(principal: Principal, planId: string, preconditionsMet: boolean): Promise<{ can_activate: boolean; reasons: ReportedReason[] }> {
    const plan = await this.touch(principal, planId);
    return reportActivation(await this.decide('activate', principal, plan, preconditionsMet));
  }

  async updateDraft(principal: Principal, planId: string, rawInput: unknown): Promise<TransitionOutcome> {
    const input = parseInput(UpdateDraftPlanInputSchema, rawInput, 'input');
    const plan = await this.touch(principal, planId);
    if (plan.plan_status !== 'DRAFT') throw new AppError('INVALID_TRANSITION', `only a DRAFT plan can be updated; this plan is ${plan.plan_status}`);
    const now = this.clock();
    if (input.expiresAt) {
      if (input.expiresAt <= now) throw new AppError('BAD_USER_INPUT', 'input.expiresAt must be in the future', { fields: ['input.expiresAt'] });
      if (input.expiresAt.getTime() - now.getTime() > MAX_EXPIRY_DAYS * 86_400_000) {
        throw new AppError('BAD_USER_INPUT', `input.expiresAt must be within ${MAX_EXPIRY_DAYS} days`, { fields: ['input.expiresAt'] });
      }
    }
    const config = await this.playbook(principal, plan);
    const changes = buildDraftChanges(plan, input, config);
    const candidate: RevenuePlanV1 = { ...plan, ...changes };
    const reasons = validateStructure(candidate, config);
    if (reasons.length > 0) return this.refuse(plan, reasons);
    const updated = await this.deps.store.updateDraft({
      tenantId: principal.tenantId,
      planId,
      changes,
      event: { event_type: 'PLAN_UPDATED', actor: principal.sub, data: describeChanges(plan, changes) },
      basedOn: plan,
    });
    return { ok: true, plan: updated, reasons: [] };
  }

  private async playbook(principal: Principal, plan: RevenuePlanV1): Promise<PlanTypeConfig | null> {
    return this.deps.playbooks ? this.deps.playbooks.current(principal.tenantId, plan.plan_type) : getPlanTypeConfig(plan.plan_type);
  }

  /** Loads the plan (NOT_FOUND when absent or another tenant's) and expires it when it is past its time. */
  private async touch(principal: Principal, planId: string): Promise<RevenuePlanV1> {
    const plan = await this.deps.store.getPlanRepaired(principal.tenantId, planId);
    if (!plan) throw new AppError('NOT_FOUND', 'no such plan');
    return this.expiry.expireIfDue(plan, { trigger: 'expired_on_read', touchedBy: principal.sub });
  }

  private assertTransition(plan: RevenuePlanV1, to: PlanStatus, verb: string): void {
    if (!canTransition(plan.plan_status, to)) throw invalidTransition(plan, verb);
  }

  private assertNotExpired(plan: RevenuePlanV1, participle: string): void {
    if (plan.expires_at.getTime() <= this.clock().getTime()) {
      throw new AppError('INVALID_TRANSITION', `the plan expired at ${plan.expires_at.toISOString()} and can no longer be ${participle}`, { expiredAt: plan.expires_at.toISOString() });
    }
  }

  /** activatePlan and resumePlan: the shared decision, then the move (a lifecycle refusal is an error, a gate refusal data). */
  private async activateAs(verb: ActivationVerb, principal: Principal, planId: string, preconditionsMet: boolean): Promise<TransitionOutcome> {
    const plan = await this.touch(principal, planId);
    const verdict = await this.decide(verb, principal, plan, preconditionsMet);
    if (verdict.kind === 'lifecycle') throw new AppError('INVALID_TRANSITION', verdict.refusal.message, verdict.refusal.details);
    if (!verdict.can_activate) return this.refuse(plan, verdict.reasons);
    return this.move(principal, plan, 'ACTIVE', {}, { preconditions_met: true });
  }

  /**
   * decideActivation with the account's ACTIVE plans of the type, each expired first when due:
   * an expired plan gives up its active slot before it could block this one.
   */
  private async decide(verb: ActivationVerb, principal: Principal, plan: RevenuePlanV1, preconditionsMet: boolean): Promise<ActivationVerdict> {
    const now = this.clock();
    const refusal = activationRefusal(verb, plan, now);
    // Ruled out by status or expiry: no need to look at the account's other plans.
    if (refusal) return { kind: 'lifecycle', refusal };
    const ids = await this.deps.store.plans.findActivePlanIds(principal.tenantId, plan.account_id, plan.plan_type);
    const others = (await this.deps.store.plans.getPlans(principal.tenantId, ids.filter((id) => id !== plan.plan_id))).filter((p): p is RevenuePlanV1 => p !== null);
    const current = await this.expiry.expireEachIfDue(others, { trigger: 'expired_on_read', touchedBy: principal.sub });
    const stillActive = [...ids.filter((id) => id === plan.plan_id), ...current.filter((p) => p.plan_status === 'ACTIVE').map((p) => p.plan_id)];
    return decideActivation(verb, { plan, now, tenant_id: principal.tenantId, account_id: plan.account_id, existing_active_plan_ids: stillActive, preconditions_met: preconditionsMet });
  }

  private async move(principal: Principal, plan: RevenuePlanV1, to: PlanStatus, fields: Partial<RevenuePlanV1>, data: Record<string, unknown>): Promise<TransitionOutcome> {
    const transition = transitionFor(plan.plan_status, to);
    /* istanbul ignore next -- callers check canTransition first */
    if (!transition) throw invalidTransition(plan, `move to ${to}`);
    try {
      const updated = await this.deps.store.transition({
        tenantId: principal.tenantId,
        planId: plan.plan_id,
        from: plan.plan_status,
        to,
        fields,
        event: { event_type: transition.event_type, actor: principal.sub, data: { from: plan.plan_status, to, ...data } },
        basedOn: plan,
      });
      return { ok: true, plan: updated, reasons: [] };
    } catch (e) {
      // The store's one-ACTIVE invariant lost a race the gate could not see: same refusal, as data.
      if (isAppError(e) && e.code === 'CONFLICT' && e.details?.reason === 'ACTIVE_PLAN_EXISTS') {
        return this.refuse(plan, [{ code: 'CONFLICT_ACTIVE_PLAN', message: 'another plan for this account and plan type became ACTIVE first' }]);
      }
      throw e;
    }
  }

  private refuse(plan: RevenuePlanV1, reasons: GateReason[]): TransitionOutcome {
    for (const reason of reasons) this.deps.metrics.gateRefusals.inc({ code: reason.code });
    return { ok: false, plan, reasons };
  }
}

function invalidTransition(plan: RevenuePlanV1, verb: string): AppError {
  return new AppError('INVALID_TRANSITION', `cannot ${verb} a plan that is ${plan.plan_status}`, { status: plan.plan_status });
}

type DraftChanges = Partial<Pick<RevenuePlanV1, 'objective' | 'steps' | 'constraints' | 'expires_at'>>;

/**
 * Turns the API's update into plan fields. A step keeps its step_id when its action type was
 * already in the plan (action types are unique within a plan); dependsOn indexes become ids.
 */
function buildDraftChanges(plan: RevenuePlanV1, input: UpdateDraftPlanInputParsed, config: PlanTypeConfig | null): DraftChanges {
  const changes: DraftChanges = {};
  if (input.objective != null) changes.objective = input.objective.trim();
  if (input.constraints != null) changes.constraints = input.constraints;
  if (input.expiresAt != null) changes.expires_at = input.expiresAt;
  if (input.steps != null) {
    const stepsIn = input.steps;
    const existingIds = new Map(plan.steps.map((s) => [s.action_type, s]));
    const assigned = new Map<string, string>();
    const ids = stepsIn.map((s) => {
      const kept = existingIds.get(s.actionType);
      // A repeated action type gets a fresh id, so the gate reports the duplicate by type.
      const id = kept && !assigned.has(s.actionType) ? kept.step_id : uuidv4();
      assigned.set(s.actionType, id);
      return id;
    });
    changes.steps = stepsIn.map((s, i): PlanStepV1 => {
      const dependsOn = s.dependsOn ?? [];
      for (const index of dependsOn) {
        if (index >= stepsIn.length) {
          throw new AppError('BAD_USER_INPUT', `input.steps[${i}].dependsOn: ${index} is not an index of input.steps`, { fields: [`input.steps.${i}.dependsOn`] });
        }
      }
      const kept = existingIds.get(s.actionType);
      return {
        step_id: ids[i] as string,
        action_type: s.actionType,
        status: kept && kept.step_id === ids[i] ? kept.status : 'PENDING',
        sequence: i + 1,
        dependencies: [...new Set(dependsOn.map((index) => ids[index] as string))],
        ...(s.constraints ? { constraints: s.constraints } : {}),
      };
    });
    changes.steps = withStepExplanations(plan, stepsIn, changes.steps, config);
  }
  return changes;
}

/** The PLAN_UPDATED data: which fields changed and their new values, bounded. */
function describeChanges(plan: RevenuePlanV1, changes: DraftChanges): Record<string, unknown> {
  const data: Record<string, unknown> = { changed_fields: Object.keys(changes).sort() };
  if (changes.objective !== undefined) data.objective = { from: plan.objective, to: changes.objective };
  if (changes.steps !== undefined) {
    data.steps = {
      from: plan.steps.map((s) => s.action_type),
      to: changes.steps.map((s) => ({
        step_id: s.step_id,
        action_type: s.action_type,
        dependencies: s.dependencies,
        rationale: s.rationale ?? null,
        evidence: s.evidence ?? [],
        due_at: s.due_at?.toISOString() ?? null,
        owner_role: s.owner_role ?? null,
      })),
    };
  }
  if (changes.constraints !== undefined) data.constraints_keys = Object.keys(changes.constraints).sort().slice(0, 50);
  if (changes.expires_at !== undefined) data.expires_at = { from: plan.expires_at.toISOString(), to: changes.expires_at.toISOString() };
  return data;
}
