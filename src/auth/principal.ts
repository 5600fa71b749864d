import type { PlanRole } from './roles.js';

/** The authenticated caller, from a verified bearer token. */
export interface Principal {
  /** The token's `sub`: the actor recorded on ledger entries. */
  sub: string;
  tenantId: string;
  /** Role claims as sent (unknown ones included, for policy rules). */
  claimedRoles: readonly string[];
  /** Plan roles in effect, implications applied. */
  roles: ReadonlySet<PlanRole>;
}
