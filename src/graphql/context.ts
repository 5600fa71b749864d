import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { PlanRole } from '../auth/roles.js';
import { AppError } from '../domain/errors.js';
import type { AppServices } from '../services/AppServices.js';
import type { RequestLoaders } from './loaders.js';

/** What every resolver receives: who is calling, the services, and per-request loaders. */
export interface GraphQLContext {
  requestId: string;
  logger: Logger;
  /** null when the request carried no valid token; authError says why. */
  principal: Principal | null;
  authError: AppError | null;
  services: AppServices;
  loaders: RequestLoaders;
  /** Aborted when the client closes the request before its answer: long work stops there. */
  signal?: AbortSignal;
  /** Charges the caller that long, waited out before its next request runs (see server/requestGate.ts). */
  paceCaller?: (ms: number) => void;
}

/** The caller, when they hold one of `roles`; otherwise UNAUTHENTICATED or FORBIDDEN. */
export function requireAnyRole(ctx: GraphQLContext, roles: readonly PlanRole[]): Principal {
  if (!ctx.principal) throw ctx.authError ?? new AppError('UNAUTHENTICATED', 'a bearer token is required');
  const principal = ctx.principal;
  if (!roles.some((role) => principal.roles.has(role))) throw new AppError('FORBIDDEN', `this operation needs one of the roles ${roles.join(', ')}`);
  return principal;
}

/** The caller, when they hold `role`; otherwise UNAUTHENTICATED or FORBIDDEN. */
export function requireRole(ctx: GraphQLContext, role: PlanRole): Principal {
  const principal = requirePrincipal(ctx);
  if (!principal.roles.has(role)) throw new AppError('FORBIDDEN', `this operation needs the ${role} role`);
  return principal;
}

/** The caller, whatever their roles; UNAUTHENTICATED without a valid token. */
export function requirePrincipal(ctx: GraphQLContext): Principal {
  if (!ctx.principal) throw ctx.authError ?? new AppError('UNAUTHENTICATED', 'a bearer token is required');
  return ctx.principal;
}
