/**
 * The roles the service understands. Proposer, approver and admin include viewer; admin (the
 * tenant's playbooks and webhook endpoints) does not include proposer or approver.
 */
export const PLAN_ROLES = ['plan-viewer', 'plan-proposer', 'plan-approver', 'plan-admin'] as const;
export type PlanRole = (typeof PLAN_ROLES)[number];

const IMPLIES: Readonly<Record<PlanRole, readonly PlanRole[]>> = {
  'plan-viewer': ['plan-viewer'],
  'plan-proposer': ['plan-proposer', 'plan-viewer'],
  'plan-approver': ['plan-approver', 'plan-viewer'],
  'plan-admin': ['plan-admin', 'plan-viewer'],
};

export const isPlanRole = (role: string): role is PlanRole => (PLAN_ROLES as readonly string[]).includes(role);

/** The effective plan roles granted by a token's role claims (unknown roles grant nothing). */
export function effectiveRoles(claimed: readonly string[]): ReadonlySet<PlanRole> {
  const roles = new Set<PlanRole>();
  for (const role of claimed) if (isPlanRole(role)) for (const implied of IMPLIES[role]) roles.add(implied);
  return roles;
}
