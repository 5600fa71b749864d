import { v5 as uuidv5 } from 'uuid';

/** Fixed namespace for plan ids derived from (tenant, idempotency key). */
const IDEMPOTENT_PLAN_NAMESPACE = '6f1d3c52-8a0e-4b7e-9a55-2f4c1e0b7d13';

/** The id of the plan a proposal with this idempotency key makes (or made). */
export const idempotentPlanId = (tenantId: string, idempotencyKey: string): string => uuidv5(`${tenantId}\n${idempotencyKey}`, IDEMPOTENT_PLAN_NAMESPACE);
