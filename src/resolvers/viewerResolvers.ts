import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';

export const viewerResolvers: Resolvers = {
  Query: {
    viewer: (_root, _args, ctx) => {
      const principal = requireRole(ctx, 'plan-viewer');
      return { sub: principal.sub, tenantId: principal.tenantId, roles: [...principal.roles].sort() };
    },
  },
};
