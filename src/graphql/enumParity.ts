import type * as domain from '../domain/enums.js';
import type { EvidenceSource } from '../domain/plan.js';
import type { ReportedReason } from '../domain/policyGate/gateTypes.js';
import type * as api from '../generated/graphql.js';

// The domain's vocabularies (src/domain/enums.ts: the runtime values zod and the store check)
// and the schema's enums (generated from schema/*.graphql) must be the same sets. The domain may
// not import generated code, so the check lives here: a value added on one side only fails
// `npm run typecheck` on the line of its enum. Adding a value = the SDL and enums.ts.

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export const planTypeMatches: Same<domain.PlanType, api.PlanType> = true;
export const planStatusMatches: Same<domain.PlanStatus, api.PlanStatus> = true;
export const planStepStatusMatches: Same<domain.PlanStepStatus, api.PlanStepStatus> = true;
export const ledgerEventTypeMatches: Same<domain.LedgerEventType, api.LedgerEventType> = true;
/** The gate's codes and INVALID_TRANSITION, which the activation check reports too. */
export const gateReasonCodeMatches: Same<ReportedReason['code'], api.PolicyGateReasonCode> = true;
export const proposalSourceMatches: Same<domain.ProposalSource, api.ProposalSource> = true;
export const evidenceSourceMatches: Same<EvidenceSource, api.EvidenceSource> = true;
