import { randomUUID } from 'node:crypto';
import { getPlanTypeConfig } from '../../domain/planTypeConfig.js';
import type { ProposalSource } from '../../domain/enums.js';
import { AppError } from '../../domain/errors.js';
import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';
import { LlmError, type LlmPlanClient } from '../llm/llmPlanClient.js';
import { buildPlanPrompt, PROMPT_VERSION, type PlanPrompt } from '../llm/planPrompt.js';
import { readAccountFacts } from './accountFacts.js';
import { assemblePlan } from './assemblePlan.js';
import type { DroppedEvidence } from './checkEvidence.js';
import { summarizeInput } from './inputSummary.js';
import { collectInputWarnings, type InputWarning } from './inputWarnings.js';
import { remapEvidenceIndexes } from './remapEvidence.js';
import { fillObjectiveTemplate } from './objective.js';
import { buildProposalAudit } from './proposalAudit.js';
import {
  PlanProposalInputSchema,
  type DroppedStep,
  type PlanProposalInput,
  type PlanProposalResult,
  type ProposalDraft,
} from './proposalTypes.js';
import { generateRulesProposal, RULES_VERSION } from './rulesGenerator.js';
import { proposalRejected, sanitizeProposedSteps } from './sanitizeProposal.js';

export interface PlanProposalGeneratorDeps {
  /** null: the deterministic rules generator serves every proposal. */
  llm: LlmPlanClient | null;
  /** What a failed model call leads to: the rules generator, or an error to the caller. */
  fallback: 'rules' | 'error';
  clock?: () => Date;
  newId?: () => string;
}

type ModelOutcome = { used: true; proposal: ProposalDraft } | { used: false; reason: string; error: AppError };

/**
 * Proposes a DRAFT plan (docs/proposals.md, "How a proposal is made"): the model suggests, the sanitizer bounds, this class sets
 * every id, status and date. It never persists and never approves; the caller stores the plan
 * and appends `audit` as the PLAN_CREATED entry.
 *
 * Fallback: without a model, or when the model fails (error, timeout, unusable answer, a
 * misconfigured model), the rules generator serves and fallback_reason says why; with fallback
 * 'error' the caller gets LLM_UNAVAILABLE instead. A model answer that parses but keeps no
 * allowed step is PROPOSAL_REJECTED whatever the fallback says (no step left after
 * sanitizing rejects the proposal): the model did answer, and its answer is refused.
 */
export class PlanProposalGenerator {
  private readonly llm: LlmPlanClient | null;
  private readonly fallback: 'rules' | 'error';
  private readonly clock: () => Date;
  private readonly newId: () => string;

  constructor(deps: PlanProposalGeneratorDeps) {
    this.llm = deps.llm;
    this.fallback = deps.fallback;
    this.clock = deps.clock ?? (() => new Date());
    this.newId = deps.newId ?? randomUUID;
  }

  /** `playbook`: the tenant's config in force for the plan type (the built-in one when not given). */
  async generateProposal(rawInput: PlanProposalInput, playbook?: PlanTypeConfig): Promise<PlanProposalResult> {
    const config = playbook?.plan_type === rawInput.plan_type ? playbook : getPlanTypeConfig(String(rawInput.plan_type));
    if (config === null) {
      throw new AppError('BAD_USER_INPUT', `Unknown plan type ${JSON.stringify(String(rawInput.plan_type)).slice(0, 80)}`);
    }
    const input = parseInput(rawInput);
    const now = this.clock();
    const proposalId = this.newId();
    const facts = readAccountFacts(input, now);
    const inputWarnings = collectInputWarnings(input);

    let source: ProposalSource = 'RULES';
    let proposal: ProposalDraft | null = null;
    let fallbackReason: string | null = null;
    let dropped: DroppedStep[] = [];
    let droppedEvidence: DroppedEvidence[] = [];
    let prompt: PlanPrompt | null = null;
    if (this.llm !== null) {
      prompt = buildPlanPrompt(config, input);
      const outcome = await this.askModel(this.llm, prompt, config, input);
      if (outcome.used) {
        source = 'LLM';
        proposal = outcome.proposal;
        dropped = outcome.proposal.dropped_steps;
        droppedEvidence = outcome.proposal.dropped_evidence;
      } else {
        if (this.fallback === 'error') throw outcome.error;
        fallbackReason = outcome.reason;
      }
    }
    proposal ??= generateRulesProposal(facts, config, input.account_id, now);
    // Input warnings are bounded already; the few truncation warnings (one per context field) always show.
    const warnings = [...inputWarnings, ...truncationWarnings(prompt)];

    const plan = assemblePlan({
      config,
      plan_id: input.plan_id ?? this.newId(),
      tenant_id: input.tenant_id,
      account_id: input.account_id,
      objective:
        proposal.objective || fillObjectiveTemplate(config.objective_template, { account_id: input.account_id, renewal_date: facts.renewal_date }),
      steps: proposal.steps,
      created_by: input.created_by,
      renewal_date: facts.renewal_date,
      now,
      newId: this.newId,
    });
    const audit = buildProposalAudit({
      proposal_id: proposalId,
      plan,
      source,
      model: this.llm?.model ?? null,
      prompt_version: prompt === null ? null : PROMPT_VERSION,
      rules_version: source === 'RULES' ? RULES_VERSION : null,
      input_summary: summarizeInput(input, facts),
      dropped_steps: dropped,
      dropped_evidence: droppedEvidence,
      warnings,
      fallback_reason: fallbackReason,
      prompt_truncated: prompt?.truncated_fields ?? [],
    });
    return {
      plan,
      proposal_id: proposalId,
      source,
      dropped_steps: dropped,
      dropped_evidence: droppedEvidence,
      warnings,
      audit,
      ...(fallbackReason === null ? {} : { fallback_reason: fallbackReason }),
    };
  }

  private async askModel(llm: LlmPlanClient, prompt: PlanPrompt, config: PlanTypeConfig, input: PlanProposalInput): Promise<ModelOutcome> {
    let answer: unknown;
    try {
      answer = await llm.proposeSteps({
        allowed_action_types: config.allowed_step_action_types,
        system_instruction: prompt.system_instruction,
        prompt: prompt.prompt,
      });
    } catch (error) {
      // A client that breaks its contract (throws something else) is handled like a failed call.
      const reason = `llm_${error instanceof LlmError ? error.kind : 'failed'}`;
      return { used: false, reason, error: new AppError('LLM_UNAVAILABLE', 'The language model gave no usable answer', { reason }) };
    }
    const proposal = sanitizeProposedSteps(remapEvidenceIndexes(answer, prompt.shown_indexes), config, input);
    if (proposal.steps.length === 0) throw proposalRejected(proposal.dropped_steps);
    return { used: true, proposal };
  }
}

/** What the model did not see because the context was cut to its budget. */
function truncationWarnings(prompt: PlanPrompt | null): InputWarning[] {
  return (prompt?.truncated_fields ?? []).map((field) => ({
    code: 'TRUNCATED_FOR_MODEL' as const,
    path: field,
    message: `${field} was shortened to fit the model's context budget; the model did not see all of it`,
  }));
}

function parseInput(raw: PlanProposalInput): PlanProposalInput {
  const parsed = PlanProposalInputSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new AppError('BAD_USER_INPUT', `Invalid proposal input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}
