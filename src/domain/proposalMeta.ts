import { z } from 'zod';
import { PROPOSAL_SOURCES } from './enums.js';

/** How a plan was proposed (kept with the plan, so a replayed proposal answers the same). */
export const ProposalMetaSchema = z.object({
  proposal_id: z.string().min(1),
  source: z.enum(PROPOSAL_SOURCES),
  dropped_steps: z.array(z.object({ action_type: z.string(), reason: z.string() })),
  idempotency_key: z.string().min(1).optional(),
  /** Fingerprint of the proposing request, so a reused idempotency key with other input is caught. */
  request_hash: z.string().min(1).optional(),
});
export type ProposalMeta = z.infer<typeof ProposalMetaSchema>;
